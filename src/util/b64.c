#include "util/b64.h"

#include <openssl/evp.h>
#include <string.h>

int b64_decode_str(const char *in, char *out, size_t outlen)
{
    size_t n = in ? strlen(in) : 0;
    if (n == 0 || n % 4 || (n / 4) * 3 >= outlen)
        return -1;
    int len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)in,
                              (int)n);
    if (len < 0)
        return -1;
    while (n && in[--n] == '=')
        len--;
    out[len] = 0;
    return len;
}
