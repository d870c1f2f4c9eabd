/* check-dump.c - checks on the dumps written by the test-colorize-dump
 * helper (tests/gimp/dump.c).  Plain C, no libraries.  Prints one line
 * "ok - ..." or "not ok - ..." per check and exits 1 when any failed.
 *
 *   check-dump layer DIR CASE MODEL [--ltol X] [--selection] [--soft]
 *       CASE-before / CASE-after: the colorize call succeeded ("ok" note),
 *       one new layer named "Colorized (MODEL)" directly above the source
 *       with the source's geometry, the source unchanged, the new layer's
 *       L and alpha equal to the source's (|dL| <= X), colour where it is
 *       visible, precision kept, an RGB image; with --selection a mask
 *       equal to the selection (soft values with --soft), without none.
 *   check-dump error DIR CASE
 *       the call failed ("error" note) and the image is as it was.
 *   check-dump note DIR NAME TEXT
 *       the dump's note is TEXT.
 *   check-dump colour DIR NAME
 *       every layer of the dump has colour.
 *   check-dump sky DIR CASE MODEL
 *       the new layer's top third is bluer (lower b) than its bottom third.
 *   check-dump chroma DIR DUMP-A DUMP-B LAYER more|same|exact
 *       the layer named LAYER ("-": the first) of the dumps DUMP-A and
 *       DUMP-B: with "more", B's mean chroma is at least MIN_CHROMA_GAIN
 *       above A's (the vividness checks); with "same", their pixels agree
 *       within SAME_TOL; with "exact", they are equal.
 *   check-dump strokes DIR DUMP LAYER HINTS-DUMP HINTS-LAYER
 *       colour hints: every fully painted pixel (alpha >= STROKE_ALPHA)
 *       of the layer HINTS-LAYER of HINTS-DUMP that lies over the layer
 *       LAYER of DUMP (by image position: the layers' offsets; "-": the
 *       first layer) has there the hint's a,b within STROKE_TOL; at
 *       least one such pixel.  Pixels outside are counted and named.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS 32
#define MIN_CHROMA 1.0    /* mean chroma (CIE ab units) that counts as colour */
#define SRC_TOL    0.02   /* change of the source layer counted as rounding */
/* "same" layers of two runs: one 8-bit step of an 8-bit layer (a run's
 * babl conversions may take another path than the run before it in the
 * same GIMP session; seen in GIMP 3.0: 0.47) */
#define SAME_TOL   0.6
#define ALPHA_TOL  0.004  /* about one 8-bit step */
#define MASK_TOL   0.01
#define MIN_CHROMA_GAIN 5.0 /* "more": mean chroma gained, ab units */
#define STROKE_ALPHA 0.999 /* a fully painted hint pixel */
#define STROKE_TOL   2.0   /* |a - hint a|, |b - hint b| on a stroke */

typedef struct
{
  int  index, parent, position, x, y, w, h, mask, group;
  char name[256];
} Layer;

typedef struct
{
  char  prefix[1024];
  char  note[256];
  int   width, height, base, precision, selection;
  int   n;
  Layer layers[MAX_LAYERS];
} Dump;

static int n_failed;

static void
report (int ok, const char *name, const char *what, const char *detail)
{
  if (! ok)
    n_failed++;
  printf ("%s - %s: %s%s%s%s\n", ok ? "ok" : "not ok", name, what,
          detail && *detail ? " (" : "", detail ? detail : "",
          detail && *detail ? ")" : "");
}

static void
copy_str (char *dst, size_t size, const char *src)
{
  size_t n = strlen (src);

  if (n >= size)
    n = size - 1;
  memcpy (dst, src, n);
  dst[n] = '\0';
}

