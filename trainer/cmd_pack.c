/* cmd_pack.c - colorize-train pack (folders of photos into one pack file)
 * and info SET.pack (format: pack.h).
 *
 * pack decodes every file under each DIR as train does (dataset.h: GEGL +
 * babl, unreadable files named once and counted, near-grayscale ones left
 * out and counted, shrunk to --short-side as int16 Lab), in --threads
 * threads, and writes the records in the folders' sorted order, so the
 * file is the same whatever the thread count.  --full keeps the photos
 * whole as 8-bit R'G'B' (the truth for --val and eval; nothing left out
 * but unreadable files).
 *
 * --variants N (for measurements at scale, tools/pack-bench.sh): every
 * photo N times; variant 0 as it is, variant v > 0 a crop of the cached
 * image to 80-100 % of each side (seeded by the path and v) flipped
 * left-right when v is odd, recorded as "PATH#v".
 */
#include <signal.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include "commands.h"
#include "dataset.h"
#include "image.h"
#include "options.h"
#include "pack.h"
#include "rng.h"
#include "tmpfile.h"

#define PACK_CHUNK 64           /* files per thread decoded ahead */
#define PACK_MAX_DIRS 256

static volatile sig_atomic_t pack_signal;
static volatile int pack_stop;

static void
pack_on_signal (int sig)
{
  pack_signal = sig;
  pack_stop = 1;
}

/* ---- Decoding a chunk of files in threads ------------------------------------- */

typedef struct pack_item {
  unsigned char *enc[PACK_MAX_VARIANTS];
  size_t size[PACK_MAX_VARIANTS];
  int w[PACK_MAX_VARIANTS], h[PACK_MAX_VARIANTS];
  ds_image im;               /* mean_chroma; pixels freed once encoded */
  int gray;
  char *error;               /* unreadable: the reason */
  uint64_t hist[PACK_HBINS][PACK_HBINS];
} pack_item;

typedef struct pack_job {
  char **paths;
  int n;
  const dataset_options *opt;
  pack_kind kind;
  int variants;
  pack_item *items;
  atomic_int next;
} pack_job;

/* Variant v > 0 of a cached image: a seeded crop to 80-100 % of each
 * side, flipped when v is odd (malloc'ed w * h * 3). */
static int16_t *
pack_variant (const ds_image *im, const char *path, int v, int *w, int *h)
{
  uint64_t seed = 1469598103934665603ull;
  for (const char *c = path; *c; c++)
    seed = (seed ^ (unsigned char) *c) * 1099511628211ull;
  nn_rng r;
  nn_rng_seed (&r, seed + (uint64_t) v);
  int cw = (int) (im->w * (0.8 + 0.2 * nn_rng_uniform (&r)));
  int ch = (int) (im->h * (0.8 + 0.2 * nn_rng_uniform (&r)));
  cw = cw < 1 ? 1 : cw;
  ch = ch < 1 ? 1 : ch;
  int x0 = (int) ((im->w - cw) * nn_rng_uniform (&r));
  int y0 = (int) ((im->h - ch) * nn_rng_uniform (&r));
  int16_t *out = malloc ((size_t) cw * ch * 3 * sizeof *out);
  if (!out)
    return NULL;
  for (int y = 0; y < ch; y++)
    for (int x = 0; x < cw; x++)
      {
        int sx = x0 + (v % 2 ? cw - 1 - x : x);
        memcpy (out + ((size_t) y * cw + x) * 3,
                im->lab + ((size_t) (y0 + y) * im->w + sx) * 3,
                3 * sizeof *out);
      }
  *w = cw;
  *h = ch;
  return out;
}

