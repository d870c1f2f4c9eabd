/* colorize.c - the colorize pipeline shared by the GIMP plug-in and the
 * trainer (see colorize.h for the pixel format and the contract).
 *
 * Steps, with the fraction reported to the progress callback:
 *   0.00  check arguments
 *   0.00  downscale L to the working size (antialiased bilinear, see
 *         nn_colorize_resample_region), pad to multiples of 8
 *   0.10  run the network (NN_PASS_INFER)
 *   0.80  fast guided filter (He and Sun 2015) at working resolution: per
 *         channel, a,b ~ A * L + B fitted in 5x5 windows
 *   0.90  last chance to cancel; then at full resolution A and B are
 *         upsampled bilinearly and a,b = strength * (A * L_full + B),
 *         clamped to the range the network predicted (guided filters can
 *         overshoot at edges)
 *   1.00  done (the callback's return value is ignored here: the pixels are
 *         already written)
 *
 * Padding, not cropping or stretching: the downscaled image keeps its
 * aspect ratio (each side rounded to the nearest pixel) and is padded on
 * the right and bottom to the next multiple of 8 by repeating its last
 * column and row; the padding (at most 7 pixels) is dropped from the
 * network's output.  Cropping would leave up to 7 rows without a
 * prediction, and stretching would distort small images.
 *
 * The full-resolution work is two passes over the pixels (read L while
 * downscaling, write a,b at the end), both O(pixels), parallel over rows
 * with OpenMP; everything else is at the working size.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "colorize.h"
#include "head.h"

#define GUIDED_RADIUS 2        /* window (2r+1)^2 at working resolution */
#define GUIDED_EPS 1e-3f       /* regularization, in (L/100)^2 units */
#define COLORIZE_MAX_SIDE (1 << 20)
#define OMP_MIN_WORK (1 << 16) /* below this many taps, stay on one thread */

/* ---- Arguments and sizes ------------------------------------------------ */

int
nn_colorize_default_working_size (const nn_model *m)
{
  double v;
  if (nn_metadata_number (m ? m->metadata : NULL, "working_size", &v) > 0
      && v == floor (v)
      && v >= COLORIZE_MIN_WORKING_SIZE && v <= COLORIZE_MAX_WORKING_SIZE)
    return (int) v / 8 * 8;
  return COLORIZE_DEFAULT_WORKING_SIZE;
}

float
nn_colorize_chroma_scale (const nn_model *m)
{
  double v;
  if (nn_metadata_number (m ? m->metadata : NULL, "chroma_scale", &v) > 0
      && v >= 0.05 && v <= 4.0)
    return (float) v;
  return 1.0f;
}

float
nn_colorize_knee_factor (const nn_model *m, const float *ab, size_t n)
{
  const char *md = m ? m->metadata : NULL;
  double knee, slope;
  if (nn_metadata_number (md, "chroma_knee", &knee) <= 0
      || nn_metadata_number (md, "chroma_knee_slope", &slope) <= 0
      || !(knee >= 1.0 && knee <= 128.0) || !(slope >= 0.0 && slope < 1.0)
      || n == 0)
    return 1.0f;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += sqrt ((double) ab[i] * ab[i] + (double) ab[n + i] * ab[n + i]);
  double mean = sum / (double) n;
  if (!(mean > knee))
    return 1.0f;
  return (float) pow (knee / mean, 1.0 - slope);
}

float
nn_colorize_default_temperature (const nn_model *m)
{
  double v;
  if (nn_metadata_number (m ? m->metadata : NULL, "temperature", &v) > 0
      && v >= NN_HEAD_MIN_TEMPERATURE && v <= NN_HEAD_MAX_TEMPERATURE)
    return (float) v;
  return NN_HEAD_DEFAULT_TEMPERATURE;
}

int
nn_colorize_default_views (const nn_model *m)
{
  double v;
  if (nn_metadata_number (m ? m->metadata : NULL, "views", &v) > 0
      && (v == 1.0 || v == 2.0))
    return (int) v;
  return 1;
}

