/* trainset.c - train's data: folders and packs (see trainset.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "checkpoint.h"
#include "rng.h"
#include "trainset.h"

/* ---- Opening ---------------------------------------------------------------- */

int
trainset_is_file (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISREG (st.st_mode);
}

int
trainset_parse_spec (const char *spec, char **path, double *weight, char *msg,
                     size_t len)
{
  *weight = 0;
  const char *colon = strrchr (spec, ':');
  struct stat st;
  /* "a:b" that exists as a whole is a path, whatever follows the colon. */
  if (colon && colon[1] && stat (spec, &st))
    {
      char *end;
      errno = 0;
      double w = strtod (colon + 1, &end);
      if (*end || errno || !isfinite (w) || w <= 0 || w > 1e6)
        {
          snprintf (msg, len, "--data %s: the weight after ':' must be a "
                    "number in (0, 1e6], got '%s'", spec, colon + 1);
          return -1;
        }
      *weight = w;
      *path = strndup (spec, (size_t) (colon - spec));
    }
  else
    *path = strdup (spec);
  if (!*path)
    {
      snprintf (msg, len, "out of memory");
      return -1;
    }
  return 0;
}

static int
open_pack (trainset_source *s, dataset_options *opt, int *adopt, char *msg,
           size_t len)
{
  if (pack_open (&s->pk, s->path, msg, len))
    {
      if (strstr (msg, "wrong magic") || strstr (msg, "too short"))
        snprintf (msg, len, "data %s: not a folder, and not a colorize pack",
                  s->path);
      return -1;
    }
  s->is_pack = 1;
  const pack *p = &s->pk;
  if (p->kind != PACK_LAB16)
    {
      snprintf (msg, len, "%s holds full photos (pack --full), for --val and "
                "eval; training needs a pack made without --full", s->path);
      return -1;
    }
  if (*adopt)
    {
      opt->short_side = p->short_side;
      opt->gray_threshold = p->gray_threshold;
      *adopt = 0;
    }
  if (p->short_side != opt->short_side
      || p->gray_threshold != opt->gray_threshold)
    {
      snprintf (msg, len, "%s was packed at shorter side %d, grey threshold "
                "%g; this run uses --cache-size %d --gray-threshold %g (give "
                "the pack's values, or pack again)", s->path, p->short_side,
                (double) p->gray_threshold, opt->short_side,
                (double) opt->gray_threshold);
      return -1;
    }
  if (p->n > INT32_MAX / 2)
    {
      snprintf (msg, len, "%s: %u records, at most %d", s->path, p->n,
                INT32_MAX / 2);
      return -1;
    }
  s->n = (int) p->n;
  for (uint32_t i = 0; i < p->n_sources; i++)
    {
      s->files += (int) p->sources[i].files;
      s->unreadable += (int) p->sources[i].unreadable;
      s->gray += (int) p->sources[i].gray;
    }
  if (opt->log)
    {
      fprintf (opt->log, "%s: %d records of %d files from", s->path, s->n,
               s->files);
      for (uint32_t i = 0; i < p->n_sources; i++)
        fprintf (opt->log, " %s", p->sources[i].name);
      fprintf (opt->log, " (%d left out as unreadable, %d as near-grayscale), "
               "packed at shorter side %d\n", s->unreadable, s->gray,
               p->short_side);
    }
  return 0;
}

/* q_s = N w_s / sum w, rounded by largest remainders. */
static void
set_quotas (trainset *ts)
{
  double wsum = 0;
  for (int i = 0; i < ts->n_sources; i++)
    wsum += ts->src[i].weight;
  int given = 0;
  double rem[TRAINSET_MAX_SOURCES];
  for (int i = 0; i < ts->n_sources; i++)
    {
      double q = (double) ts->n * ts->src[i].weight / wsum;
      ts->src[i].quota = (int) floor (q);
      rem[i] = q - floor (q);
      given += ts->src[i].quota;
    }
  while (given < ts->n)
    {
      int best = 0;
      for (int i = 1; i < ts->n_sources; i++)
        if (rem[i] > rem[best])
          best = i;
      ts->src[best].quota++;
      rem[best] = -1;
      given++;
    }
}