static int
load_dump (const char *dir, const char *name, Dump *d)
{
  char  path[1100], line[1024];
  FILE *f;

  memset (d, 0, sizeof *d);
  snprintf (d->prefix, sizeof d->prefix, "%s/%s", dir, name);
  snprintf (path, sizeof path, "%s.txt", d->prefix);
  f = fopen (path, "r");
  if (! f)
    return 0;
  while (fgets (line, sizeof line, f))
    {
      line[strcspn (line, "\n")] = '\0';
      if (! strncmp (line, "note ", 5))
        copy_str (d->note, sizeof d->note, line + 5);
      else if (! strncmp (line, "note", 4))
        d->note[0] = '\0';
      else if (sscanf (line, "image %d %d %d %d", &d->width, &d->height,
                       &d->base, &d->precision) == 4)
        ;
      else if (sscanf (line, "selection %d", &d->selection) == 1)
        ;
      else if (! strncmp (line, "layer ", 6) && d->n < MAX_LAYERS)
        {
          Layer *l = &d->layers[d->n];
          int    consumed = 0;

          if (sscanf (line, "layer %d %d %d %d %d %d %d %d %d %n",
                      &l->index, &l->parent, &l->position, &l->x, &l->y,
                      &l->w, &l->h, &l->mask, &l->group, &consumed) >= 9)
            {
              copy_str (l->name, sizeof l->name, line + consumed);
              d->n++;
            }
        }
    }
  fclose (f);
  return 1;
}

static float *
load_floats (const char *prefix, const char *suffix, size_t n)
{
  char   path[1200];
  FILE  *f;
  float *data;

  snprintf (path, sizeof path, "%s%s", prefix, suffix);
  f = fopen (path, "rb");
  if (! f)
    return NULL;
  data = malloc (n * sizeof (float));
  if (data && fread (data, sizeof (float), n, f) != n)
    {
      free (data);
      data = NULL;
    }
  fclose (f);
  return data;
}

static float *
layer_lab (const Dump *d, const Layer *l)
{
  char suffix[32];

  snprintf (suffix, sizeof suffix, "-%d.lab", l->index);
  return load_floats (d->prefix, suffix, (size_t) l->w * l->h * 4);
}

static float *
layer_mask (const Dump *d, const Layer *l)
{
  char suffix[32];

  snprintf (suffix, sizeof suffix, "-%d.mask", l->index);
  return load_floats (d->prefix, suffix, (size_t) l->w * l->h);
}

static const Layer *
find_layer (const Dump *d, const char *name)
{
  int i;

  for (i = 0; i < d->n; i++)
    if (! strcmp (d->layers[i].name, name))
      return &d->layers[i];
  return NULL;
}

static const Layer *
first_plain_layer (const Dump *d)
{
  int i;

  for (i = 0; i < d->n; i++)
    if (! d->layers[i].group)
      return &d->layers[i];
  return NULL;
}