/* Encodes variant v of the loaded image into it (0: the image itself). */
static int
pack_encode_variant (pack_job *job, pack_item *it, const char *path, int v)
{
  ds_image vi = it->im;
  if (v > 0)
    {
      vi.lab = pack_variant (&it->im, path, v, &vi.w, &vi.h);
      if (!vi.lab)
        return -1;
    }
  const void *values = job->kind == PACK_LAB16 ? (const void *) vi.lab
                                               : (const void *) vi.rgb;
  if (job->kind == PACK_LAB16)
    dataset_hist_add (&vi, it->hist);
  int rc = pack_encode (job->kind, values, (uint32_t) vi.w, (uint32_t) vi.h,
                        &it->enc[v], &it->size[v]);
  it->w[v] = vi.w;
  it->h[v] = vi.h;
  if (v > 0)
    free (vi.lab);
  return rc;
}

static void
pack_one (pack_job *job, int i)
{
  pack_item *it = &job->items[i];
  char msg[512];
  memset (it, 0, sizeof *it);
  if (dataset_image_load (job->paths[i], job->opt, &it->im, &it->gray, msg,
                          sizeof msg))
    {
      it->error = strdup (msg);
      return;
    }
  if (it->gray)
    return;
  for (int v = 0; v < job->variants && !it->error; v++)
    if (pack_encode_variant (job, it, job->paths[i], v))
      it->error = strdup ("out of memory while encoding");
  free (it->im.lab);
  free (it->im.rgb);
  it->im.lab = NULL;
  it->im.rgb = NULL;
}

static void *
pack_worker (void *arg)
{
  pack_job *job = arg;
  for (;;)
    {
      if (pack_stop)
        break;
      int i = atomic_fetch_add (&job->next, 1);
      if (i >= job->n)
        break;
      pack_one (job, i);
    }
  return NULL;
}

static void
pack_chunk (pack_job *job, int threads)
{
  atomic_init (&job->next, 0);
  pthread_t th[64];
  int started = 0;
  for (int t = 1; t < threads && t < 64; t++)
    if (pthread_create (&th[started], NULL, pack_worker, job) == 0)
      started++;
  pack_worker (job);
  for (int t = 0; t < started; t++)
    pthread_join (th[t], NULL);
}

/* ---- One folder ------------------------------------------------------------------- */

typedef struct folder_counts {
  int kept, unreadable, gray;
} folder_counts;

typedef struct pack_counts {
  int files, records, unreadable, gray;
  long long stop_after;     /* testing: stop as if interrupted */
  long long done;
  int variants;
} pack_counts;

/* Writes the variants of item it (file path). */
static int
pack_write_item (pack_writer *w, pack_item *it, const char *path,
                 pack_kind kind, int variants, char *msg, size_t len)
{
  for (int v = 0; v < variants; v++)
    {
      char name[4200];
      snprintf (name, sizeof name, v ? "%s#%d" : "%s", path, v);
      if (pack_writer_add (w, it->enc[v], it->size[v], (uint32_t) it->w[v],
                           (uint32_t) it->h[v], name, it->im.mean_chroma,
                           kind == PACK_LAB16 && v == variants - 1
                           ? it->hist : NULL, msg, len))
        return -1;
    }
  return 0;
}

/* Writes the decoded chunk items[0..m) of files paths[0..m) in order,
 * counting them into fc; frees what the items hold. */
static int
pack_write_chunk (pack_writer *w, pack_item *items, int m, char **paths,
                  const dataset_options *opt, pack_kind kind,
                  pack_counts *total, folder_counts *fc, char *msg,
                  size_t len)
{
  int rc = 0;
  for (int i = 0; i < m; i++)
    {
      pack_item *it = &items[i];
      if (!rc && pack_stop)
        {
          snprintf (msg, len, "interrupted");
          rc = -1;
        }
      else if (!rc && it->error)
        {
          fc->unreadable++;
          if (opt->log)
            fprintf (opt->log, "unreadable: %s: %s\n", paths[i], it->error);
        }
      else if (!rc && it->gray)
        fc->gray++;
      else if (!rc)
        {
          rc = pack_write_item (w, it, paths[i], kind, total->variants, msg,
                                len);
          fc->kept++;
          if (total->stop_after && ++total->done >= total->stop_after)
            pack_stop = 1;
        }
      for (int v = 0; v < PACK_MAX_VARIANTS; v++)
        free (it->enc[v]);
      free (it->error);
    }
  return rc;
}

