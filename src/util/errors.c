/* Maps kedge error codes and errno values to text. */
#include "util/errors.h"

#include <stdlib.h>
#include <string.h>

const char *ke_strerror(int err)
{
    if (err < 0)
        err = -err;
    switch (err) {
    case KE_CONFLICT: return "revision conflict";
    case KE_EXISTS: return "already exists";
    case KE_NOTFOUND: return "not found";
    case KE_EXPIRED: return "revision too old";
    case KE_INVALID: return "invalid input";
    case KE_PARSE: return "malformed input";
    case KE_TOOBIG: return "input too large";
    case KE_CORRUPT: return "corrupt data";
    case KE_UNSUPPORTED: return "not supported";
    default: return strerror(err);
    }
}