static int
check_layer (const char *dir, const char *name, const char *model,
             double ltol, int want_selection, int want_soft)
{
  Dump         before, after;
  char         b[256], detail[256], new_name[128];
  const Layer *src0, *src, *nl;
  float       *lab0 = NULL, *lab1 = NULL, *labn = NULL, *mask = NULL;
  float       *sel = NULL;
  size_t       i, n;
  double       d_src = 0, d_alpha_src = 0, d_l = 0, d_alpha = 0;
  double       chroma = 0;
  long         visible = 0;

  snprintf (b, sizeof b, "%s-before", name);
  if (! load_dump (dir, b, &before))
    {
      report (0, name, "dump before the call", "missing");
      return 0;
    }
  snprintf (b, sizeof b, "%s-after", name);
  if (! load_dump (dir, b, &after))
    {
      report (0, name, "dump after the call", "missing");
      return 0;
    }
  report (! strcmp (after.note, "ok"), name, "the procedure succeeded",
          after.note);
  snprintf (new_name, sizeof new_name, "Colorized (%s)", model);

  src0 = first_plain_layer (&before);
  src  = src0 ? find_layer (&after, src0->name) : NULL;
  nl   = find_layer (&after, new_name);
  snprintf (detail, sizeof detail, "%d layers before, %d after",
            before.n, after.n);
  report (after.n == before.n + 1, name, "exactly one new layer", detail);
  report (nl != NULL, name, "the new layer is named after the model",
          new_name);
  if (! src0 || ! src || ! nl)
    {
      report (0, name, "source and new layer found", "missing");
      return 0;
    }
  snprintf (detail, sizeof detail, "source at %d, new at %d, parents %d/%d",
            src->position, nl->position, src->parent, nl->parent);
  report (nl->parent == src->parent && nl->position == src->position - 1,
          name, "the new layer is directly above the source", detail);
  snprintf (detail, sizeof detail, "source %dx%d%+d%+d, new %dx%d%+d%+d",
            src->w, src->h, src->x, src->y, nl->w, nl->h, nl->x, nl->y);
  report (nl->w == src->w && nl->h == src->h && nl->x == src->x &&
          nl->y == src->y, name, "same size and offsets as the source",
          detail);
  snprintf (detail, sizeof detail, "precision %d -> %d, base type %d",
            before.precision, after.precision, after.base);
  report (after.precision == before.precision && after.base == 0, name,
          "precision kept, image RGB", detail);

  n    = (size_t) src->w * src->h;
  lab0 = layer_lab (&before, src0);
  lab1 = layer_lab (&after, src);
  labn = layer_lab (&after, nl);
  if (! lab0 || ! lab1 || ! labn || src0->w != src->w || src0->h != src->h)
    {
      report (0, name, "pixel dumps readable", "missing or wrong size");
      goto out;
    }

  for (i = 0; i < n; i++)
    {
      int c;

      for (c = 0; c < 3; c++)
        d_src = fmax (d_src, fabs (lab0[4 * i + c] - lab1[4 * i + c]));
      d_alpha_src = fmax (d_alpha_src, fabs (lab0[4 * i + 3] - lab1[4 * i + 3]));
    }
  snprintf (detail, sizeof detail, "max |dLab| %.4f, max |dalpha| %.4f",
            d_src, d_alpha_src);
  report (d_src <= SRC_TOL && d_alpha_src <= ALPHA_TOL, name,
          "the source layer is unchanged", detail);

  if (nl->mask)
    mask = layer_mask (&after, nl);
  for (i = 0; i < n; i++)
    {
      float a_src = lab1[4 * i + 3];
      float a_new = labn[4 * i + 3];

      d_alpha = fmax (d_alpha, fabs (a_src - a_new));
      if (a_src > 0.02f && a_new > 0.02f)
        d_l = fmax (d_l, fabs (lab1[4 * i] - labn[4 * i]));
      if (a_new > 0.5f && (! mask || mask[i] > 0.5f))
        {
          chroma += hypot (labn[4 * i + 1], labn[4 * i + 2]);
          visible++;
        }
    }
  snprintf (detail, sizeof detail, "max |dL| %.4f (tolerance %.3g)", d_l,
            ltol);
  report (d_l <= ltol, name, "the new layer's L is the source's L", detail);
  snprintf (detail, sizeof detail, "max |dalpha| %.4f", d_alpha);
  report (d_alpha <= ALPHA_TOL, name, "the new layer keeps the alpha",
          detail);
  chroma = visible ? chroma / visible : 0.0;
  snprintf (detail, sizeof detail, "mean chroma %.2f over %ld pixels",
            chroma, visible);
  report (chroma >= MIN_CHROMA, name, "the new layer has colour", detail);

  if (! want_selection)
    {
      report (! nl->mask, name, "no mask without a selection", NULL);
      goto out;
    }

  sel = load_floats (after.prefix, "-sel.y",
                     (size_t) after.width * after.height);
  if (! mask || ! sel)
    {
      report (0, name, "the new layer has a mask from the selection",
              mask ? "no selection dump" : "no mask");
      goto out;
    }
  {
    double d_mask = 0;
    long   n_in = 0, n_out = 0, n_soft = 0;
    int    x, y;

    for (y = 0; y < nl->h; y++)
      for (x = 0; x < nl->w; x++)
        {
          int   ix = x + nl->x, iy = y + nl->y;
          float s  = (ix >= 0 && iy >= 0 && ix < after.width &&
                      iy < after.height)
                     ? sel[(size_t) iy * after.width + ix] : 0.0f;
          float m  = mask[(size_t) y * nl->w + x];

          d_mask = fmax (d_mask, fabs (s - m));
          n_in  += m > 0.99f;
          n_out += m < 0.01f;
          n_soft += m > 0.05f && m < 0.95f;
        }
    snprintf (detail, sizeof detail,
              "max |mask - selection| %.4f; %ld in, %ld out, %ld soft",
              d_mask, n_in, n_out, n_soft);
    report (d_mask <= MASK_TOL && n_in > 0 && n_out > 0, name,
            "the mask is the selection: it limits the new layer", detail);
    if (want_soft)
      report (n_soft > 0, name, "a soft selection stays soft", detail);
  }

 out:
  free (lab0);
  free (lab1);
  free (labn);
  free (mask);
  free (sel);
  return 1;
}