static int
pack_folder (pack_writer *w, const char *dir, const dataset_options *opt,
             pack_kind kind, int threads, pack_counts *total, char *msg,
             size_t len)
{
  char **paths;
  int n;
  if (dataset_scan (dir, &paths, &n, msg, len))
    return -1;
  if (n == 0)
    {
      snprintf (msg, len, "data folder %s contains no files", dir);
      free (paths);
      return -1;
    }
  if (pack_writer_source (w, dir, msg, len))
    {
      dataset_free_paths (paths, n);
      return -1;
    }
  int chunk = PACK_CHUNK * threads, rc = 0;
  folder_counts fc = { 0 };
  pack_item *items = calloc ((size_t) chunk, sizeof *items);
  if (!items)
    {
      snprintf (msg, len, "out of memory");
      rc = -1;
    }
  for (int at = 0; at < n && !rc; at += chunk)
    {
      int m = n - at < chunk ? n - at : chunk;
      memset (items, 0, (size_t) m * sizeof *items);
      pack_job job = { .paths = paths + at, .n = m, .opt = opt, .kind = kind,
                       .variants = total->variants, .items = items };
      pack_chunk (&job, threads);
      rc = pack_write_chunk (w, items, m, paths + at, opt, kind, total, &fc,
                             msg, len);
    }
  free (items);
  if (opt->log && !rc)
    {
      fprintf (opt->log, "%s: %d files, %d images used", dir, n, fc.kept);
      if (fc.unreadable)
        fprintf (opt->log, ", %d left out as unreadable", fc.unreadable);
      if (fc.gray)
        fprintf (opt->log, ", %d left out as near-grayscale (mean chroma "
                 "below %.1f)", fc.gray, (double) opt->gray_threshold);
      fprintf (opt->log, "\n");
    }
  if (!rc && fc.kept == 0)
    {
      snprintf (msg, len, "data folder %s: no usable image among %d files "
                "(%d unreadable, %d near-grayscale)", dir, n, fc.unreadable,
                fc.gray);
      rc = -1;
    }
  if (!rc)
    pack_writer_end_source (w, (uint32_t) n, (uint32_t) fc.unreadable,
                            (uint32_t) fc.gray, (uint32_t) total->variants);
  total->files += n;
  total->records += fc.kept * total->variants;
  total->unreadable += fc.unreadable;
  total->gray += fc.gray;
  dataset_free_paths (paths, n);
  return rc;
}

/* ---- The command ----------------------------------------------------------------- */

typedef struct pack_args {
  char *dirs[PACK_MAX_DIRS];
  int n_dirs;
  const char *out;
  int short_side, threads, full, variants;
  double gray, stop_after;
} pack_args;

#define ARG(f) .at = offsetof (pack_args, f)

static const option pack_options[] = {
  { .name = "--out", .type = OPT_STRING, ARG (out), .meta = "SET.pack",
    .help = "the pack" },
  { .name = "--short-side", .type = OPT_WHOLE, ARG (short_side), .lo = 8,
    .hi = 100000, .meta = "N",
    .help = "photos shrunk to this shorter side (default 160)" },
  { .name = "--gray-threshold", .type = OPT_DOUBLE, ARG (gray), .min = 0.0,
    .max = 100.0, .meta = "C",
    .help = "photos of less mean chroma are left out (default 3)" },
  { .name = "--full", .type = OPT_FLAG, ARG (full),
    .help = "the photos whole as 8-bit R'G'B' (for train --val and eval)" },
  { .name = "--threads", .type = OPT_WHOLE, ARG (threads), .lo = 1, .hi = 64,
    .meta = "N", .help = "decoding threads (default 2)" },
  { .name = "--variants", .type = OPT_WHOLE, ARG (variants), .lo = 1,
    .hi = PACK_MAX_VARIANTS, .meta = "N",
    .help = "every photo N times, re-cropped and flipped (default 1)" },
  /* testing: behave as if interrupted after this many records */
  { .name = "--stop-after", .type = OPT_DOUBLE, ARG (stop_after), .min = 1,
    .max = 1e12 },
};