nn_code
nn_colorize_working_dims (int width, int height, int working_size,
                       int *out_w, int *out_h, int *out_pw, int *out_ph,
                       nn_error *err)
{
  if (width < 1 || height < 1 || width > COLORIZE_MAX_SIDE
      || height > COLORIZE_MAX_SIDE)
    return nn_error_set (err, NN_ERR_ARG,
                         "image size %dx%d: expected each side in 1..%d",
                         width, height, COLORIZE_MAX_SIDE);
  if (working_size < COLORIZE_MIN_WORKING_SIZE
      || working_size > COLORIZE_MAX_WORKING_SIZE)
    return nn_error_set (err, NN_ERR_ARG,
                         "working size %d: expected %d..%d", working_size,
                         COLORIZE_MIN_WORKING_SIZE, COLORIZE_MAX_WORKING_SIZE);
  int s = working_size / 8 * 8;
  int longer = width > height ? width : height;
  int w = width, h = height;
  if (longer > s)
    {
      double f = (double) s / longer;
      w = width >= height ? s : (int) lround (width * f);
      h = height >= width ? s : (int) lround (height * f);
      if (w < 1)
        w = 1;
      if (h < 1)
        h = 1;
    }
  if (out_w)
    *out_w = w;
  if (out_h)
    *out_h = h;
  if (out_pw)
    *out_pw = (w + 7) / 8 * 8;
  if (out_ph)
    *out_ph = (h + 7) / 8 * 8;
  return NN_OK;
}

/* ---- Resampling ----------------------------------------------------------- */

/* The taps of one axis: for output i, taps [start[i], start[i+1]) of
 * idx/wt.  Tent filter of radius max(1, scale) in source pixels, centred
 * on the output pixel's centre; edges repeat. */
typedef struct taps {
  int *start;
  int *idx;
  float *wt;
} taps;

static void
taps_free (taps *t)
{
  free (t->start);
  free (t->idx);
  free (t->wt);
}

static int
taps_build (taps *t, int src_n, double x0, double len, int dst_n)
{
  double scale = len / dst_n;
  double r = scale > 1.0 ? scale : 1.0;
  int per = (int) ceil (2.0 * r) + 2;
  t->start = malloc ((size_t) (dst_n + 1) * sizeof *t->start);
  t->idx = malloc ((size_t) dst_n * per * sizeof *t->idx);
  t->wt = malloc ((size_t) dst_n * per * sizeof *t->wt);
  if (!t->start || !t->idx || !t->wt)
    {
      taps_free (t);
      return -1;
    }
  int k = 0;
  for (int i = 0; i < dst_n; i++)
    {
      double c = x0 + (i + 0.5) * scale; /* in source coordinates */
      int lo = (int) floor (c - r - 0.5) + 1;
      int hi = (int) ceil (c + r - 0.5) - 1;
      double sum = 0.0;
      int first = k;
      t->start[i] = k;
      for (int j = lo; j <= hi && k - first < per; j++)
        {
          double w = 1.0 - fabs (j + 0.5 - c) / r;
          if (w <= 0.0)
            continue;
          int jj = j < 0 ? 0 : j >= src_n ? src_n - 1 : j;
          if (k > first && t->idx[k - 1] == jj)
            t->wt[k - 1] += (float) w; /* merged edge repeat */
          else
            {
              t->idx[k] = jj;
              t->wt[k] = (float) w;
              k++;
            }
          sum += w;
        }
      if (k == first) /* cannot happen with r >= 1, but stay defined */
        {
          int jj = (int) floor (c);
          t->idx[k] = jj < 0 ? 0 : jj >= src_n ? src_n - 1 : jj;
          t->wt[k++] = 1.0f;
          sum = 1.0;
        }
      for (int q = first; q < k; q++)
        t->wt[q] = (float) (t->wt[q] / sum);
    }
  t->start[dst_n] = k;
  return 0;
}