static void
check_error (const char *dir, const char *name)
{
  Dump   before, after;
  char   b[256], detail[256];
  int    i, same = 1;

  snprintf (b, sizeof b, "%s-before", name);
  if (! load_dump (dir, b, &before))
    {
      report (0, name, "dump before the call", "missing");
      return;
    }
  snprintf (b, sizeof b, "%s-after", name);
  if (! load_dump (dir, b, &after))
    {
      report (0, name, "dump after the call", "missing");
      return;
    }
  report (! strcmp (after.note, "error"), name,
          "the procedure returned an error", after.note);

  same = before.n == after.n && before.base == after.base &&
         before.precision == after.precision;
  for (i = 0; same && i < before.n; i++)
    {
      const Layer *l0 = &before.layers[i], *l1 = &after.layers[i];

      same = ! strcmp (l0->name, l1->name) && l0->w == l1->w &&
             l0->h == l1->h && l0->x == l1->x && l0->y == l1->y &&
             l0->mask == l1->mask && l0->parent == l1->parent;
      if (same && ! l0->group)
        {
          float *p0 = layer_lab (&before, l0);
          float *p1 = layer_lab (&after, l1);

          size_t k, n = (size_t) 4 * l0->w * l0->h;

          /* Not memcmp: babl may pick another conversion path in another
           * process (its fish cache), a few 1e-5 apart. */
          same = p0 && p1;
          for (k = 0; same && k < n; k++)
            same = fabs (p0[k] - p1[k]) <= SRC_TOL;
          free (p0);
          free (p1);
        }
    }
  snprintf (detail, sizeof detail, "%d layers before, %d after", before.n,
            after.n);
  report (same, name, "the image is left as it was", detail);
}

static void
check_note (const char *dir, const char *name, const char *text)
{
  Dump d;

  if (! load_dump (dir, name, &d))
    {
      report (0, name, "dump", "missing");
      return;
    }
  report (! strcmp (d.note, text), name, "note", d.note);
}

static void
check_colour (const char *dir, const char *name)
{
  Dump d;
  int  i;

  if (! load_dump (dir, name, &d))
    {
      report (0, name, "an output was written and GIMP loads it",
              "missing");
      return;
    }
  for (i = 0; i < d.n; i++)
    {
      const Layer *l   = &d.layers[i];
      float       *lab = layer_lab (&d, l);
      double       chroma = 0;
      size_t       k, n = (size_t) l->w * l->h;
      char         detail[128];

      if (! lab)
        {
          report (0, name, "the output's pixels", "missing");
          continue;
        }
      for (k = 0; k < n; k++)
        chroma += hypot (lab[4 * k + 1], lab[4 * k + 2]);
      chroma /= n ? n : 1;
      snprintf (detail, sizeof detail, "mean chroma %.2f", chroma);
      report (chroma >= MIN_CHROMA && d.base == 0, name,
              "the output is an RGB image with colour", detail);
      free (lab);
    }
}

