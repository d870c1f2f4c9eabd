/* error.c - error codes and messages. */
#include <stdarg.h>
#include <stdio.h>
#include "error.h"

nn_code
nn_error_set (nn_error *err, nn_code code, const char *fmt, ...)
{
  if (err)
    {
      va_list ap;
      err->code = code;
      va_start (ap, fmt);
      vsnprintf (err->message, sizeof err->message, fmt, ap);
      va_end (ap);
    }
  return code;
}

static const char *const code_names[NN_ERR_COUNT] = {
  [NN_OK] = "ok",
  [NN_ERR_NOMEM] = "out of memory",
  [NN_ERR_ARG] = "bad argument",
  [NN_ERR_IO] = "i/o error",
  [NN_ERR_MAGIC] = "wrong magic",
  [NN_ERR_VERSION] = "unknown version",
  [NN_ERR_ARCH] = "unknown architecture",
  [NN_ERR_MISSING] = "missing tensor",
  [NN_ERR_UNEXPECTED] = "unexpected tensor",
  [NN_ERR_SHAPE] = "wrong shape",
  [NN_ERR_TRUNCATED] = "truncated",
  [NN_ERR_CHECKSUM] = "checksum mismatch",
  [NN_ERR_NONFINITE] = "non-finite value",
  [NN_ERR_OVERFLOW] = "size overflow",
  [NN_ERR_FORMAT] = "malformed",
  [NN_ERR_CANCELLED] = "cancelled",
};

_Static_assert (sizeof code_names / sizeof code_names[0] == NN_ERR_COUNT,
                "code_names out of sync with nn_code");

const char *
nn_code_name (nn_code code)
{
  if ((int) code < 0 || code >= NN_ERR_COUNT || !code_names[code])
    return "unknown error";
  return code_names[code];
}