nn_code
nn_colorize_resample_region (const float *src, int sw, int sh, int src_step,
                          double x0, double y0, double rw, double rh,
                          float *dst, int dw, int dh, int dst_step,
                          nn_error *err)
{
  if (!src || !dst || sw < 1 || sh < 1 || dw < 1 || dh < 1 || src_step < 1
      || dst_step < 1 || !(rw > 0.0) || !(rh > 0.0) || !isfinite (x0)
      || !isfinite (y0) || !isfinite (rw) || !isfinite (rh))
    return nn_error_set (err, NN_ERR_ARG,
                         "resample: bad arguments (source %dx%d, region "
                         "%.3g,%.3g %.3gx%.3g, destination %dx%d)",
                         sw, sh, x0, y0, rw, rh, dw, dh);
  taps tx = { 0 }, ty = { 0 };
  float *tmp = NULL;
  nn_code rc = NN_OK;
  if (taps_build (&tx, sw, x0, rw, dw) || taps_build (&ty, sh, y0, rh, dh))
    {
      rc = nn_error_set (err, NN_ERR_NOMEM, "resample: out of memory");
      goto done;
    }
  /* Source rows the vertical taps touch. */
  int ymin = sh, ymax = -1;
  for (int k = 0; k < ty.start[dh]; k++)
    {
      if (ty.idx[k] < ymin)
        ymin = ty.idx[k];
      if (ty.idx[k] > ymax)
        ymax = ty.idx[k];
    }
  int nrows = ymax - ymin + 1;
  tmp = malloc ((size_t) nrows * dw * sizeof *tmp);
  if (!tmp)
    {
      rc = nn_error_set (err, NN_ERR_NOMEM,
                         "resample: out of memory (%d x %d floats)", nrows, dw);
      goto done;
    }
  long work = (long) nrows * tx.start[dw];
  (void) work; /* read by the OpenMP clauses only */
#pragma omp parallel for schedule(static) if (work > OMP_MIN_WORK)
  for (int y = 0; y < nrows; y++)
    {
      const float *row = src + (size_t) (y + ymin) * sw * src_step;
      float *out = tmp + (size_t) y * dw;
      for (int i = 0; i < dw; i++)
        {
          float acc = 0.0f;
          for (int k = tx.start[i]; k < tx.start[i + 1]; k++)
            acc += tx.wt[k] * row[(size_t) tx.idx[k] * src_step];
          out[i] = acc;
        }
    }
  work = (long) dw * ty.start[dh];
#pragma omp parallel for schedule(static) if (work > OMP_MIN_WORK)
  for (int j = 0; j < dh; j++)
    {
      float *out = dst + (size_t) j * dw * dst_step;
      for (int i = 0; i < dw; i++)
        out[(size_t) i * dst_step] = 0.0f;
      for (int k = ty.start[j]; k < ty.start[j + 1]; k++)
        {
          const float *in = tmp + (size_t) (ty.idx[k] - ymin) * dw;
          float w = ty.wt[k];
          for (int i = 0; i < dw; i++)
            out[(size_t) i * dst_step] += w * in[i];
        }
    }
done:
  free (tmp);
  taps_free (&tx);
  taps_free (&ty);
  return rc;
}

/* ---- Guided upsampling ---------------------------------------------------- */

/* Box mean over (2r+1)^2 windows clamped to the image (each window
 * divided by its own pixel count), w x h, via running sums. */
static void
box_mean (const float *in, float *out, float *tmp, int w, int h, int r)
{
  for (int y = 0; y < h; y++)
    {
      const float *row = in + (size_t) y * w;
      float *t = tmp + (size_t) y * w;
      double s = 0.0;
      for (int x = 0; x <= r && x < w; x++)
        s += row[x];
      for (int x = 0; x < w; x++)
        {
          int lo = x - r < 0 ? 0 : x - r;
          int hi = x + r >= w ? w - 1 : x + r;
          t[x] = (float) (s / (hi - lo + 1));
          if (x + r + 1 < w)
            s += row[x + r + 1];
          if (x - r >= 0)
            s -= row[x - r];
        }
    }
  for (int x = 0; x < w; x++)
    {
      double s = 0.0;
      for (int y = 0; y <= r && y < h; y++)
        s += tmp[(size_t) y * w + x];
      for (int y = 0; y < h; y++)
        {
          int lo = y - r < 0 ? 0 : y - r;
          int hi = y + r >= h ? h - 1 : y + r;
          out[(size_t) y * w + x] = (float) (s / (hi - lo + 1));
          if (y + r + 1 < h)
            s += tmp[(size_t) (y + r + 1) * w + x];
          if (y - r >= 0)
            s -= tmp[(size_t) (y - r) * w + x];
        }
    }
}

/* Fits, for each channel c of ab (2 planes of w x h), p = A * I + B in
 * every window (He, Sun and Tang's guided filter, guide I = L / 100),
 * averages the coefficients over windows and stores them interleaved as
 * coef[(y * w + x) * 4 + {A_a, B_a, A_b, B_b}].  Returns -1 when out of
 * memory. */
