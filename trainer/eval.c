/* eval.c - colorize-train eval: the pipeline's figures on a folder.
 *
 * Every image GEGL can load under --data is evaluated as metrics.h
 * describes (unreadable files are named and left out; near-grayscale
 * images are kept: eval measures what a user would get).  One line per
 * image (its figures, ending with auc_raw=XX.XX auc_rebal=XX.XX over the
 * image's own a,b bins), then, as the last line, the means:
 *   images=N psnr=XX.XX gray_psnr=XX.XX colorfulness=XX.XX
 *   truth_colorfulness=XX.XX local_gain=X.XXX auc_raw=XX.XX
 *   auc_rebal=XX.XX gray_auc_raw=XX.XX gray_auc_rebal=XX.XX
 * (one line; the auc figures are those of the whole set, its a,b bins
 * counted over all images, not means over images).  PSNR of identical
 * images is infinite and printed "inf".
 *
 * --csv writes the per-image figures; --sheet a contact sheet PNG of the
 * first --sheet-rows images (default 16): a header naming the columns
 * grayscale | colorized | original, then per image a label (file name,
 * psnr, gray psnr, local gain) and the three pictures, each shrunk to
 * fit 240 x 160.
 *
 * --hints DIR: an image's colour hints come from DIR/<its name without
 * extension>.png when that exists (hintfile.h); the figures then measure
 * the network with the hints.  How many images had hints goes to stderr.
 * The sheet then has five columns: grayscale | hints (painted over the
 * grayscale) | without hints | with hints | original.  --hints-only
 * evaluates the hints without a network (no --weights; a photo without
 * hints comes out grey; the sheet keeps three columns).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "colorize.h"
#include "head.h"
#include "commands.h"
#include "dataset.h"
#include "metrics.h"
#include "font.h"
#include "hintfile.h"
#include "image.h"
#include "options.h"
#include "trainset.h"
#include "weights.h"


#define CELL_W 240
#define CELL_H 160
#define PAD 6
#define LABEL_H (FONT_H + 4)

/* ---- Contact sheet ---------------------------------------------------------- */

typedef struct sheet {
  int w, h, cols;
  unsigned char *px; /* R'G'B' u8 */
} sheet;

static void
sheet_text (sheet *s, int x, int y, const char *text, unsigned char grey)
{
  for (; *text; text++, x += FONT_W)
    {
      int c = (unsigned char) *text;
      if (c < 32 || c > 126)
        c = '?';
      const unsigned char *g = font_glyphs[c - 32];
      for (int r = 0; r < FONT_H; r++)
        for (int b = 0; b < FONT_W; b++)
          if (g[r] >> (FONT_W - 1 - b) & 1)
            {
              int px = x + b, py = y + r;
              if (px >= 0 && px < s->w && py >= 0 && py < s->h)
                memset (s->px + ((size_t) py * s->w + px) * 3, grey, 3);
            }
    }
}

/* Draws an 8-bit RGB image shrunk to fit CELL_W x CELL_H, centred in the
 * cell whose top-left corner is (x, y). */
static int
sheet_image (sheet *s, int x, int y, const unsigned char *rgb, int w, int h)
{
  double f = fmin ((double) CELL_W / w, (double) CELL_H / h);
  if (f > 1.0)
    f = 1.0;
  int dw = (int) lround (w * f), dh = (int) lround (h * f);
  if (dw < 1)
    dw = 1;
  if (dh < 1)
    dh = 1;
  size_t n = (size_t) w * h;
  float *src = malloc (n * 3 * sizeof *src);
  float *dst = malloc ((size_t) dw * dh * 3 * sizeof *dst);
  if (!src || !dst)
    {
      free (src);
      free (dst);
      return -1;
    }
  for (size_t i = 0; i < n * 3; i++)
    src[i] = rgb[i];
  for (int c = 0; c < 3; c++)
    nn_colorize_resample_region (src + c, w, h, 3, 0, 0, w, h, dst + c, dw, dh,
                              3, NULL);
  int ox = x + (CELL_W - dw) / 2, oy = y + (CELL_H - dh) / 2;
  for (int j = 0; j < dh; j++)
    for (int i = 0; i < dw; i++)
      for (int c = 0; c < 3; c++)
        {
          float v = roundf (dst[((size_t) j * dw + i) * 3 + c]);
          s->px[((size_t) (oy + j) * s->w + ox + i) * 3 + c]
            = (unsigned char) (v < 0 ? 0 : v > 255 ? 255 : v);
        }
  free (src);
  free (dst);
  return 0;
}