static void
compute_hash (trainset *ts)
{
  uint64_t h = CHECKPOINT_FNV_SEED;
  for (int i = 0; i < ts->n_sources; i++)
    {
      const trainset_source *s = &ts->src[i];
      for (int k = 0; k < s->n; k++)
        {
          const char *p = s->is_pack ? s->pk.records[k].path
                                     : s->ds.images[k].path;
          h = checkpoint_fnv1a (h, p, strlen (p) + 1);
        }
    }
  for (int i = 0; ts->weighted && i < ts->n_sources; i++)
    {
      uint32_t q = (uint32_t) ts->src[i].quota;
      h = checkpoint_fnv1a (h, &q, sizeof q);
    }
  ts->hash = h;
}

static int
open_sources (trainset *ts, char *const *specs, int n_specs,
              dataset_options *opt, int adopt, char *msg, size_t len)
{
  int with_weight = 0;
  for (int i = 0; i < n_specs; i++)
    {
      trainset_source *s = &ts->src[ts->n_sources++];
      if (trainset_parse_spec (specs[i], &s->path, &s->weight, msg, len))
        return -1;
      with_weight += s->weight > 0;
    }
  if (with_weight && with_weight != n_specs)
    {
      snprintf (msg, len, "--data: give a weight (PATH:W) to every source or "
                "to none (%d of %d have one)", with_weight, n_specs);
      return -1;
    }
  /* Packs first: they may set the cache size the folders are loaded at. */
  for (int i = 0; i < ts->n_sources; i++)
    if (trainset_is_file (ts->src[i].path)
        && open_pack (&ts->src[i], opt, &adopt, msg, len))
      return -1;
  for (int i = 0; i < ts->n_sources; i++)
    {
      trainset_source *s = &ts->src[i];
      if (s->is_pack)
        continue;
      if (dataset_load (&s->ds, s->path, opt, msg, len))
        return -1;
      s->n = s->ds.n;
      s->files = s->ds.n_files;
      s->unreadable = s->ds.n_unreadable;
      s->gray = s->ds.n_gray;
    }
  ts->weighted = with_weight && n_specs > 1;
  return 0;
}

int
trainset_open (trainset *ts, char *const *specs, int n_specs,
               dataset_options *opt, int adopt, char *msg, size_t len)
{
  memset (ts, 0, sizeof *ts);
  atomic_init (&ts->reads, 0);
  atomic_init (&ts->read_bytes, 0);
  if (n_specs < 1 || n_specs > TRAINSET_MAX_SOURCES)
    {
      snprintf (msg, len, "--data: 1 to %d sources, got %d",
                TRAINSET_MAX_SOURCES, n_specs);
      return -1;
    }
  if (open_sources (ts, specs, n_specs, opt, adopt, msg, len))
    {
      trainset_close (ts);
      return -1;
    }
  long long total = 0;
  for (int i = 0; i < ts->n_sources; i++)
    {
      trainset_source *s = &ts->src[i];
      s->first = (int) total;
      total += s->n;
      ts->files += s->files;
      ts->unreadable += s->unreadable;
      ts->gray += s->gray;
    }
  if (total > INT32_MAX / 2)
    {
      snprintf (msg, len, "--data: %lld images in all, at most %d", total,
                INT32_MAX / 2);
      trainset_close (ts);
      return -1;
    }
  ts->n = (int) total;
  if (ts->weighted)
    {
      set_quotas (ts);
      for (int i = 0; opt->log && i < ts->n_sources; i++)
        fprintf (opt->log, "%s: weight %g: %d of the %d samples of an epoch "
                 "(each image %.2f times)\n", ts->src[i].path,
                 ts->src[i].weight, ts->src[i].quota, ts->n,
                 (double) ts->src[i].quota / ts->src[i].n);
    }
  compute_hash (ts);
  return 0;
}

void
trainset_close (trainset *ts)
{
  for (int i = 0; i < ts->n_sources; i++)
    {
      trainset_source *s = &ts->src[i];
      if (s->is_pack)
        pack_close (&s->pk);
      else
        dataset_free (&s->ds);
      free (s->path);
    }
  ts->n_sources = 0;
}

void
trainset_weights_build (const trainset *ts, double uniform, dataset_weights *out)
{
  double hist[DATASET_WBINS][DATASET_WBINS] = { { 0 } };
  _Static_assert (DATASET_WBINS == PACK_HBINS, "one a,b grid");
  for (int i = 0; i < ts->n_sources; i++)
    {
      const trainset_source *s = &ts->src[i];
      uint64_t c[DATASET_WBINS][DATASET_WBINS] = { { 0 } };
      for (int k = 0; !s->is_pack && k < s->n; k++)
        dataset_hist_add (&s->ds.images[k], c);
      for (uint32_t k = 0; s->is_pack && k < s->pk.n_sources; k++)
        for (int a = 0; a < DATASET_WBINS; a++)
          for (int b = 0; b < DATASET_WBINS; b++)
            c[a][b] += s->pk.sources[k].hist[a][b];
      double f = ts->weighted ? (double) s->quota / s->n : 1.0;
      for (int a = 0; a < DATASET_WBINS; a++)
        for (int b = 0; b < DATASET_WBINS; b++)
          hist[a][b] += (double) c[a][b] * f;
    }
  dataset_weights_from_hist (hist, uniform, out);
}