static int
guided_coefficients (const float *L, const float *ab, int w, int h,
                     float *coef)
{
  size_t n = (size_t) w * h;
  float *buf = calloc (n * 9, sizeof *buf);
  if (!buf)
    return -1;
  float *saved = buf + 7 * n; /* channel a's A, B while b is fitted */
  float *I = buf, *mI = buf + n, *mII = buf + 2 * n, *tmp = buf + 3 * n;
  float *prod = buf + 4 * n, *mP = buf + 5 * n, *mIP = buf + 6 * n;
  for (size_t i = 0; i < n; i++)
    I[i] = L[i] * 0.01f;
  box_mean (I, mI, tmp, w, h, GUIDED_RADIUS);
  for (size_t i = 0; i < n; i++)
    prod[i] = I[i] * I[i];
  box_mean (prod, mII, tmp, w, h, GUIDED_RADIUS);
  for (int c = 0; c < 2; c++)
    {
      /* Fit p - mean (p): a constant prediction then gives A = 0 and
       * B = that constant exactly, with no rounding residue. */
      const float *p0 = ab + (size_t) c * n;
      double sum = 0.0;
      for (size_t i = 0; i < n; i++)
        sum += p0[i];
      float centre = (float) (sum / n);
      float *p = coef; /* scratch: coef is written below, after use */
      for (size_t i = 0; i < n; i++)
        p[i] = p0[i] - centre;
      box_mean (p, mP, tmp, w, h, GUIDED_RADIUS);
      for (size_t i = 0; i < n; i++)
        prod[i] = I[i] * p[i];
      box_mean (prod, mIP, tmp, w, h, GUIDED_RADIUS);
      /* A into prod, B into mIP, then their window means. */
      for (size_t i = 0; i < n; i++)
        {
          float var = mII[i] - mI[i] * mI[i];
          float cov = mIP[i] - mI[i] * mP[i];
          if (var < 0.0f)
            var = 0.0f;
          float a = cov / (var + GUIDED_EPS);
          prod[i] = a;
          mIP[i] = mP[i] - a * mI[i];
        }
      box_mean (prod, mP, tmp, w, h, GUIDED_RADIUS);
      box_mean (mIP, prod, tmp, w, h, GUIDED_RADIUS);
      if (c == 0)
        for (size_t i = 0; i < n; i++)
          {
            saved[i * 2] = mP[i];
            saved[i * 2 + 1] = prod[i] + centre;
          }
      else
        for (size_t i = 0; i < n; i++)
          {
            coef[i * 4] = saved[i * 2];
            coef[i * 4 + 1] = saved[i * 2 + 1];
            coef[i * 4 + 2] = mP[i];
            coef[i * 4 + 3] = prod[i] + centre;
          }
    }
  free (buf);
  return 0;
}

/* Bilinear sample positions of one axis: full-resolution pixel X maps to
 * low-resolution coordinate (X + 0.5) * n / N - 0.5, clamped. */
static void
axis_lerp (int N, int n, int *i0, float *f)
{
  for (int X = 0; X < N; X++)
    {
      double c = (X + 0.5) * n / N - 0.5;
      if (c < 0.0)
        c = 0.0;
      int k = (int) floor (c);
      if (k > n - 2)
        k = n > 1 ? n - 2 : 0;
      double fr = n > 1 ? c - k : 0.0;
      if (fr > 1.0)
        fr = 1.0;
      i0[X] = k;
      f[X] = (float) fr;
    }
}

/* Writes a,b of the full-resolution pixels of rows [y0, y0 + rows) of a
 * W x H image (pixels: those rows) from the w x h coefficients (see
 * guided_coefficients).  `lo`/`hi` clamp a and b before the strength
 * factor.  Returns -1 when out of memory (nothing written). */
static int
guided_apply (const float *coef, int w, int h, float *pixels, int W, int H,
              int y0, int rows, int channels, const float lo[2],
              const float hi[2], float strength)
{
  int *xi = malloc ((size_t) W * sizeof *xi);
  float *xf = malloc ((size_t) W * sizeof *xf);
  int *yi = malloc ((size_t) H * sizeof *yi);
  float *yf = malloc ((size_t) H * sizeof *yf);
  if (!xi || !xf || !yi || !yf)
    {
      free (xi);
      free (xf);
      free (yi);
      free (yf);
      return -1;
    }
  axis_lerp (W, w, xi, xf);
  axis_lerp (H, h, yi, yf);
  int dx = w > 1 ? 4 : 0;
  size_t dy = h > 1 ? (size_t) w * 4 : 0;
#pragma omp parallel for schedule(static) if ((long) W * rows > OMP_MIN_WORK)
  for (int Y = y0; Y < y0 + rows; Y++)
    {
      const float *r0 = coef + (size_t) yi[Y] * w * 4;
      const float *r1 = r0 + dy;
      float fy = yf[Y];
      float *px = pixels + (size_t) (Y - y0) * W * channels;
      for (int X = 0; X < W; X++, px += channels)
        {
          const float *c00 = r0 + (size_t) xi[X] * 4, *c01 = c00 + dx;
          const float *c10 = r1 + (size_t) xi[X] * 4, *c11 = c10 + dx;
          float fx = xf[X];
          float I = px[0] * 0.01f;
          for (int c = 0; c < 2; c++)
            {
              float k[2];
              for (int j = 0; j < 2; j++)
                {
                  int o = c * 2 + j;
                  float top = c00[o] + fx * (c01[o] - c00[o]);
                  float bot = c10[o] + fx * (c11[o] - c10[o]);
                  k[j] = top + fy * (bot - top);
                }
              float v = k[0] * I + k[1];
              v = v < lo[c] ? lo[c] : v > hi[c] ? hi[c] : v;
              px[1 + c] = strength * v;
            }
        }
    }
  free (xi);
  free (xf);
  free (yi);
  free (yf);
  return 0;
}