static const char *
base_name (const char *path)
{
  const char *s = strrchr (path, '/');
  return s ? s + 1 : path;
}

/* A sheet of n_rows rows under a header naming its n_cols columns: 3
 * (grayscale | colorized | original) or, with hints, 5 (grayscale |
 * hints | without hints | with hints | original).  -1 when out of memory. */
static int
sheet_new (sheet *sh, int n_rows, int n_cols)
{
  static const char *plain[3] = { "grayscale", "colorized", "original" };
  static const char *hinted[5] = { "grayscale", "hints", "without hints",
                                   "with hints", "original" };
  const char **titles = n_cols == 5 ? hinted : plain;
  sh->cols = n_cols;
  sh->w = PAD + n_cols * (CELL_W + PAD);
  sh->h = PAD + LABEL_H + n_rows * (LABEL_H + CELL_H + PAD);
  sh->px = malloc ((size_t) sh->w * sh->h * 3);
  if (!sh->px)
    return -1;
  memset (sh->px, 235, (size_t) sh->w * sh->h * 3);
  for (int c = 0; c < n_cols; c++)
    sheet_text (sh, PAD + c * (CELL_W + PAD)
                      + (CELL_W - (int) strlen (titles[c]) * FONT_W) / 2,
                PAD, titles[c], 0);
  return 0;
}

/* The grayscale with every hint pixel painted in its a,b (at the truth's
 * lightness), malloc'ed. */
static unsigned char *
hints_picture (const ds_image *im, const unsigned char *gray,
               const colorize_options *opt)
{
  size_t n = (size_t) im->w * im->h;
  unsigned char *rgb = malloc (n * 3);
  if (!rgb)
    return NULL;
  memcpy (rgb, gray, n * 3);
  for (size_t k = 0; k < opt->n_hints; k++)
    {
      const nn_hint *p = &opt->hints[k];
      size_t i = (size_t) p->y * im->w + p->x;
      float lab[3];
      unsigned char c[3];
      image_convert (im->rgb + i * 3, "R'G'B' u8", lab, "CIE Lab float", 1);
      lab[1] = p->a;
      lab[2] = p->b;
      image_lab_to_rgb_u8 (lab, 3, c, 1);
      for (int j = 0; j < 3; j++)
        rgb[i * 3 + j] = (unsigned char) (p->alpha * c[j]
                                          + (1.0f - p->alpha) * rgb[i * 3 + j]
                                          + 0.5f);
    }
  return rgb;
}

/* Row i of the sheet: a label and the pictures.  With a model `plain_m`
 * (eval --hints) the hints and the result without them are added. */
static nn_code
sheet_row (sheet *sh, int i, const ds_image *im, const eval_figures *f,
           const unsigned char *gray, const unsigned char *out,
           nn_model *plain_m, const colorize_options *opt, nn_error *err)
{
  int y = PAD + LABEL_H + i * (LABEL_H + CELL_H + PAD);
  char label[256];
  snprintf (label, sizeof label, "%s  psnr %.2f (gray %.2f)  local gain "
            "%.3f", base_name (im->path), f->psnr, f->gray_psnr,
            f->local_gain);
  sheet_text (sh, PAD, y + 2, label, 40);
  unsigned char *strokes = NULL, *without = NULL;
  nn_code rc = NN_OK;
  if (sh->cols == 5)
    {
      colorize_options o = *opt;
      o.n_hints = 0;
      eval_figures g;
      strokes = hints_picture (im, gray, opt);
      without = malloc ((size_t) im->w * im->h * 3);
      if (!strokes || !without)
        rc = nn_error_set (err, NN_ERR_NOMEM, "out of memory for the sheet");
      else
        rc = evaluate_image (plain_m, im->rgb, im->w, im->h, &o, &g, without,
                             NULL, NULL, err);
    }
  const unsigned char *cells[5] = { gray, out, im->rgb };
  if (sh->cols == 5)
    {
      cells[1] = strokes;
      cells[2] = without;
      cells[3] = out;
      cells[4] = im->rgb;
    }
  for (int c = 0; c < sh->cols && rc == NN_OK; c++)
    if (sheet_image (sh, PAD + c * (CELL_W + PAD), y + LABEL_H, cells[c],
                     im->w, im->h))
      rc = nn_error_set (err, NN_ERR_NOMEM, "out of memory for the sheet");
  free (strokes);
  free (without);
  return rc;
}