static void
check_sky (const char *dir, const char *name, const char *model)
{
  Dump         d;
  char         b[256], new_name[128], detail[128];
  const Layer *l;
  float       *lab;
  double       top = 0, bottom = 0;
  long         nt = 0, nb = 0;
  int          x, y;

  snprintf (b, sizeof b, "%s-after", name);
  snprintf (new_name, sizeof new_name, "Colorized (%s)", model);
  if (! load_dump (dir, b, &d) || ! (l = find_layer (&d, new_name)) ||
      ! (lab = layer_lab (&d, l)))
    {
      report (0, name, "the landscape's new layer", "missing");
      return;
    }
  for (y = 0; y < l->h; y++)
    for (x = 0; x < l->w; x++)
      {
        float bb = lab[4 * ((size_t) y * l->w + x) + 2];

        if (y < l->h / 3)
          top += bb, nt++;
        else if (y >= 2 * l->h / 3)
          bottom += bb, nb++;
      }
  free (lab);
  top /= nt ? nt : 1;
  bottom /= nb ? nb : 1;
  snprintf (detail, sizeof detail, "mean b: top third %.2f, bottom third %.2f",
            top, bottom);
  report (top < bottom, name, "the sky is bluer than the ground", detail);
}

/* Mean chroma of the visible pixels (alpha > 0.5) of n Lab-alpha pixels. */
static double
visible_chroma (const float *lab, size_t n)
{
  double sum = 0;
  size_t k, count = 0;

  for (k = 0; k < n; k++)
    if (lab[4 * k + 3] > 0.5f)
      {
        sum += hypot (lab[4 * k + 1], lab[4 * k + 2]);
        count++;
      }
  return count ? sum / count : 0.0;
}

static void
check_chroma (const char *dir, const char *name_a, const char *name_b,
              const char *layer, const char *how)
{
  Dump         a, b;
  const Layer *la, *lb;
  float       *pa = NULL, *pb = NULL;
  char         what[512], detail[256];
  size_t       k, n;
  double       ka, kb, dmax = 0;
  int          more = ! strcmp (how, "more");

  snprintf (what, sizeof what, "%s: %s", name_b,
            more ? "more chroma than"
            : ! strcmp (how, "exact") ? "exactly the pixels of"
            : "the same pixels as");
  snprintf (what + strlen (what), sizeof what - strlen (what), " %s",
            name_a);
  if (! load_dump (dir, name_a, &a) || ! load_dump (dir, name_b, &b))
    {
      report (0, what, "both dumps", "missing");
      return;
    }
  la = strcmp (layer, "-") ? find_layer (&a, layer) : first_plain_layer (&a);
  lb = strcmp (layer, "-") ? find_layer (&b, layer) : first_plain_layer (&b);
  if (la && lb && la->w == lb->w && la->h == lb->h)
    {
      pa = layer_lab (&a, la);
      pb = layer_lab (&b, lb);
    }
  if (! pa || ! pb)
    {
      report (0, what, "both layers, of the same size", layer);
      free (pa);
      free (pb);
      return;
    }
  n  = (size_t) la->w * la->h;
  ka = visible_chroma (pa, n);
  kb = visible_chroma (pb, n);
  for (k = 0; k < 4 * n; k++)
    dmax = fmax (dmax, fabs (pa[k] - pb[k]));
  snprintf (detail, sizeof detail, "mean chroma %.2f -> %.2f, max |dLab| "
            "%.4f", ka, kb, dmax);
  if (more)
    report (kb >= ka + MIN_CHROMA_GAIN, what, layer, detail);
  else if (! strcmp (how, "exact"))
    report (dmax == 0.0, what, layer, detail);
  else
    report (dmax <= SAME_TOL, what, layer, detail);
  free (pa);
  free (pb);
}

static const Layer *
named_or_first (const Dump *d, const char *name)
{
  return strcmp (name, "-") ? find_layer (d, name) : first_plain_layer (d);
}