/* ---- The pipeline -------------------------------------------------------- */

static int
report (const colorize_options *opt, double fraction)
{
  if (opt->cancel && *opt->cancel)
    return 1;
  if (opt->progress && opt->progress (fraction, opt->progress_data))
    return 1;
  return 0;
}

static nn_code
check_channels (int channels, nn_error *err)
{
  if (channels < 3 || channels > 16)
    return nn_error_set (err, NN_ERR_ARG,
                         "colorize: %d channels per pixel: expected 3 (CIE "
                         "Lab float) or 4 (CIE Lab alpha float)", channels);
  return NN_OK;
}

static nn_code
check_options (const float *pixels, int width, int height,
               const colorize_options *opt, nn_error *err)
{
  if (!pixels)
    return nn_error_set (err, NN_ERR_ARG, "colorize: no pixels");
  if (!isfinite (opt->strength) || opt->strength < 0.0f
      || opt->strength > COLORIZE_MAX_STRENGTH)
    return nn_error_set (err, NN_ERR_ARG,
                         "colorize: strength %g: expected 0..%g",
                         (double) opt->strength,
                         (double) COLORIZE_MAX_STRENGTH);
  if (opt->temperature != 0.0f
      && !(opt->temperature >= NN_HEAD_MIN_TEMPERATURE
           && opt->temperature <= NN_HEAD_MAX_TEMPERATURE))
    return nn_error_set (err, NN_ERR_ARG,
                         "colorize: temperature %g: expected %g..%g (0: the "
                         "model's own)", (double) opt->temperature,
                         NN_HEAD_MIN_TEMPERATURE, NN_HEAD_MAX_TEMPERATURE);
  if (opt->views < 0 || opt->views > COLORIZE_MAX_VIEWS)
    return nn_error_set (err, NN_ERR_ARG,
                         "colorize: %d views: expected 1 (the image), 2 (the "
                         "image and its mirror image) or 0 (the model's own)",
                         opt->views);
  if (opt->n_hints && !opt->hints)
    return nn_error_set (err, NN_ERR_ARG, "colorize: %zu hints but no "
                         "buffer", opt->n_hints);
  for (size_t i = 0; i < opt->n_hints; i++)
    {
      const nn_hint *p = &opt->hints[i];
      if (p->x < 0 || p->y < 0 || p->x >= width || p->y >= height
          || !(p->alpha > 0.0f && p->alpha <= 1.0f) || !isfinite (p->a)
          || !isfinite (p->b))
        return nn_error_set (err, NN_ERR_ARG,
                             "colorize: hint %zu at (%d, %d), a %g, b %g, "
                             "alpha %g: expected a pixel of the %dx%d image, "
                             "finite a,b and alpha in (0, 1]", i, p->x, p->y,
                             (double) p->a, (double) p->b, (double) p->alpha,
                             width, height);
    }
  return NN_OK;
}

/* The network's input from L (w x h): padded to pw x ph by repeating the
 * last column and row, mirrored left to right when `mirror` (the image
 * is mirrored first, then padded on the right as usual). */
static void
network_input (const nn_model *m, const float *L, int w, int h, int pw,
               int ph, int mirror, float *in)
{
  const nn_scaling sc = m->scaling;
  for (int y = 0; y < ph; y++)
    {
      const float *src = L + (size_t) (y < h ? y : h - 1) * w;
      float *dst = in + (size_t) y * pw;
      for (int x = 0; x < pw; x++)
        {
          int xs = x < w ? x : w - 1;
          dst[x] = (src[mirror ? w - 1 - xs : xs] - sc.l_offset) / sc.l_scale;
        }
    }
}

/* ab (w x h, two planes) += share x one pass's a,b (in ab units), read
 * back mirrored when the pass saw the mirrored image. */
