/* Base64 (standard alphabet, padded), as Secret data is encoded. */
#ifndef KEDGE_UTIL_B64_H
#define KEDGE_UTIL_B64_H

#include <stddef.h>

/* Decodes the NUL-terminated in into out (NUL-terminated); returns the
 * decoded length, or -1 when in is not base64 or out is too small. */
int b64_decode_str(const char *in, char *out, size_t outlen);

#endif
