/* trainset.h - train's data: folders and packs (pack.h), one or several,
 * with per-source weights (issue 14).
 *
 * `train --data A [B ...]`: each source is a folder (loaded and cached in
 * memory as dataset.h does) or a pack (mapped; a record is decoded by the
 * worker thread that makes a sample from it, so resident memory does not
 * grow with the number of photos).  The records of all sources, in the
 * order given, are one list of N images.
 *
 * Order.  Without weights, global sample k is image dataset_order (N, seed,
 * k): each epoch of N samples is a seeded permutation of the list, exactly
 * as for one folder; a pack of a folder gives the folder's samples, bit
 * for bit.
 *
 * Weights (`--data faces.pack:0.3 scenes.pack:1`, given for every source):
 * an epoch still has N samples, and source s takes q_s of them, N * w_s /
 * sum w rounded (largest remainders), whatever its size, so a large source
 * does not drown the others.  Epoch e is a seeded shuffle of the N slot
 * labels (q_s slots labelled s); the slot that is the r-th of source s in
 * epoch e draws that source's (e * q_s + r)-th record in its own endless
 * sequence of seeded permutations (dataset_order over its n_s records), so
 * a source's records are used evenly however often it is drawn.  The
 * rare-colour weights count each source's pixels q_s / n_s times.  Both
 * orders are functions of (seed, k) alone: any process or thread can make
 * any sample, and an MPI rank reads only the records of its share.
 *
 * The data hash that checkpoints keep: FNV-1a over every image's path
 * (with its NUL), in order (for one folder what train always kept, and
 * the same for a pack of it); with weights then each source's q_s.
 */
#ifndef TRAINER_TRAINSET_H
#define TRAINER_TRAINSET_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include "dataset.h"
#include "pack.h"

#define TRAINSET_MAX_SOURCES 64

typedef struct trainset_source {
  char *path;              /* the folder or pack, without ":W" */
  double weight;           /* given weight, or 0 */
  int is_pack;
  dataset ds;              /* a folder */
  pack pk;                 /* a pack */
  int n;                   /* images */
  int first;               /* its first index in the list */
  int quota;               /* samples per epoch (weighted) */
  int files, unreadable, gray;
} trainset_source;

typedef struct trainset {
  int n_sources;
  trainset_source src[TRAINSET_MAX_SOURCES];
  int n;                   /* images of all sources: samples per epoch */
  int weighted;
  int files, unreadable, gray;
  uint64_t hash;
  atomic_llong reads, read_bytes;  /* records decoded from packs */
  FILE *trace;             /* testing: one line per record read, or NULL */
} trainset;

/* Splits "PATH:W" (W a positive number) into path and weight (0 when
 * none).  Returns 0, or -1 with a message when W is given but bad. */
int trainset_parse_spec (const char *spec, char **path, double *weight,
                         char *msg, size_t len);

/* Opens every source (specs as given to --data).  opt is as for
 * dataset_load (DATASET_LAB_CACHE); packs must have been made with
 * opt->short_side and opt->gray_threshold, unless adopt is set: then the
 * first pack's values are written into opt and used for the rest.
 * Returns 0, or -1 with a message (no weight or a weight for every source,
 * a pack of full photos, differing settings, the errors of dataset_load
 * and pack_open). */
int trainset_open (trainset *ts, char *const *specs, int n_specs,
                   dataset_options *opt, int adopt, char *msg, size_t len);
void trainset_close (trainset *ts);

/* The rare-colour weights of the whole set (dataset_weights_from_hist over
 * the histograms of its folders and packs). */
void trainset_weights_build (const trainset *ts, double uniform,
                             dataset_weights *out);

/* Per-thread state for trainset_sample. */
typedef struct trainset_cursor trainset_cursor;
trainset_cursor *trainset_cursor_new (trainset *ts);
void trainset_cursor_free (trainset_cursor *c);

/* Global sample k (dataset_sample's outputs).  Returns 0, or -1 with a
 * message (a damaged record, out of memory). */
int trainset_sample (trainset_cursor *c, uint64_t seed, uint64_t k, int crop,
                     const nn_scaling *sc, const dataset_weights *wt,
                     float *input, float *target, float *weights, char *msg,
                     size_t len);

/* Which source and record global sample k is. */
void trainset_pick (trainset_cursor *c, uint64_t seed, uint64_t k,
                    int *source, int *record);

/* dataset_load in DATASET_RGB_FULL mode from a folder or from a pack of
 * full photos (pack --full): for --val and eval. */
int trainset_load_full (dataset *ds, const char *path,
                        const dataset_options *opt, char *msg, size_t len);

/* 1 when path is a regular file (then it must be a pack), else 0. */
int trainset_is_file (const char *path);

#endif