static nn_code
network_pass (nn_model *m, const float *L, int w, int h, int pw, int ph,
              float *in, float t, int mirror, float share, float *ab,
              nn_error *err)
{
  network_input (m, L, w, h, pw, ph, mirror, in);
  nn_code rc = nn_model_forward_ab (m, in, 1, ph, pw, t, err);
  if (rc != NN_OK)
    return rc;
  int on, oh, ow;
  const float *out = nn_model_ab (m, t, &on, &oh, &ow, err);
  if (!out)
    return err ? err->code : NN_ERR_ARG;
  if (on != 1 || oh != ph || ow != pw)
    return nn_error_set (err, NN_ERR_ARG,
                         "colorize: network output %dx2x%dx%d: expected "
                         "1x2x%dx%d", on, oh, ow, ph, pw);
  const float scale = m->scaling.ab_scale;
  for (int c = 0; c < 2; c++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          float v = out[((size_t) c * ph + y) * pw + (mirror ? w - 1 - x : x)]
                    * scale;
          if (!isfinite (v))
            return nn_error_set (err, NN_ERR_NONFINITE,
                                 "colorize: the network produced a "
                                 "non-finite value at (%d, %d)", x, y);
          ab[((size_t) c * h + y) * w + x] += share * v;
        }
  return NN_OK;
}

/* The network's a,b at the working size (w x h, two planes, in ab units),
 * the mean over `views` passes (1: the image; 2: the image and its
 * mirror image), and their range; a NULL model gives neutral grey.  `in`
 * is the padded pw x ph input, filled here from L. */
static nn_code
network_ab (nn_model *m, const float *L, int w, int h, int pw, int ph,
            float *in, float t, int views, float *ab, float lo[2],
            float hi[2], nn_error *err)
{
  const size_t n = (size_t) w * h;
  memset (ab, 0, n * 2 * sizeof *ab);
  for (int v = 0; m && v < views; v++)
    {
      nn_code rc = network_pass (m, L, w, h, pw, ph, in, t, v, 1.0f / views,
                                 ab, err);
      if (rc != NN_OK)
        return rc;
    }
  for (int c = 0; c < 2; c++)
    {
      lo[c] = hi[c] = ab[c * n];
      for (size_t i = 1; i < n; i++)
        {
          float v = ab[c * n + i];
          lo[c] = v < lo[c] ? v : lo[c];
          hi[c] = v > hi[c] ? v : hi[c];
        }
    }
  return NN_OK;
}

/* ab (the prior) becomes k x own + (1 - k) x (ab + u): u the solved
 * change, own the strokes' colours spread from neutral (the hints-only
 * solution), k in 0..1 the strokes' reach (1 at the strokes, spread with
 * NN_HINTS_NEAR; see colorize.h).  cover, target (the change asked for
 * at the strokes) as for nn_hints_solve; scratch: 6 planes. */
static nn_code
hints_near_strokes (const float *L, const float *cover, const float *target,
                    const float *u, int w, int h, float *ab, float *scratch,
                    nn_error *err)
{
  size_t n = (size_t) w * h;
  float *t = scratch, *own = scratch + 2 * n, *k = scratch + 4 * n;
  for (size_t i = 0; i < 2 * n; i++)   /* the strokes' absolute colour */
    t[i] = cover[i % n] > 0.0f ? target[i] + ab[i] : 0.0f;
  nn_code rc = nn_hints_solve (L, cover, t, w, h, own, NULL, err);
  for (size_t i = 0; i < 2 * n; i++)
    t[i] = cover[i % n] > 0.0f ? 1.0f : 0.0f;
  if (rc == NN_OK)
    rc = nn_hints_solve_reach (L, cover, t, w, h, NN_HINTS_NEAR, k, NULL,
                               err);
  if (rc != NN_OK)
    return rc;
  for (size_t i = 0; i < 2 * n; i++)
    {
      float r = k[i] < 0.0f ? 0.0f : k[i] > 1.0f ? 1.0f : k[i];
      ab[i] = r * own[i] + (1.0f - r) * (ab[i] + u[i]);
    }
  return NN_OK;
}

/* Hints at the working size (see colorize.h): ab (w x h, two planes) is
 * multiplied by s, then gets the solved change added and, when the prior
 * is a network's (not neutral), the strokes' own colour near them; lo and
 * hi grow to take in the hints' colours.  The hint pixel (X, Y) of a
 * W x H image falls in cell (X * w / W, Y * h / H). */