/* The hints of image im from DIR/<its base name>.png: 1 with them in
 * *out, *n (possibly none painted), 0 when there is no such file, -1
 * with a reason in msg. */
static int
eval_hints (const char *dir, const ds_image *im, nn_hint **out, size_t *n,
            char *msg, size_t msg_len)
{
  char path[4096];
  const char *b = base_name (im->path), *dot = strrchr (b, '.');
  int len = dot ? (int) (dot - b) : (int) strlen (b);
  snprintf (path, sizeof path, "%s/%.*s.png", dir, len, b);
  *out = NULL;
  *n = 0;
  FILE *f = fopen (path, "rb");
  if (!f)
    return 0;
  fclose (f);
  return hintfile_load (path, im->w, im->h, out, n, msg, msg_len) ? -1 : 1;
}

/* ---- The command -------------------------------------------------------------- */

/* The command line. */
typedef struct eval_args {
  const char *weights, *data, *sheet, *csv, *hints;
  int size, rows, threads, hints_only, views;
  double strength, temperature;
} eval_args;

#define ARG(f) .at = offsetof (eval_args, f)

static const option eval_options[] = {
  { .name = "--weights", .type = OPT_STRING, ARG (weights), .meta = "W",
    .help = "the model" },
  { .name = "--data", .type = OPT_STRING, ARG (data), .meta = "DIR|VAL.pack",
    .help = "the photos, whole (pack --full)" },
  OPTION_WORKING_SIZE (eval_args, size, "--size"),
  { .name = "--strength", .type = OPT_DOUBLE, ARG (strength), .min = 0.0,
    .max = COLORIZE_MAX_STRENGTH, .meta = "X",
    .help = "how far the colours go (default 1)" },
  { .name = "--temperature", .type = OPT_DOUBLE, ARG (temperature),
    .min = NN_HEAD_MIN_TEMPERATURE, .max = NN_HEAD_MAX_TEMPERATURE,
    .meta = "T", .help = "colour-class decoding (default: the model's)" },
  { .name = "--views", .type = OPT_INT, ARG (views), .lo = 1,
    .hi = COLORIZE_MAX_VIEWS, .meta = "N",
    .help = "network passes averaged: 1 the photo, 2 with its mirror image "
            "(default: the model's)" },
  { .name = "--sheet", .type = OPT_STRING, ARG (sheet), .meta = "OUT.png",
    .help = "a contact sheet of the first images" },
  { .name = "--sheet-rows", .type = OPT_INT, ARG (rows), .lo = 1,
    .hi = 10000, .meta = "N", .help = "images on the sheet (default 16)" },
  { .name = "--csv", .type = OPT_STRING, ARG (csv), .meta = "OUT.csv",
    .help = "the figures of every image" },
  OPTION_THREADS (eval_args, threads),
  { .name = "--hints", .type = OPT_STRING, ARG (hints), .meta = "DIR",
    .help = "colour hints: DIR/NAME.png for photo NAME.*" },
  { .name = "--hints-only", .type = OPT_FLAG, ARG (hints_only),
    .help = "the hints without a network (no --weights)" },
};

#undef ARG

static const option_table eval_table = {
  .command = "eval",
  .synopsis = "eval --weights W --data DIR|VAL.pack [OPTIONS]",
  .opts = eval_options, .n = OPTIONS_COUNT (eval_options)
};

