/* error.h - error codes and messages of the nn core.
 *
 * Every fallible function of nn/ returns an nn_code (NN_OK = 0) and, when
 * given a non-NULL nn_error, fills it with the code and a human-readable
 * message that names the problem (file, expected vs found).  Library code
 * never prints, never exits and never aborts.
 */
#ifndef NN_ERROR_H
#define NN_ERROR_H

#include <stddef.h>

typedef enum nn_code {
  NN_OK = 0,
  NN_ERR_NOMEM,         /* an allocation failed */
  NN_ERR_ARG,           /* a bad argument (size, shape, option) */
  NN_ERR_IO,            /* open/read/write/rename failed (errno text in message) */
  NN_ERR_MAGIC,         /* weight file: wrong magic */
  NN_ERR_VERSION,       /* weight file: unknown format version */
  NN_ERR_ARCH,          /* weight file: unknown architecture */
  NN_ERR_MISSING,       /* weight file: a tensor the architecture needs is absent */
  NN_ERR_UNEXPECTED,    /* weight file: a tensor the architecture does not have */
  NN_ERR_SHAPE,         /* weight file: a tensor has the wrong shape */
  NN_ERR_TRUNCATED,     /* weight file: ends before its contents do */
  NN_ERR_CHECKSUM,      /* weight file: checksum mismatch */
  NN_ERR_NONFINITE,     /* weight file: NaN or infinity in a tensor or constant */
  NN_ERR_OVERFLOW,      /* weight file: a size that overflows or exceeds a limit */
  NN_ERR_FORMAT,        /* weight file: other malformed content (bad name, trailing bytes) */
  NN_ERR_CANCELLED,     /* the caller's cancel flag or progress callback stopped the work */
  NN_ERR_COUNT
} nn_code;

#define NN_ERROR_MESSAGE_LEN 512

typedef struct nn_error {
  nn_code code;
  char message[NN_ERROR_MESSAGE_LEN];
} nn_error;

/* Sets err (when non-NULL) and returns code. printf-style message. */
nn_code nn_error_set (nn_error *err, nn_code code, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* A short constant name for a code, e.g. "truncated". */
const char *nn_code_name (nn_code code);

#endif