static nn_code
hints_at_working_size (const colorize_options *opt, const float *L, int w,
                       int h, int W, int H, float s, int neutral, float *ab,
                       float lo[2], float hi[2], nn_error *err)
{
  size_t n = (size_t) w * h;
  float *buf = calloc (n * (neutral ? 5 : 11), sizeof *buf);
  if (!buf)
    return nn_error_set (err, NN_ERR_NOMEM, "colorize: out of memory for "
                         "the hints");
  float *cover = buf, *target = buf + n, *u = buf + 3 * n;
  double cell_area = ((double) W / w) * ((double) H / h);
  for (int c = 0; c < 2; c++)
    {
      lo[c] *= s;
      hi[c] *= s;
    }
  for (size_t i = 0; i < 2 * n; i++)
    ab[i] *= s;
  for (size_t k = 0; k < opt->n_hints; k++)
    {
      const nn_hint *p = &opt->hints[k];
      size_t i = (size_t) ((long) p->y * h / H) * w + (long) p->x * w / W;
      cover[i] += p->alpha;
      target[i] += p->alpha * p->a;
      target[n + i] += p->alpha * p->b;
      lo[0] = p->a < lo[0] ? p->a : lo[0];
      hi[0] = p->a > hi[0] ? p->a : hi[0];
      lo[1] = p->b < lo[1] ? p->b : lo[1];
      hi[1] = p->b > hi[1] ? p->b : hi[1];
    }
  for (size_t i = 0; i < n; i++)
    if (cover[i] > 0.0f)
      {
        target[i] = target[i] / cover[i] - ab[i];
        target[n + i] = target[n + i] / cover[i] - ab[n + i];
        cover[i] = (float) (cover[i] / cell_area);
      }
  nn_code rc = nn_hints_solve (L, cover, target, w, h, u, NULL, err);
  if (rc == NN_OK && !neutral)
    rc = hints_near_strokes (L, cover, target, u, w, h, ab, buf + 5 * n, err);
  else if (rc == NN_OK)    /* hints only: the change from grey is all */
    for (size_t i = 0; i < 2 * n; i++)
      ab[i] += u[i];
  free (buf);
  return rc;
}

/* The hint pixels of rows [y0, y0 + rows): a,b = alpha * the hint's +
 * (1 - alpha) * the result (pixels: those rows). */
static void
hints_at_full_size (const nn_hint *hints, size_t n_hints, float *pixels,
                    int width, int y0, int rows, int channels)
{
  for (size_t k = 0; k < n_hints; k++)
    {
      const nn_hint *p = &hints[k];
      if (p->y < y0 || p->y >= y0 + rows)
        continue;
      float *px = pixels + ((size_t) (p->y - y0) * width + p->x) * channels;
      px[1] = p->alpha * p->a + (1.0f - p->alpha) * px[1];
      px[2] = p->alpha * p->b + (1.0f - p->alpha) * px[2];
    }
}

/* What nn_colorize_apply_rows needs: the guided upsampling's
 * coefficients at the working size, the clamp, the strength, a copy of
 * the hints. */
struct nn_colorize_result {
  int width, height;   /* the image */
  int w, h;            /* the working size */
  float *coef;         /* w x h x 4 (guided_coefficients) */
  float lo[2], hi[2];
  float strength;
  nn_hint *hints;
  size_t n_hints;
};

void
nn_colorize_result_free (nn_colorize_result *r)
{
  if (!r)
    return;
  free (r->coef);
  free (r->hints);
  free (r);
}

static nn_code
cancelled (nn_error *err)
{
  return nn_error_set (err, NN_ERR_CANCELLED, "colorize: cancelled");
}

/* The network's a,b (or the neutral prior) at the working size, with the
 * hints, as coefficients in r (its w, h and width set); progress 0.1 to
 * 0.9.  L: r->w x r->h; the network sees it padded to pw x ph. */
static nn_code
prepare_coefficients (nn_model *m, const float *L, int pw, int ph,
                      const colorize_options *opt, nn_colorize_result *r,
                      nn_error *err)
{
  const int w = r->w, h = r->h;
  nn_code rc = NN_OK;
  float *in = malloc ((size_t) pw * ph * sizeof *in);
  float *ab = malloc ((size_t) w * h * 2 * sizeof *ab);
  if (rc == NN_OK && (!in || !ab))
    rc = nn_error_set (err, NN_ERR_NOMEM, "colorize: out of memory for a "
                       "%dx%d working image", pw, ph);
  float t = opt->temperature > 0.0f ? opt->temperature
                                    : nn_colorize_default_temperature (m);
  int views = opt->views ? opt->views : nn_colorize_default_views (m);
  if (rc == NN_OK)
    rc = network_ab (m, L, w, h, pw, ph, in, t, views, ab, r->lo, r->hi, err);
  if (rc == NN_OK && report (opt, 0.8))
    rc = cancelled (err);
  r->strength = opt->strength * nn_colorize_chroma_scale (m);
  if (rc == NN_OK && m)
    r->strength *= nn_colorize_knee_factor (m, ab, (size_t) w * h);
  if (rc == NN_OK && opt->n_hints)
    {
      rc = hints_at_working_size (opt, L, w, h, r->width, r->height,
                                  r->strength, !m, ab, r->lo, r->hi, err);
      r->strength = 1.0f;
    }
  if (rc == NN_OK && guided_coefficients (L, ab, w, h, r->coef))
    rc = nn_error_set (err, NN_ERR_NOMEM, "colorize: out of memory");
  if (rc == NN_OK && report (opt, 0.9))
    rc = cancelled (err);
  free (in);
  free (ab);
  return rc;
}

