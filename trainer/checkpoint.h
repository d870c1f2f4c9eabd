/* checkpoint.h - the training checkpoint file: what `train` writes every
 * few minutes and on SIGINT/SIGTERM, and `train --resume` reads.
 *
 * Format (little-endian):
 *   "CLRZCKPT" | u32 version (2; 1 is read: no extra part)
 *   | u32 n | n bytes of "key=value\n" text (at most CHECKPOINT_TEXT_MAX
 *     bytes): train's settings, as options_settings_text (options.h)
 *     writes the keyed entries of train_options (train.c), then its
 *     counters step, elapsed, images, data_hash
 *   | u64 n | n bytes: the model as a weight file (weights/FORMAT.md)
 *   | u32 count (the model's trainable parameters)
 *   | per trainable parameter, in model order: u64 size, size floats of
 *     Adam's m, size floats of Adam's v
 *   | i64 Adam's step
 *   | (version 2) u64 n | n bytes: the extra part, the adversarial term's
 *     state (nn/adversarial.h), 0 bytes without the term
 *   | u64 FNV-1a 64 (seed CHECKPOINT_FNV_SEED) of every byte before it.
 *
 * Written to PATH.tmp, fsync'ed, then renamed over PATH: a kill leaves
 * either the old checkpoint or the new one, never half of one.
 */
#ifndef TRAINER_CHECKPOINT_H
#define TRAINER_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include "adam.h"
#include "model.h"

#define CHECKPOINT_MAGIC "CLRZCKPT"
#define CHECKPOINT_VERSION 2u
#define CHECKPOINT_TEXT_MAX 65536
#define CHECKPOINT_FNV_SEED 0xcbf29ce484222325ull

/* FNV-1a 64 of n bytes, continuing from h. */
uint64_t checkpoint_fnv1a (uint64_t h, const void *p, size_t n);

/* The extra part (checkpoint_save's to write, checkpoint_load's malloc'ed
 * copy, data NULL when size is 0). */
typedef struct checkpoint_extra {
  void *data;
  size_t size;
} checkpoint_extra;

/* Writes m, adam, text (NUL-terminated) and extra (NULL: none) to path as
 * above.  Returns 0, or -1 with a reason in msg. */
int checkpoint_save (const char *path, const nn_model *m,
                     const adam_state *adam, const checkpoint_extra *extra,
                     const char *text, char *msg, size_t len);

/* Reads a checkpoint file: its text (malloc'ed, NUL-terminated), model,
 * Adam state and extra part.  Returns 0, or -1 with a reason in msg that names the
 * file and what is wrong (not a checkpoint, damaged: checksum, truncated,
 * a part of the wrong size). */
int checkpoint_load (const char *path, char **text, nn_model **model,
                     adam_state **adam, checkpoint_extra *extra, char *msg,
                     size_t len);

/* The same from n bytes in memory; `what` names them in messages.  Every
 * field is checked before it is used, whatever the checksum says; a file
 * whose checksum does not match is refused as damaged. */
int checkpoint_parse (const unsigned char *data, size_t n, const char *what,
                      char **text, nn_model **model, adam_state **adam,
                      checkpoint_extra *extra, char *msg, size_t len);

#endif
