/* weights.h - the weight file: load (validating everything) and save
 * (atomically).  The format is documented byte by byte in weights/FORMAT.md.
 */
#ifndef NN_WEIGHTS_H
#define NN_WEIGHTS_H

#include <stddef.h>
#include "error.h"
#include "model.h"

#define WEIGHTS_MAGIC "CLRZWGT\n"
#define WEIGHTS_VERSION 1u
#define WEIGHTS_MAX_FILE_SIZE (1u << 30)     /* 1 GiB */
#define WEIGHTS_MAX_METADATA (1u << 20)      /* 1 MiB */
#define WEIGHTS_MAX_NAME 63u
#define WEIGHTS_MAX_TENSORS 1024u

/* Reads and validates a weight file into a new model. */
nn_code weights_load (const char *path, nn_model **out, nn_error *err);

/* The same from memory; `what` names the source in messages. */
nn_code weights_load_memory (const void *data, size_t size, const char *what,
                             nn_model **out, nn_error *err);

/* Writes the model (all tensors, scaling, metadata) to path atomically:
 * a temporary file beside it, fsync, rename. */
nn_code weights_save (const nn_model *m, const char *path, nn_error *err);

/* The same into a malloc'ed buffer (for tests); *data freed by the caller. */
nn_code weights_save_memory (const nn_model *m, void **data, size_t *size,
                             nn_error *err);

#endif