nn_code
nn_colorize_prepare (nn_model *m, const float *L, int width, int height,
                     int step, const colorize_options *options,
                     nn_colorize_result **out, nn_error *err)
{
  colorize_options opt = options ? *options : COLORIZE_OPTIONS_DEFAULT;
  *out = NULL;
  if (step < 1 || step > 16)
    return nn_error_set (err, NN_ERR_ARG, "colorize: L %d floats apart: "
                         "expected 1..16", step);
  nn_code rc = check_options (L, width, height, &opt, err);
  int S = opt.working_size ? opt.working_size
                           : nn_colorize_default_working_size (m);
  int w, h, pw, ph;
  if (rc == NN_OK)
    rc = nn_colorize_working_dims (width, height, S, &w, &h, &pw, &ph, err);
  if (rc != NN_OK)
    return rc;
  if (report (&opt, 0.0))
    return cancelled (err);
  nn_colorize_result *r = calloc (1, sizeof *r);
  float *Lw = malloc ((size_t) w * h * sizeof *Lw);
  if (r)
    {
      *r = (nn_colorize_result) { width, height, w, h, NULL, { 0, 0 },
                                  { 0, 0 }, 1.0f, NULL, opt.n_hints };
      r->coef = malloc ((size_t) w * h * 4 * sizeof *r->coef);
      r->hints = opt.n_hints ? malloc (opt.n_hints * sizeof *r->hints) : NULL;
    }
  if (!r || !Lw || !r->coef || (opt.n_hints && !r->hints))
    rc = nn_error_set (err, NN_ERR_NOMEM, "colorize: out of memory for a "
                       "%dx%d working image", w, h);
  else
    {
      if (opt.n_hints)
        memcpy (r->hints, opt.hints, opt.n_hints * sizeof *r->hints);
      /* Downscale L (the network's input is padded and scaled from it). */
      rc = nn_colorize_resample_region (L, width, height, step, 0.0, 0.0,
                                     width, height, Lw, w, h, 1, err);
    }
  if (rc == NN_OK && report (&opt, 0.1))
    rc = cancelled (err);
  if (rc == NN_OK)
    rc = prepare_coefficients (m, Lw, pw, ph, &opt, r, err);
  free (Lw);
  if (rc != NN_OK)
    nn_colorize_result_free (r);
  else
    *out = r;
  return rc;
}

nn_code
nn_colorize_apply_rows (const nn_colorize_result *r, float *pixels, int y0,
                        int rows, int channels, nn_error *err)
{
  if (!r || !pixels)
    return nn_error_set (err, NN_ERR_ARG, "colorize: no result or no pixels");
  if (check_channels (channels, err) != NN_OK)
    return err ? err->code : NN_ERR_ARG;
  if (y0 < 0 || rows < 0 || rows > r->height - y0)
    return nn_error_set (err, NN_ERR_ARG, "colorize: rows %d to %d of a "
                         "%d-row image", y0, y0 + rows, r->height);
  if (guided_apply (r->coef, r->w, r->h, pixels, r->width, r->height, y0,
                    rows, channels, r->lo, r->hi, r->strength))
    return nn_error_set (err, NN_ERR_NOMEM, "colorize: out of memory");
  hints_at_full_size (r->hints, r->n_hints, pixels, r->width, y0, rows,
                      channels);
  return NN_OK;
}

nn_code
nn_colorize_image (nn_model *m, float *pixels, int width, int height,
                int channels, const colorize_options *options, nn_error *err)
{
  nn_colorize_result *r = NULL;
  nn_code rc = pixels ? check_channels (channels, err) : NN_OK;
  if (rc != NN_OK)
    return rc;
  rc = nn_colorize_prepare (m, pixels, width, height, channels,
                                    options, &r, err);
  if (rc == NN_OK)
    rc = nn_colorize_apply_rows (r, pixels, 0, height, channels, err);
  nn_colorize_result_free (r);
  if (rc == NN_OK && options && options->progress)
    options->progress (1.0, options->progress_data);
  return rc;
}