/* ---- The order ----------------------------------------------------------------- */

typedef struct source_perms {
  int *perm[2];
  int64_t epoch[2];
  int next;
} source_perms;

struct trainset_cursor {
  trainset *ts;
  int *perm;               /* unweighted: the epoch's permutation */
  int64_t perm_epoch;
  int *label, *rank;       /* weighted: the epoch's slots */
  int64_t slot_epoch;
  source_perms sp[TRAINSET_MAX_SOURCES];
  int16_t *buf;            /* a decoded record */
  size_t buf_size;
};

trainset_cursor *
trainset_cursor_new (trainset *ts)
{
  trainset_cursor *c = calloc (1, sizeof *c);
  if (!c)
    return NULL;
  c->ts = ts;
  c->perm_epoch = c->slot_epoch = -1;
  int bad = 0;
  if (!ts->weighted)
    bad = !(c->perm = malloc ((size_t) ts->n * sizeof *c->perm));
  else
    {
      bad = !(c->label = malloc ((size_t) ts->n * sizeof *c->label))
            || !(c->rank = malloc ((size_t) ts->n * sizeof *c->rank));
      for (int i = 0; i < ts->n_sources && !bad; i++)
        for (int j = 0; j < 2 && !bad; j++)
          {
            c->sp[i].epoch[j] = -1;
            bad = !(c->sp[i].perm[j] = malloc ((size_t) ts->src[i].n
                                               * sizeof (int)));
          }
    }
  if (bad)
    {
      trainset_cursor_free (c);
      return NULL;
    }
  return c;
}

void
trainset_cursor_free (trainset_cursor *c)
{
  if (!c)
    return;
  free (c->perm);
  free (c->label);
  free (c->rank);
  for (int i = 0; i < TRAINSET_MAX_SOURCES; i++)
    for (int j = 0; j < 2; j++)
      free (c->sp[i].perm[j]);
  free (c->buf);
  free (c);
}

