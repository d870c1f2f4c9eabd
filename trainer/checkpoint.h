/* checkpoint.h - the training checkpoint file: what `train` writes every
 * few minutes and on SIGINT/SIGTERM, and `train --resume` reads.
 *
 * Format (little-endian):
 *   "CLRZCKPT" | u32 version (1)
 *   | u32 n | n bytes of "key=value\n" text (at most CHECKPOINT_TEXT_MAX
 *     bytes): train's settings, as options_settings_text (options.h)
 *     writes the keyed entries of train_options (train.c), then its
 *     counters step, elapsed, images, data_hash
 *   | u64 n | n bytes: the model as a weight file (weights/FORMAT.md)
 *   | u32 count (the model's trainable parameters)
 *   | per trainable parameter, in model order: u64 size, size floats of
 *     Adam's m, size floats of Adam's v
 *   | i64 Adam's step
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
#define CHECKPOINT_VERSION 1u
#define CHECKPOINT_TEXT_MAX 65536
#define CHECKPOINT_FNV_SEED 0xcbf29ce484222325ull

/* FNV-1a 64 of n bytes, continuing from h. */
uint64_t checkpoint_fnv1a (uint64_t h, const void *p, size_t n);

/* Writes m, adam and text (NUL-terminated) to path as above.  Returns 0,
 * or -1 with a reason in msg. */
int checkpoint_save (const char *path, const nn_model *m,
                     const adam_state *adam, const char *text, char *msg,
                     size_t len);

/* Reads a checkpoint file: its text (malloc'ed, NUL-terminated), model
 * and Adam state.  Returns 0, or -1 with a reason in msg that names the
 * file and what is wrong (not a checkpoint, damaged: checksum, truncated,
 * a part of the wrong size). */
int checkpoint_load (const char *path, char **text, nn_model **model,
                     adam_state **adam, char *msg, size_t len);

/* The same from n bytes in memory; `what` names them in messages.  Every
 * field is checked before it is used, whatever the checksum says; a file
 * whose checksum does not match is refused as damaged. */
int checkpoint_parse (const unsigned char *data, size_t n, const char *what,
                      char **text, nn_model **model, adam_state **adam,
                      char *msg, size_t len);

#endif