/* Fills a from argv: -1 to go on, else the exit status (0: --help). */
static int
eval_parse (int argc, char **argv, eval_args *a)
{
  int rc = options_parse (&eval_table, argc, argv, a, NULL);
  if (rc >= 0)
    return rc;
  if ((!a->weights && !a->hints_only) || !a->data
      || (a->hints_only && !a->hints))
    {
      fprintf (stderr, "colorize-train eval: %s is required\n",
               a->hints_only && !a->hints ? "--hints DIR (for --hints-only)"
               : !a->data ? "--data DIR" : "--weights W");
      options_usage (&eval_table);
      return 2;
    }
  if (a->hints_only && a->weights)
    {
      fprintf (stderr, "colorize-train eval: --hints-only takes no "
               "--weights\n");
      return 2;
    }
  return -1;      /* go on */
}

/* One run's state, image after image. */
typedef struct eval_run {
  const eval_args *a;
  nn_model *m;
  dataset ds;
  FILE *csv;
  sheet sh;
  int n_rows;
  eval_accuracy *acc;
  colorize_options opt;
  eval_figures sum;
  int hinted;
  nn_hint *hint;
  unsigned char *out_rgb, *gray_rgb;
} eval_run;

/* Opens the --csv file with its header. */
static int
eval_open_csv (eval_run *r)
{
  r->csv = fopen (r->a->csv, "w");
  if (!r->csv)
    {
      fprintf (stderr, "colorize-train eval: cannot write %s: %s\n",
               r->a->csv, strerror (errno));
      return -1;
    }
  fprintf (r->csv, "file,width,height,psnr,gray_psnr,colorfulness,"
           "truth_colorfulness,local_gain,loss,auc_raw,auc_rebal,"
           "gray_auc_raw,gray_auc_rebal\n");
  return 0;
}

/* Image i: its hints, figures, line, CSV row, sheet row. */
static int
eval_one (eval_run *r, int i)
{
  char msg[1024];
  nn_error err;
  const ds_image *im = &r->ds.images[i];
  free (r->hint);
  r->hint = NULL;
  r->opt.n_hints = 0;
  if (r->a->hints)
    {
      int found = eval_hints (r->a->hints, im, &r->hint, &r->opt.n_hints,
                              msg, sizeof msg);
      if (found < 0)
        {
          fprintf (stderr, "colorize-train eval: %s\n", msg);
          return -1;
        }
      r->opt.hints = r->hint;
      r->hinted += found;
    }
  size_t n = (size_t) im->w * im->h * 3;
  int on_sheet = i < r->n_rows;
  free (r->out_rgb);
  free (r->gray_rgb);
  r->out_rgb = on_sheet ? malloc (n) : NULL;
  r->gray_rgb = on_sheet ? malloc (n) : NULL;
  if (on_sheet && (!r->out_rgb || !r->gray_rgb))
    {
      fprintf (stderr, "colorize-train eval: out of memory\n");
      return -1;
    }
  eval_figures f;
  if (evaluate_image (r->m, im->rgb, im->w, im->h, &r->opt, &f,
                      r->out_rgb, r->gray_rgb, r->acc, &err) != NN_OK)
    {
      fprintf (stderr, "colorize-train eval: %s: %s\n", im->path,
               err.message);
      return -1;
    }
  printf ("%s psnr=%.2f gray_psnr=%.2f colorfulness=%.2f "
          "truth_colorfulness=%.2f local_gain=%.3f auc_raw=%.2f "
          "auc_rebal=%.2f\n", im->path, f.psnr, f.gray_psnr,
          f.colorfulness, f.truth_colorfulness, f.local_gain, f.auc_raw,
          f.auc_rebal);
  if (r->csv)
    fprintf (r->csv, "%s,%d,%d,%.4f,%.4f,%.4f,%.4f,%.5f,%.6f,%.4f,%.4f,%.4f,"
             "%.4f\n", im->path, im->w, im->h, f.psnr, f.gray_psnr,
             f.colorfulness, f.truth_colorfulness, f.local_gain, f.loss,
             f.auc_raw, f.auc_rebal, f.gray_auc_raw, f.gray_auc_rebal);
  r->sum.psnr += f.psnr;
  r->sum.gray_psnr += f.gray_psnr;
  r->sum.colorfulness += f.colorfulness;
  r->sum.truth_colorfulness += f.truth_colorfulness;
  r->sum.local_gain += f.local_gain;
  if (on_sheet && sheet_row (&r->sh, i, im, &f, r->gray_rgb, r->out_rgb,
                             r->a->hints ? r->m : NULL, &r->opt, &err))
    {
      fprintf (stderr, "colorize-train eval: %s: %s\n", im->path,
               err.message);
      return -1;
    }
  return 0;
}