static uint64_t
mix (uint64_t a, uint64_t b)
{
  uint64_t z = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* The slots of weighted epoch e: a seeded shuffle of the source labels,
 * and each slot's rank among its source's slots. */
static void
make_slots (trainset_cursor *c, uint64_t seed, int64_t e)
{
  const trainset *ts = c->ts;
  int n = ts->n, at = 0, count[TRAINSET_MAX_SOURCES] = { 0 };
  for (int s = 0; s < ts->n_sources; s++)
    for (int q = 0; q < ts->src[s].quota; q++)
      c->label[at++] = s;
  nn_rng r;
  nn_rng_seed (&r, mix (seed, 0x51075000ull + (uint64_t) e));
  for (int i = n - 1; i > 0; i--)
    {
      int j = (int) nn_rng_below (&r, (uint64_t) i + 1);
      int t = c->label[i];
      c->label[i] = c->label[j];
      c->label[j] = t;
    }
  for (int i = 0; i < n; i++)
    c->rank[i] = count[c->label[i]]++;
  c->slot_epoch = e;
}

/* Record d of source s's endless sequence of permutations. */
static int
source_draw (trainset_cursor *c, uint64_t seed, int s, uint64_t d)
{
  source_perms *sp = &c->sp[s];
  int n = c->ts->src[s].n;
  int64_t e = (int64_t) (d / (uint64_t) n);
  int j = sp->epoch[0] == e ? 0 : sp->epoch[1] == e ? 1 : -1;
  if (j < 0)
    {
      j = sp->next;
      sp->next ^= 1;
    }
  return dataset_order (n, mix (seed, 0x50c0000ull + (uint64_t) s), d,
                        sp->perm[j], &sp->epoch[j]);
}

void
trainset_pick (trainset_cursor *c, uint64_t seed, uint64_t k, int *source,
               int *record)
{
  const trainset *ts = c->ts;
  if (!ts->weighted)
    {
      int g = dataset_order (ts->n, seed, k, c->perm, &c->perm_epoch);
      int s = 0;
      while (s + 1 < ts->n_sources && g >= ts->src[s + 1].first)
        s++;
      *source = s;
      *record = g - ts->src[s].first;
      return;
    }
  int64_t e = (int64_t) (k / (uint64_t) ts->n);
  if (c->slot_epoch != e)
    make_slots (c, seed, e);
  int slot = (int) (k % (uint64_t) ts->n);
  int s = c->label[slot];
  uint64_t d = (uint64_t) e * (uint64_t) ts->src[s].quota
               + (uint64_t) c->rank[slot];
  *source = s;
  *record = source_draw (c, seed, s, d);
}

/* ---- Samples ------------------------------------------------------------------- */

int
trainset_sample (trainset_cursor *c, uint64_t seed, uint64_t k, int crop,
                 const nn_scaling *sc, const dataset_weights *wt, float *input,
                 float *target, float *weights, char *msg, size_t len)
{
  trainset *ts = c->ts;
  int s, rec;
  trainset_pick (c, seed, k, &s, &rec);
  const trainset_source *src = &ts->src[s];
  if (!src->is_pack)
    {
      if (dataset_sample_image (&src->ds.images[rec], seed, k, crop, sc, wt,
                                input, target, weights))
        {
          snprintf (msg, len, "out of memory making sample %llu",
                    (unsigned long long) k);
          return -1;
        }
      return 0;
    }
  size_t need = pack_record_bytes (&src->pk, (uint32_t) rec);
  if (need > c->buf_size)
    {
      free (c->buf);
      c->buf_size = 0;
      if (!(c->buf = malloc (need)))
        {
          snprintf (msg, len, "out of memory for record %d of %s", rec,
                    src->path);
          return -1;
        }
      c->buf_size = need;
    }
  if (pack_read (&src->pk, (uint32_t) rec, c->buf, msg, len))
    return -1;
  atomic_fetch_add (&ts->reads, 1);
  atomic_fetch_add (&ts->read_bytes, (long long) src->pk.records[rec].size);
  if (ts->trace)
    fprintf (ts->trace, "%llu %d %d\n", (unsigned long long) k, s, rec);
  const pack_record *r = &src->pk.records[rec];
  ds_image im = { .w = (int) r->w, .h = (int) r->h, .lab = c->buf };
  if (dataset_sample_image (&im, seed, k, crop, sc, wt, input, target,
                            weights))
    {
      snprintf (msg, len, "out of memory making sample %llu",
                (unsigned long long) k);
      return -1;
    }
  return 0;
}

/* ---- Full photos ----------------------------------------------------------------- */

int
trainset_load_full (dataset *ds, const char *path, const dataset_options *opt,
                    char *msg, size_t len)
{
  if (!trainset_is_file (path))
    return dataset_load (ds, path, opt, msg, len);
  memset (ds, 0, sizeof *ds);
  pack p;
  if (pack_open (&p, path, msg, len))
    return -1;
  if (p.kind != PACK_RGB8)
    {
      snprintf (msg, len, "%s holds training records (CIE Lab, shorter side "
                "%d, near-grey photos left out); validation and eval compare "
                "with the photos whole: make a pack of them with pack --full",
                path, p.short_side);
      pack_close (&p);
      return -1;
    }
  ds->images = calloc (p.n, sizeof *ds->images);
  int rc = ds->images ? 0 : -1;
  if (rc)
    snprintf (msg, len, "out of memory for %u images", p.n);
  for (uint32_t k = 0; k < p.n && !rc; k++)
    {
      ds_image *im = &ds->images[k];
      im->w = (int) p.records[k].w;
      im->h = (int) p.records[k].h;
      im->mean_chroma = p.records[k].mean_chroma;
      im->rgb = malloc (pack_record_bytes (&p, k));
      im->path = strdup (p.records[k].path);
      ds->n++;
      if (!im->rgb || !im->path)
        {
          snprintf (msg, len, "out of memory for %u images", p.n);
          rc = -1;
        }
      else
        rc = pack_read (&p, k, im->rgb, msg, len);
    }
  for (uint32_t i = 0; i < p.n_sources; i++)
    {
      ds->n_files += (int) p.sources[i].files;
      ds->n_unreadable += (int) p.sources[i].unreadable;
    }
  if (opt->log && !rc)
    fprintf (opt->log, "%s: %d full photos of %d files\n", path, ds->n,
             ds->n_files);
  pack_close (&p);
  if (rc)
    dataset_free (ds);
  return rc;
}