#undef ARG

static const option_table pack_table = {
  .command = "pack",
  .synopsis = "pack DIR... --out SET.pack [OPTIONS]",
  .opts = pack_options, .n = OPTIONS_COUNT (pack_options),
  .pos_max = PACK_MAX_DIRS, .pos_at = offsetof (pack_args, dirs),
  .pos_count = offsetof (pack_args, n_dirs)
};

/* Fills a from argv: -1 to go on, else the exit status (0: --help). */
static int
pack_parse_args (int argc, char **argv, pack_args *a)
{
  int rc = options_parse (&pack_table, argc, argv, a, NULL);
  if (rc >= 0)
    return rc;
  if (a->full && a->variants > 1)
    {
      fprintf (stderr, "colorize-train pack: --variants is for training "
               "packs, not --full\n");
      return 2;
    }
  if (!a->n_dirs || !a->out)
    {
      fprintf (stderr, "colorize-train pack: %s\n", !a->n_dirs
               ? "give at least one folder of photos" : "--out SET.pack is "
               "required");
      options_usage (&pack_table);
      return 2;
    }
  return -1;
}

int
cmd_pack (int argc, char **argv)
{
  pack_args a = { .short_side = DATASET_DEFAULT_SHORT_SIDE, .threads = 2,
                  .variants = 1,
                  .gray = DATASET_DEFAULT_GRAY_THRESHOLD };
  int prc = pack_parse_args (argc, argv, &a);
  if (prc >= 0)
    return prc;
  pack_kind kind = a.full ? PACK_RGB8 : PACK_LAB16;
  dataset_options opt = { a.full ? DATASET_RGB_FULL : DATASET_LAB_CACHE,
                          a.full ? 0 : a.short_side,
                          a.full ? 0.0f : (float) a.gray,
                          1, stderr, &pack_stop, 0 };
  char msg[1024];
  pack_writer *w;
  tmpfile_remove_stale (a.out, "colorize-train pack");
  if (pack_writer_open (&w, a.out, kind, a.short_side, (float) a.gray, msg,
                        sizeof msg))
    {
      fprintf (stderr, "colorize-train pack: %s\n", msg);
      return 1;
    }
  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = pack_on_signal;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  image_init ();
  pack_counts total = { .stop_after = (long long) a.stop_after, .variants = a.variants };
  int rc = 0;
  for (int i = 0; i < a.n_dirs && !rc; i++)
    rc = pack_folder (w, a.dirs[i], &opt, kind, a.threads, &total, msg,
                      sizeof msg);
  image_exit ();
  if (!rc && pack_stop)
    {
      snprintf (msg, sizeof msg, "interrupted");
      rc = -1;
    }
  if (rc)
    {
      pack_writer_abort (w);
      if (pack_stop)
        {
          fprintf (stderr, "colorize-train pack: interrupted; %s not "
                   "written\n", a.out);
          return pack_signal ? 128 + pack_signal : 130;
        }
      fprintf (stderr, "colorize-train pack: %s\n", msg);
      return 1;
    }
  if (pack_writer_finish (w, msg, sizeof msg))
    {
      fprintf (stderr, "colorize-train pack: %s\n", msg);
      return 1;
    }
  fprintf (stderr, "wrote %s: %d records of %d files (%d unreadable, %d "
           "near-grayscale left out)\n", a.out, total.records, total.files,
           total.unreadable, total.gray);
  return 0;
}

/* ---- info SET.pack ------------------------------------------------------------------ */