int
cmd_eval (int argc, char **argv)
{
  eval_args a = { .rows = 16, .strength = 1.0 };
  int status = eval_parse (argc, argv, &a);
  if (status >= 0)
    return status;
  options_set_threads (a.threads);
  eval_run r = { .a = &a };
  nn_error err;
  if (a.weights && nn_weights_load (a.weights, &r.m, &err) != NN_OK)
    {
      fprintf (stderr, "colorize-train eval: %s\n", err.message);
      return 1;
    }
  nn_model_freeze (r.m);
  image_init ();
  int rc = 1;
  char msg[1024];
  dataset_options dopt = { DATASET_RGB_FULL, 0, 0.0f, 2, stderr, NULL, 0 };
  r.acc = calloc (1, sizeof *r.acc);
  if (!r.acc)
    {
      fprintf (stderr, "colorize-train eval: out of memory\n");
      goto done;
    }
  if (trainset_load_full (&r.ds, a.data, &dopt, msg, sizeof msg))
    {
      fprintf (stderr, "colorize-train eval: %s\n", msg);
      goto done;
    }
  if (a.csv && eval_open_csv (&r))
    goto done;
  r.n_rows = a.sheet ? (a.rows < r.ds.n ? a.rows : r.ds.n) : 0;
  if (a.sheet && sheet_new (&r.sh, r.n_rows, a.hints && r.m ? 5 : 3))
    {
      fprintf (stderr, "colorize-train eval: out of memory for the sheet\n");
      goto done;
    }
  r.opt = COLORIZE_OPTIONS_DEFAULT;
  r.opt.working_size = a.size;
  r.opt.strength = (float) a.strength;
  r.opt.temperature = (float) a.temperature;
  r.opt.views = a.views;
  for (int i = 0; i < r.ds.n; i++)
    if (eval_one (&r, i))
      goto done;
  if (a.sheet && image_save (a.sheet, r.sh.px, r.sh.w, r.sh.h, "R'G'B' u8",
                             msg, sizeof msg))
    {
      fprintf (stderr, "colorize-train eval: cannot write %s: %s\n",
               a.sheet, msg);
      goto done;
    }
  if (r.csv && fclose (r.csv) != 0)
    {
      r.csv = NULL;
      fprintf (stderr, "colorize-train eval: cannot write %s\n", a.csv);
      goto done;
    }
  r.csv = NULL;
  eval_figures *sum = &r.sum;
  evaluate_accuracy (r.acc, sum);
  if (a.hints)
    fprintf (stderr, "hints: %d of %d images had a hints file in %s\n",
             r.hinted, r.ds.n, a.hints);
  printf ("images=%d psnr=%.2f gray_psnr=%.2f colorfulness=%.2f "
          "truth_colorfulness=%.2f local_gain=%.3f auc_raw=%.2f "
          "auc_rebal=%.2f gray_auc_raw=%.2f gray_auc_rebal=%.2f\n", r.ds.n,
          sum->psnr / r.ds.n, sum->gray_psnr / r.ds.n,
          sum->colorfulness / r.ds.n, sum->truth_colorfulness / r.ds.n,
          sum->local_gain / r.ds.n, sum->auc_raw, sum->auc_rebal,
          sum->gray_auc_raw, sum->gray_auc_rebal);
  rc = 0;
done:
  free (r.hint);
  if (r.csv)
    fclose (r.csv);
  free (r.out_rgb);
  free (r.gray_rgb);
  free (r.acc);
  free (r.sh.px);
  dataset_free (&r.ds);
  nn_model_free (r.m);
  image_exit ();
  return rc;
}
