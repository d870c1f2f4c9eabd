/* dataset.h - folders of photos for training and evaluation.
 *
 * A folder is read recursively (hidden entries skipped, symbolic links to
 * files followed, paths sorted so that every run sees the same order);
 * every regular file goes through image_load ().  Files GEGL cannot load
 * are named once on the log and counted.
 *
 * Training images (DATASET_LAB_CACHE) are kept in memory shrunk so that
 * their shorter side is at most `short_side` (default 160; never
 * enlarged), as CIE Lab quantized to int16 (L * 300, a and b * 200:
 * steps of 0.0033 and 0.005, far below what 8-bit sRGB resolves).  Images
 * whose mean chroma sqrt(a^2 + b^2), measured at full resolution, is below
 * `gray_threshold` (default 3.0 CIE units, --gray-threshold) are left out
 * as near-grayscale.  Measured on ../shared/data/train (1580 photos): 33
 * have exactly 0 (black-and-white photos stored as RGB), 9 lie in 0.5..2
 * and 14 in 2..3 (nearly monochrome objects and animals), 66 in 3..5 and
 * 1458 above 5; the default leaves out 56, the photos that would teach
 * the network grey.
 *
 * Evaluation images (DATASET_RGB_FULL) are kept whole, as "R'G'B' u8":
 * the 8-bit truth that PSNR and colorfulness compare against.
 */
#ifndef TRAINER_DATASET_H
#define TRAINER_DATASET_H

#include <stdint.h>
#include <stdio.h>
#include "model.h"

#define DATASET_L_Q 300.0f
#define DATASET_AB_Q 200.0f
#define DATASET_DEFAULT_SHORT_SIDE 160
#define DATASET_DEFAULT_GRAY_THRESHOLD 3.0f

typedef enum dataset_mode {
  DATASET_LAB_CACHE = 0,
  DATASET_RGB_FULL = 1
} dataset_mode;

typedef struct ds_image {
  int w, h;
  int16_t *lab;          /* DATASET_LAB_CACHE: w * h * 3 quantized */
  unsigned char *rgb;    /* DATASET_RGB_FULL: w * h * 3 */
  char *path;
  float mean_chroma;     /* at full resolution */
} ds_image;

typedef struct dataset {
  int n;                 /* images kept */
  ds_image *images;
  int n_files;           /* files found */
  int n_unreadable;
  int n_gray;
} dataset;

typedef struct dataset_options {
  dataset_mode mode;
  int short_side;        /* DATASET_LAB_CACHE */
  float gray_threshold;  /* DATASET_LAB_CACHE; <= 0 keeps every image */
  int threads;           /* loader threads, >= 1 */
  FILE *log;             /* unreadable files and counts; may be NULL */
  const volatile int *cancel; /* may be NULL */
  int max_files;         /* > 0: only that many of the files, evenly spaced
                            through the sorted list (a sample of every
                            source); 0: all */
} dataset_options;

/* Lists the regular files under dir (recursively), sorted.  Returns 0, or
 * -1 with a message when dir is missing, not a folder, or unreadable. */
int dataset_scan (const char *dir, char ***paths, int *n, char *msg,
                  size_t msg_len);
void dataset_free_paths (char **paths, int n);

/* Loads every image under dir.  Returns 0, or -1 with a message (folder
 * missing, no files, no usable image, cancelled). */
int dataset_load (dataset *ds, const char *dir, const dataset_options *opt,
                  char *msg, size_t msg_len);
void dataset_free (dataset *ds);

/* One file as dataset_load keeps it (opt->mode, short_side,
 * gray_threshold): returns 0 with im filled (path NULL), or with *gray set
 * (near-grayscale: only im->mean_chroma is set), or -1 with the reason the
 * file is unreadable. */
int dataset_image_load (const char *path, const dataset_options *opt,
                        ds_image *im, int *gray, char *msg, size_t msg_len);

/* The cached image as float CIE Lab (w * h * 3), malloc'ed. */
float *dataset_lab (const ds_image *im);

/* Rare-colour weights for the "weighted" and the class loss (after
 * Zhang, Isola and Efros 2016, class rebalancing): the a,b histogram of
 * the cached training pixels in 10x10 bins over -110..110, smoothed
 * (Gaussian, sigma one bin), mixed with a uniform distribution over the
 * occupied bins, the uniform's share `uniform` (their lambda: 0.5, train
 * --rebalance; 1 gives every bin the same weight); the weight of a bin is
 * the inverse of that mixture, normalized so that the mean weight over
 * the training pixels is 1. */
#define DATASET_WBINS 22
typedef struct dataset_weights {
  float w[DATASET_WBINS][DATASET_WBINS];
} dataset_weights;

/* Built in two parts: the pixel counts of one cached image added to hist,
 * and the weights of a histogram (counts, or counts scaled by how often a
 * source is drawn; trainset_weights_build does both for a training set). */
void dataset_hist_add (const ds_image *im,
                       uint64_t hist[DATASET_WBINS][DATASET_WBINS]);
void dataset_weights_from_hist (const double hist[DATASET_WBINS][DATASET_WBINS],
                                double uniform, dataset_weights *out);
float dataset_weight_of (const dataset_weights *t, float a, float b);

/* One training sample: a random resized crop (area 30% to 100% of the
 * image, aspect ratio 3/4 to 4/3 log-uniform, up to 10 tries, then the
 * largest centred square) resampled to crop x crop, flipped left-right
 * with probability 1/2.  Its randomness comes only from (seed, sample),
 * so a batch can be made by any thread in any order.  Writes the raw
 * network input (crop * crop), the raw target (2 planes of crop * crop)
 * and, when weights is non-NULL, per-element loss weights (2 planes). */
int dataset_sample (const dataset *ds, int image, uint64_t seed,
                    uint64_t sample, int crop, const nn_scaling *sc,
                    const dataset_weights *wt, float *input, float *target,
                    float *weights);
/* The same from a cached image held elsewhere (a pack's record). */
int dataset_sample_image (const ds_image *im, uint64_t seed, uint64_t sample,
                          int crop, const nn_scaling *sc,
                          const dataset_weights *wt, float *input,
                          float *target, float *weights);

/* The image index of global sample k in a seeded order: epoch k / n is a
 * permutation of the n images (Fisher-Yates from (seed, epoch)).  perm is
 * the caller's scratch of n ints, *perm_epoch its tag (start with -1). */
int dataset_order (int n, uint64_t seed, uint64_t k, int *perm,
                   int64_t *perm_epoch);

#endif