static void
pack_print (const pack *p, const char *path)
{
  uint64_t enc = p->index_offset - PACK_HEADER_SIZE, raw = 0;
  for (uint32_t k = 0; k < p->n; k++)
    raw += pack_record_bytes (p, k);
  printf ("file=%s\n", path);
  printf ("kind=%s\n", p->kind == PACK_LAB16 ? "lab16" : "rgb8");
  if (p->kind == PACK_LAB16)
    printf ("short_side=%d\ngray_threshold=%g\n", p->short_side,
            (double) p->gray_threshold);
  printf ("records=%u\nsources=%u\n", p->n, p->n_sources);
  printf ("bytes=%zu\nrecord_bytes=%llu\nindex_bytes=%llu\n", p->size,
          (unsigned long long) enc,
          (unsigned long long) (p->size - p->index_offset));
  printf ("decoded_bytes=%llu\nbytes_per_record=%.0f\nratio=%.3f\n",
          (unsigned long long) raw, (double) enc / p->n,
          raw ? (double) enc / raw : 0.0);
  for (uint32_t s = 0; s < p->n_sources; s++)
    {
      const pack_source *src = &p->sources[s];
      uint64_t b = 0;
      for (uint32_t k = src->first; k < src->first + src->records; k++)
        b += p->records[k].size;
      printf ("source %u: %s: %u files, %u records, %u unreadable, %u "
              "near-grayscale, %llu bytes", s, src->name, src->files,
              src->records, src->unreadable, src->gray,
              (unsigned long long) b);
      if (src->variants > 1)
        printf (", %u variants a photo (re-cropped, flipped)", src->variants);
      printf ("\n");
    }
}

/* Decodes every record: 0 when all check, else 1 (the first error). */
static int
pack_check (const pack *p)
{
  size_t cap = 0;
  void *buf = NULL;
  char msg[1024];
  for (uint32_t k = 0; k < p->n; k++)
    {
      size_t need = pack_record_bytes (p, k);
      if (need > cap)
        {
          free (buf);
          cap = 0;
          if (!(buf = malloc (need)))
            {
              fprintf (stderr, "colorize-train info: out of memory\n");
              return 1;
            }
          cap = need;
        }
      if (pack_read (p, k, buf, msg, sizeof msg))
        {
          fprintf (stderr, "colorize-train info: %s\n", msg);
          free (buf);
          return 1;
        }
    }
  free (buf);
  printf ("check: all %u records decode and match their checksums\n", p->n);
  return 0;
}

typedef struct info_args {
  char *path[1];
  int n_paths, records, check;
} info_args;

static const option info_options[] = {
  { .name = "--records", .type = OPT_FLAG,
    .at = offsetof (info_args, records), .help = "one line per record" },
  { .name = "--check", .type = OPT_FLAG, .at = offsetof (info_args, check),
    .help = "decode every record and check its checksum" },
};

static const option_table info_table = {
  .command = "info",
  .synopsis = "info SET.pack [OPTIONS]",
  .opts = info_options, .n = OPTIONS_COUNT (info_options),
  .pos_max = 1, .pos_at = offsetof (info_args, path),
  .pos_count = offsetof (info_args, n_paths)
};

int
cmd_pack_info (int argc, char **argv)
{
  info_args a = { { NULL }, 0, 0, 0 };
  int status = options_parse (&info_table, argc, argv, &a, NULL);
  if (status >= 0)
    return status;
  const char *path = a.path[0];
  int records = a.records, check = a.check;
  pack p;
  char msg[1024];
  if (!path || pack_open (&p, path, msg, sizeof msg))
    {
      fprintf (stderr, "colorize-train info: %s\n", path ? msg
               : "give a pack file");
      return path ? 1 : 2;
    }
  pack_print (&p, path);
  for (uint32_t k = 0; records && k < p.n; k++)
    printf ("record %u: source %u %ux%u %u bytes at %llu %s\n", k,
            p.records[k].source, p.records[k].w, p.records[k].h,
            p.records[k].size, (unsigned long long) p.records[k].offset,
            p.records[k].path);
  int rc = check ? pack_check (&p) : 0;
  pack_close (&p);
  return rc;
}
