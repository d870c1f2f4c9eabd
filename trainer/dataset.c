/* dataset.c - folders of photos (see dataset.h). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "accuracy.h"
#include "colorize.h"
#include "dataset.h"
#include "image.h"
#include "rng.h"

#define SCAN_MAX_DEPTH 32

/* ---- Listing files ------------------------------------------------------- */

typedef struct path_list {
  char **v;
  int n, cap;
} path_list;

static int
path_list_add (path_list *l, const char *p)
{
  if (l->n == l->cap)
    {
      int cap = l->cap ? l->cap * 2 : 256;
      char **v = realloc (l->v, (size_t) cap * sizeof *v);
      if (!v)
        return -1;
      l->v = v;
      l->cap = cap;
    }
  if (!(l->v[l->n] = strdup (p)))
    return -1;
  l->n++;
  return 0;
}

static int
scan_dir (const char *dir, int depth, path_list *out, char *msg,
          size_t msg_len)
{
  DIR *d = opendir (dir);
  if (!d)
    {
      snprintf (msg, msg_len, "cannot read folder %s: %s", dir,
                strerror (errno));
      return -1;
    }
  struct dirent *e;
  int rc = 0;
  while (!rc && (e = readdir (d)))
    {
      if (e->d_name[0] == '.')
        continue;
      size_t len = strlen (dir) + strlen (e->d_name) + 2;
      char *p = malloc (len);
      if (!p)
        {
          snprintf (msg, msg_len, "out of memory");
          rc = -1;
          break;
        }
      snprintf (p, len, "%s/%s", dir, e->d_name);
      struct stat st, lst;
      if (stat (p, &st) == 0)
        {
          if (S_ISDIR (st.st_mode))
            {
              /* Follow real folders only: a linked folder could loop. */
              if (lstat (p, &lst) == 0 && S_ISDIR (lst.st_mode)
                  && depth < SCAN_MAX_DEPTH)
                rc = scan_dir (p, depth + 1, out, msg, msg_len);
            }
          else if (S_ISREG (st.st_mode) && path_list_add (out, p))
            {
              snprintf (msg, msg_len, "out of memory");
              rc = -1;
            }
        }
      free (p);
    }
  closedir (d);
  return rc;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
dataset_scan (const char *dir, char ***paths, int *n, char *msg,
              size_t msg_len)
{
  struct stat st;
  if (stat (dir, &st))
    {
      snprintf (msg, msg_len, "data folder %s: %s", dir, strerror (errno));
      return -1;
    }
  if (!S_ISDIR (st.st_mode))
    {
      snprintf (msg, msg_len, "data folder %s: not a folder", dir);
      return -1;
    }
  path_list l = { 0 };
  /* Drop a trailing slash so that names read "dir/file". */
  char *root = strdup (dir);
  if (!root)
    {
      snprintf (msg, msg_len, "out of memory");
      return -1;
    }
  size_t rl = strlen (root);
  while (rl > 1 && root[rl - 1] == '/')
    root[--rl] = '\0';
  int rc = scan_dir (root, 0, &l, msg, msg_len);
  free (root);
  if (rc)
    {
      dataset_free_paths (l.v, l.n);
      return -1;
    }
  if (l.n > 1)
    qsort (l.v, (size_t) l.n, sizeof *l.v, cmp_str);
  *paths = l.v;
  *n = l.n;
  return 0;
}

void
dataset_free_paths (char **paths, int n)
{
  for (int i = 0; i < n; i++)
    free (paths[i]);
  free (paths);
}

/* ---- Loading -------------------------------------------------------------- */

typedef struct load_job {
  char **paths;
  int n;
  const dataset_options *opt;
  ds_image *out;
  char **errors;          /* per file: reason it is unreadable, or NULL */
  int *gray;              /* per file: 1 when near-grayscale */
  atomic_int next;
  atomic_int done;
} load_job;

int
dataset_image_load (const char *path, const dataset_options *opt,
                    ds_image *im, int *gray, char *msg, size_t msg_len)
{
  int w, h;
  memset (im, 0, sizeof *im);
  *gray = 0;
  if (opt->mode == DATASET_RGB_FULL)
    {
      unsigned char *rgb = image_load (path, "R'G'B' u8", &w, &h, msg,
                                       msg_len);
      if (!rgb)
        return -1;
      im->w = w;
      im->h = h;
      im->rgb = rgb;
      return 0;
    }
  float *lab = image_load (path, "CIE Lab float", &w, &h, msg, msg_len);
  if (!lab)
    return -1;
  size_t n = (size_t) w * h;
  double chroma = 0.0;
  for (size_t p = 0; p < n; p++)
    chroma += hypotf (lab[p * 3 + 1], lab[p * 3 + 2]);
  im->mean_chroma = (float) (chroma / n);
  if (opt->gray_threshold > 0.0f && im->mean_chroma < opt->gray_threshold)
    {
      *gray = 1;
      free (lab);
      return 0;
    }
  int shorter = w < h ? w : h;
  int cw = w, ch = h;
  float *small = lab;
  if (opt->short_side > 0 && shorter > opt->short_side)
    {
      double f = (double) opt->short_side / shorter;
      cw = w <= h ? opt->short_side : (int) lround (w * f);
      ch = h < w ? opt->short_side : (int) lround (h * f);
      small = malloc ((size_t) cw * ch * 3 * sizeof *small);
      int bad = !small;
      for (int c = 0; c < 3 && !bad; c++)
        bad = nn_colorize_resample_region (lab + c, w, h, 3, 0, 0, w, h,
                                        small + c, cw, ch, 3, NULL) != NN_OK;
      if (bad)
        {
          snprintf (msg, msg_len, "out of memory while shrinking");
          free (small);
          free (lab);
          return -1;
        }
      free (lab);
    }
  int16_t *q = malloc ((size_t) cw * ch * 3 * sizeof *q);
  if (!q)
    {
      snprintf (msg, msg_len, "out of memory");
      free (small);
      return -1;
    }
  for (size_t p = 0; p < (size_t) cw * ch; p++)
    {
      float v[3] = { small[p * 3] * DATASET_L_Q, small[p * 3 + 1] * DATASET_AB_Q,
                     small[p * 3 + 2] * DATASET_AB_Q };
      for (int c = 0; c < 3; c++)
        {
          float r = roundf (v[c]);
          q[p * 3 + c] = (int16_t) (r > 32767.f ? 32767.f
                                    : r < -32767.f ? -32767.f : r);
        }
    }
  free (small);
  im->w = cw;
  im->h = ch;
  im->lab = q;
  return 0;
}

static void
load_one (load_job *job, int i)
{
  char msg[512];
  if (dataset_image_load (job->paths[i], job->opt, &job->out[i],
                          &job->gray[i], msg, sizeof msg))
    job->errors[i] = strdup (msg);
}

static void *
load_worker (void *arg)
{
  load_job *job = arg;
  for (;;)
    {
      if (job->opt->cancel && *job->opt->cancel)
        break;
      int i = atomic_fetch_add (&job->next, 1);
      if (i >= job->n)
        break;
      load_one (job, i);
      atomic_fetch_add (&job->done, 1);
    }
  return NULL;
}

int
dataset_load (dataset *ds, const char *dir, const dataset_options *opt,
              char *msg, size_t msg_len)
{
  memset (ds, 0, sizeof *ds);
  char **paths;
  int n;
  if (dataset_scan (dir, &paths, &n, msg, msg_len))
    return -1;
  if (n == 0)
    {
      snprintf (msg, msg_len, "data folder %s contains no files", dir);
      free (paths);
      return -1;
    }
  if (opt->max_files > 0 && opt->max_files < n)
    {
      int keep = opt->max_files;     /* files k * n / keep, k < keep */
      char **kept = malloc ((size_t) keep * sizeof *kept);
      if (!kept)
        {
          snprintf (msg, msg_len, "out of memory for %d files", n);
          dataset_free_paths (paths, n);
          return -1;
        }
      int k = 0;
      for (int i = 0; i < n; i++)
        if (k < keep && (long long) k * n / keep == i)
          kept[k++] = paths[i];
        else
          free (paths[i]);
      free (paths);
      paths = kept;
      n = k;
    }
  load_job job = { .paths = paths, .n = n, .opt = opt };
  job.out = calloc ((size_t) n, sizeof *job.out);
  job.errors = calloc ((size_t) n, sizeof *job.errors);
  job.gray = calloc ((size_t) n, sizeof *job.gray);
  if (!job.out || !job.errors || !job.gray)
    {
      snprintf (msg, msg_len, "out of memory for %d files", n);
      free (job.out);
      free (job.errors);
      free (job.gray);
      dataset_free_paths (paths, n);
      return -1;
    }
  atomic_init (&job.next, 0);
  atomic_init (&job.done, 0);
  int nt = opt->threads < 1 ? 1 : opt->threads > 64 ? 64 : opt->threads;
  pthread_t th[64];
  int started = 0;
  for (int t = 1; t < nt; t++)
    if (pthread_create (&th[started], NULL, load_worker, &job) == 0)
      started++;
  load_worker (&job);
  for (int t = 0; t < started; t++)
    pthread_join (th[t], NULL);

  int cancelled = opt->cancel && *opt->cancel;
  ds->n_files = n;
  for (int i = 0; i < n; i++)
    {
      if (job.errors[i])
        {
          ds->n_unreadable++;
          if (opt->log)
            fprintf (opt->log, "unreadable: %s: %s\n", paths[i], job.errors[i]);
          free (job.errors[i]);
        }
      else if (job.gray[i])
        ds->n_gray++;
      else if (job.out[i].lab || job.out[i].rgb)
        {
          job.out[i].path = paths[i];
          paths[i] = NULL;
          job.out[ds->n++] = job.out[i];
        }
    }
  ds->images = job.out;
  free (job.errors);
  free (job.gray);
  dataset_free_paths (paths, n);
  if (opt->log)
    {
      fprintf (opt->log, "%s: %d files, %d images used", dir, n, ds->n);
      if (ds->n_unreadable)
        fprintf (opt->log, ", %d left out as unreadable", ds->n_unreadable);
      if (ds->n_gray)
        fprintf (opt->log, ", %d left out as near-grayscale (mean chroma "
                 "below %.1f)", ds->n_gray, (double) opt->gray_threshold);
      fprintf (opt->log, "\n");
    }
  if (cancelled)
    {
      snprintf (msg, msg_len, "interrupted while loading %s", dir);
      dataset_free (ds);
      return -1;
    }
  if (ds->n == 0)
    {
      snprintf (msg, msg_len, "data folder %s: no usable image among %d "
                "files (%d unreadable, %d near-grayscale)", dir, n,
                ds->n_unreadable, ds->n_gray);
      dataset_free (ds);
      return -1;
    }
  return 0;
}

void
dataset_free (dataset *ds)
{
  if (!ds->images)
    return;
  for (int i = 0; i < ds->n; i++)
    {
      free (ds->images[i].lab);
      free (ds->images[i].rgb);
      free (ds->images[i].path);
    }
  free (ds->images);
  memset (ds, 0, sizeof *ds);
}

float *
dataset_lab (const ds_image *im)
{
  size_t n = (size_t) im->w * im->h;
  float *lab = malloc (n * 3 * sizeof *lab);
  if (!lab)
    return NULL;
  for (size_t p = 0; p < n; p++)
    {
      lab[p * 3] = im->lab[p * 3] / DATASET_L_Q;
      lab[p * 3 + 1] = im->lab[p * 3 + 1] / DATASET_AB_Q;
      lab[p * 3 + 2] = im->lab[p * 3 + 2] / DATASET_AB_Q;
    }
  return lab;
}

/* ---- Rare-colour weights ---------------------------------------------------- */

/* The a,b bins are those of accuracy.h's rebalanced accuracy. */
_Static_assert (DATASET_WBINS == ACCURACY_AB_BINS, "one a,b grid");

void
dataset_hist_add (const ds_image *im,
                  uint64_t hist[DATASET_WBINS][DATASET_WBINS])
{
  for (size_t p = 0; p < (size_t) im->w * im->h; p++)
    {
      float a = im->lab[p * 3 + 1] / DATASET_AB_Q;
      float b = im->lab[p * 3 + 2] / DATASET_AB_Q;
      hist[accuracy_ab_bin (a)][accuracy_ab_bin (b)]++;
    }
}

void
dataset_weights_from_hist (const double hist[DATASET_WBINS][DATASET_WBINS],
                           double uniform, dataset_weights *out)
{
  double total = 0.0;
  for (int i = 0; i < DATASET_WBINS; i++)
    for (int j = 0; j < DATASET_WBINS; j++)
      total += hist[i][j];
  /* Gaussian smoothing, sigma 1 bin, kernel radius 3. */
  double k[7], ks = 0.0;
  for (int d = -3; d <= 3; d++)
    ks += k[d + 3] = exp (-0.5 * d * d);
  double tmp[DATASET_WBINS][DATASET_WBINS], p[DATASET_WBINS][DATASET_WBINS];
  for (int i = 0; i < DATASET_WBINS; i++)
    for (int j = 0; j < DATASET_WBINS; j++)
      {
        double s = 0.0;
        for (int d = -3; d <= 3; d++)
          if (j + d >= 0 && j + d < DATASET_WBINS)
            s += k[d + 3] * hist[i][j + d];
        tmp[i][j] = s / ks;
      }
  int occupied = 0;
  for (int i = 0; i < DATASET_WBINS; i++)
    for (int j = 0; j < DATASET_WBINS; j++)
      {
        double s = 0.0;
        for (int d = -3; d <= 3; d++)
          if (i + d >= 0 && i + d < DATASET_WBINS)
            s += k[d + 3] * tmp[i + d][j];
        p[i][j] = total > 0 ? s / ks / total : 0.0;
        occupied += hist[i][j] > 0;
      }
  if (occupied == 0)
    occupied = 1;
  double mean = 0.0;
  for (int i = 0; i < DATASET_WBINS; i++)
    for (int j = 0; j < DATASET_WBINS; j++)
      {
        double w = 1.0 / ((1.0 - uniform) * p[i][j] + uniform / occupied);
        out->w[i][j] = (float) w;
        mean += total > 0 ? hist[i][j] / total * w : 0.0;
      }
  if (!(mean > 0.0))
    mean = 1.0;
  for (int i = 0; i < DATASET_WBINS; i++)
    for (int j = 0; j < DATASET_WBINS; j++)
      out->w[i][j] = (float) (out->w[i][j] / mean);
}

float
dataset_weight_of (const dataset_weights *t, float a, float b)
{
  return t->w[accuracy_ab_bin (a)][accuracy_ab_bin (b)];
}

/* ---- Samples -------------------------------------------------------------- */

static uint64_t
mix64 (uint64_t a, uint64_t b)
{
  uint64_t z = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

int
dataset_order (int n, uint64_t seed, uint64_t k, int *perm,
               int64_t *perm_epoch)
{
  int64_t epoch = (int64_t) (k / (uint64_t) n);
  if (*perm_epoch != epoch)
    {
      nn_rng r;
      nn_rng_seed (&r, mix64 (seed, 0x5eed0000ull + (uint64_t) epoch));
      for (int i = 0; i < n; i++)
        perm[i] = i;
      for (int i = n - 1; i > 0; i--)
        {
          int j = (int) nn_rng_below (&r, (uint64_t) i + 1);
          int t = perm[i];
          perm[i] = perm[j];
          perm[j] = t;
        }
      *perm_epoch = epoch;
    }
  return perm[k % (uint64_t) n];
}

int
dataset_sample (const dataset *ds, int image, uint64_t seed, uint64_t sample,
                int crop, const nn_scaling *sc, const dataset_weights *wt,
                float *input, float *target, float *weights)
{
  return dataset_sample_image (&ds->images[image], seed, sample, crop, sc, wt,
                               input, target, weights);
}

int
dataset_sample_image (const ds_image *im, uint64_t seed, uint64_t sample,
                      int crop, const nn_scaling *sc,
                      const dataset_weights *wt, float *input, float *target,
                      float *weights)
{
  nn_rng r;
  nn_rng_seed (&r, mix64 (seed, sample));
  double W = im->w, H = im->h;
  double x0 = 0, y0 = 0, rw = 0, rh = 0;
  int found = 0;
  for (int t = 0; t < 10 && !found; t++)
    {
      double area = W * H * (0.3 + 0.7 * nn_rng_uniform (&r));
      double ratio = exp (log (3.0 / 4.0) + nn_rng_uniform (&r) * log (16.0 / 9.0));
      rw = sqrt (area * ratio);
      rh = sqrt (area / ratio);
      if (rw <= W && rh <= H)
        {
          x0 = nn_rng_uniform (&r) * (W - rw);
          y0 = nn_rng_uniform (&r) * (H - rh);
          found = 1;
        }
    }
  if (!found)
    {
      rw = rh = W < H ? W : H;
      x0 = (W - rw) / 2;
      y0 = (H - rh) / 2;
    }
  int flip = nn_rng_uniform (&r) < 0.5;
  float *lab = dataset_lab (im);
  float *out = malloc ((size_t) crop * crop * 3 * sizeof *out);
  if (!lab || !out)
    {
      free (lab);
      free (out);
      return -1;
    }
  for (int c = 0; c < 3; c++)
    if (nn_colorize_resample_region (lab + c, im->w, im->h, 3, x0, y0, rw, rh,
                                  out + c, crop, crop, 3, NULL) != NN_OK)
      {
        free (lab);
        free (out);
        return -1;
      }
  size_t plane = (size_t) crop * crop;
  for (int y = 0; y < crop; y++)
    for (int x = 0; x < crop; x++)
      {
        const float *p = out + ((size_t) y * crop + (flip ? crop - 1 - x : x)) * 3;
        size_t o = (size_t) y * crop + x;
        input[o] = (p[0] - sc->l_offset) / sc->l_scale;
        target[o] = p[1] / sc->ab_scale;
        target[plane + o] = p[2] / sc->ab_scale;
        if (weights)
          {
            float w = wt ? dataset_weight_of (wt, p[1], p[2]) : 1.0f;
            weights[o] = w;
            weights[plane + o] = w;
          }
      }
  free (lab);
  free (out);
  return 0;
}
