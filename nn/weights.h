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
nn_code nn_weights_load (const char *path, nn_model **out, nn_error *err);

/* The same from memory; `what` names the source in messages. */
nn_code nn_weights_load_memory (const void *data, size_t size, const char *what,
                             nn_model **out, nn_error *err);

/* Writes the model (all tensors, scaling, metadata) to path atomically:
 * the temporary nn_temp_path (path), fsync, rename. */
nn_code nn_weights_save (const nn_model *m, const char *path, nn_error *err);

/* The temporary a file is written to before it is renamed over path:
 * ".colorize-PID-NAME" in path's folder, NAME path's last component (so
 * savers that choose the format by the extension still work) and PID
 * this process's.  The plug-in's folder procedure names its temporaries
 * the same way (plugin/colorize-dir.h); the trainer removes those whose
 * process is gone (trainer/tmpfile.h).  A malloc'ed string, or NULL
 * when out of memory. */
char *nn_temp_path (const char *path);
#define NN_TEMP_PREFIX ".colorize-"

/* The same into a malloc'ed buffer (for tests); *data freed by the caller. */
nn_code nn_weights_save_memory (const nn_model *m, void **data, size_t *size,
                             nn_error *err);

#endif