static void
check_strokes (const char *dir, const char *name, const char *layer,
               const char *hints_name, const char *hints_layer)
{
  Dump         d, hd;
  const Layer *l, *hl;
  float       *lab = NULL, *hlab = NULL;
  char         what[512], detail[1100];
  double       da = 0, db = 0;
  long         inside = 0, outside = 0;
  int          x, y;

  snprintf (what, sizeof what, "%s: the strokes of %s hold their a,b",
            name, hints_name);
  if (! load_dump (dir, name, &d) || ! load_dump (dir, hints_name, &hd) ||
      ! (l = named_or_first (&d, layer)) ||
      ! (hl = named_or_first (&hd, hints_layer)) ||
      ! (lab = layer_lab (&d, l)) || ! (hlab = layer_lab (&hd, hl)))
    {
      report (0, what, "both dumps and layers", layer);
      free (lab);
      return;
    }
  for (y = 0; y < hl->h; y++)
    for (x = 0; x < hl->w; x++)
      {
        const float *h = hlab + 4 * ((size_t) y * hl->w + x);
        int          lx = hl->x + x - l->x, ly = hl->y + y - l->y;
        const float *p;

        if (h[3] < STROKE_ALPHA)
          continue;
        if (lx < 0 || ly < 0 || lx >= l->w || ly >= l->h)
          {
            outside++;
            continue;
          }
        p  = lab + 4 * ((size_t) ly * l->w + lx);
        da = fmax (da, fabs (p[1] - h[1]));
        db = fmax (db, fabs (p[2] - h[2]));
        inside++;
      }
  snprintf (detail, sizeof detail, "%ld stroke pixels over '%s' (%ld "
            "outside it): max |da| %.3f, max |db| %.3f (tolerance %.1f)",
            inside, l->name, outside, da, db, STROKE_TOL);
  report (inside > 0 && da <= STROKE_TOL && db <= STROKE_TOL, what, layer,
          detail);
  free (lab);
  free (hlab);
}

static int
usage (void)
{
  fprintf (stderr,
           "usage: check-dump layer DIR CASE MODEL [--ltol X] [--selection] [--soft]\n"
           "       check-dump error DIR CASE\n"
           "       check-dump note DIR NAME TEXT\n"
           "       check-dump colour DIR NAME\n"
           "       check-dump sky DIR CASE MODEL\n"
           "       check-dump chroma DIR DUMP-A DUMP-B LAYER more|same|exact\n"
           "       check-dump strokes DIR DUMP LAYER HINTS-DUMP HINTS-LAYER\n");
  return 2;
}

int
main (int argc, char **argv)
{
  if (argc < 4)
    return usage ();

  if (! strcmp (argv[1], "layer") && argc >= 5)
    {
      double ltol = 1.0;
      int    selection = 0, soft = 0, i;

      for (i = 5; i < argc; i++)
        {
          if (! strcmp (argv[i], "--ltol") && i + 1 < argc)
            ltol = atof (argv[++i]);
          else if (! strcmp (argv[i], "--selection"))
            selection = 1;
          else if (! strcmp (argv[i], "--soft"))
            selection = soft = 1;
          else
            return usage ();
        }
      check_layer (argv[2], argv[3], argv[4], ltol, selection, soft);
    }
  else if (! strcmp (argv[1], "error"))
    check_error (argv[2], argv[3]);
  else if (! strcmp (argv[1], "note") && argc == 5)
    check_note (argv[2], argv[3], argv[4]);
  else if (! strcmp (argv[1], "colour"))
    check_colour (argv[2], argv[3]);
  else if (! strcmp (argv[1], "sky") && argc == 5)
    check_sky (argv[2], argv[3], argv[4]);
  else if (! strcmp (argv[1], "chroma") && argc == 7 &&
           (! strcmp (argv[6], "more") || ! strcmp (argv[6], "same") ||
            ! strcmp (argv[6], "exact")))
    check_chroma (argv[2], argv[3], argv[4], argv[5], argv[6]);
  else if (! strcmp (argv[1], "strokes") && argc == 7)
    check_strokes (argv[2], argv[3], argv[4], argv[5], argv[6]);
  else
    return usage ();

  return n_failed ? 1 : 0;
}
