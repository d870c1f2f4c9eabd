/* conv2d.c - convolution as im2col + sgemm over blocks of output pixels.
 *
 * The output of the batch, seen as cout x (n P) with P = oh * ow, is W
 * (cout x K, K = cin * kh * kw) times the column matrix (K x n P).  The
 * column matrix is built GC columns at a time into the workspace, so its
 * size is K * GC floats whatever the image size; a block may span several
 * small images, so that small layers still make large matrix products.
 */
#include "ompcompat.h"
#include <string.h>
#include <cblas.h>
#include "conv2d.h"
#include "winograd.h"
#include "convfew.h"
#include "convdirect.h"

/* Target size of one column block, in floats (8 MiB). */
#define CONV2D_BLOCK_FLOATS (1 << 21)
#define CONV2D_MIN_BLOCK_COLS 64
#define CONV2D_MAX_SEGMENTS 256

int
nn_conv2d_desc_init (conv2d_desc *d, int n, int cin, int h, int w, int cout,
                  int k, int stride, int pad)
{
  d->n = n;
  d->cin = cin;
  d->h = h;
  d->w = w;
  d->cout = cout;
  d->kh = k;
  d->kw = k;
  d->stride = stride;
  d->pad = pad;
  if (n <= 0 || cin <= 0 || h <= 0 || w <= 0 || cout <= 0 || k <= 0
      || stride <= 0 || pad < 0 || h + 2 * pad < k || w + 2 * pad < k)
    return -1;
  d->oh = (h + 2 * pad - k) / stride + 1;
  d->ow = (w + 2 * pad - k) / stride + 1;
  d->algo = CONV2D_IM2COL;
  return 0;
}

int
nn_conv2d_shift_ok (const conv2d_desc *d)
{
  return d->kh == 3 && d->kw == 3 && d->stride == 1 && d->pad == 1;
}

int
nn_conv2d_phase2_ok (const conv2d_desc *d)
{
  return d->kh == 3 && d->kw == 3 && d->stride == 2 && d->pad == 1;
}

/* ------------------------------------------------------------------ */
/* CONV2D_SHIFT: padded index space.  Image i's pixel (y, x) of plane c
 * is xp[c * L + i * S + (y + 1) * Wp + x + 1]; output pixel (i, y, x) is
 * q = i * S + y * Wp + x, q < Lq; tap t = (ky, kx) reads xp at q + ky Wp
 * + kx.  Columns q of rows y >= h or x >= w are junk (never read back). */

typedef struct shift_geom {
  size_t Wp, S, L, Lq;
} shift_geom;

#define SHIFT_BLOCK 4096

/* Blocks of columns are shared out among the threads, each running its
 * own single-threaded sgemms (OpenBLAS runs one thread inside a parallel
 * region): two threads each on their own products beat two threads on
 * every small product (measured: 1.66x from 1 to 2 threads before).  An
 * even number of blocks per thread, at most SHIFT_BLOCK columns each, so
 * that backward can run the even blocks, then the odd ones, whose shifted
 * writes (2 Wp + 2 columns past a block) never meet when blocks are at
 * least that wide (else backward runs them one after the other). */
static size_t
shift_blocks (const shift_geom *g, size_t *block)
{
  const size_t two_nt = 2 * (size_t) omp_get_max_threads ();
  size_t nb = (g->Lq + SHIFT_BLOCK - 1) / SHIFT_BLOCK;
  nb = (nb + two_nt - 1) / two_nt * two_nt;
  *block = (g->Lq + nb - 1) / nb;
  return nb;
}

static shift_geom
shift_geom_of (const conv2d_desc *d)
{
  shift_geom g;
  g.Wp = (size_t) d->w + 2;
  g.S = g.Wp * ((size_t) d->h + 2);
  g.L = g.S * d->n;
  g.Lq = g.L - 2 * g.Wp - 2;
  return g;
}

/* taps: 9 (CONV2D_SHIFT) or 16 (CONV2D_UP2) kernels; d: the geometry
 * of the padded index space.  Layout: the kernels and their gradients,
 * then forward: xp, a block per thread; backward: xp, dyq, dxp, a set of
 * kernel gradients per thread. */
static size_t
shift_workspace_geom (const conv2d_desc *d, const shift_geom *gp, int taps)
{
  const shift_geom g = *gp;
  const size_t nt = (size_t) omp_get_max_threads ();
  const size_t cc = (size_t) d->cout * d->cin;
  const size_t fwd = g.L * d->cin + nt * d->cout * SHIFT_BLOCK;
  const size_t bwd = 2 * g.L * d->cin + g.Lq * d->cout + nt * taps * cc;
  return 2 * taps * cc + (fwd > bwd ? fwd : bwd);
}

static size_t
shift_workspace_taps (const conv2d_desc *d, int taps)
{
  const shift_geom g = shift_geom_of (d);
  return shift_workspace_geom (d, &g, taps);
}

static size_t
shift_workspace_floats (const conv2d_desc *d)
{
  return shift_workspace_taps (d, 9);
}

/* xp (cin rows of L) = x zero-padded */
static void
shift_pad (const conv2d_desc *d, const shift_geom *g, const float *x, float *xp)
{
#pragma omp parallel for schedule(static) collapse(2)
  for (int c = 0; c < d->cin; c++)
    for (int i = 0; i < d->n; i++)
      {
        float *dst = xp + (size_t) c * g->L + (size_t) i * g->S;
        const float *src = x + ((size_t) i * d->cin + c) * d->h * d->w;
        memset (dst, 0, (g->Wp + 1) * sizeof (float));
        for (int y = 0; y < d->h; y++)
          {
            float *row = dst + (size_t) (y + 1) * g->Wp + 1;
            memcpy (row, src + (size_t) y * d->w, (size_t) d->w * sizeof (float));
            row[d->w] = 0.0f;
            row[d->w + 1] = 0.0f;
          }
        memset (dst + (size_t) (d->h + 1) * g->Wp + 1, 0,
                (g->Wp - 1) * sizeof (float));
      }
}

/* wt[t] (cout x cin) = weight[:, :, ky, kx] for tap t = ky * 3 + kx */
static void
shift_taps (const conv2d_desc *d, const float *weight, float *wt)
{
  const size_t cc = (size_t) d->cout * d->cin;
  for (size_t j = 0; j < cc; j++)
    for (int t = 0; t < 9; t++)
      wt[t * cc + j] = weight[j * 9 + t];
}

/* The valid columns q0 .. q0 + nb - 1 of blk (cout rows of nb), plus bias
 * and the optional ReLU, into y.  d is the geometry of the padded index
 * space; y's images are (step h) x (step w), and column (i, yy, xx) goes
 * to pixel (step yy + phase / 2, step xx + phase % 2) (step 1: phase 0;
 * step 2: the four phases of CONV2D_UP2). */
static void
shift_scatter (const conv2d_desc *d, const shift_geom *g, const float *blk,
               size_t q0, size_t nb, const float *bias, int relu, float *y,
               int step, int phase)
{
  const size_t ow = (size_t) step * d->w, P = (size_t) step * d->h * ow;
  const size_t oy0 = (size_t) (phase / 2), ox0 = (size_t) (phase % 2);
#pragma omp parallel for schedule(static)
  for (int co = 0; co < d->cout; co++)
    {
      const float b = bias ? bias[co] : 0.0f;
      const float *src = blk + (size_t) co * nb;
      size_t q = q0;
      while (q < q0 + nb)
        {
          const size_t i = q / g->S, r = q % g->S;
          const size_t yy = r / g->Wp, xx = r % g->Wp;
          size_t run = g->Wp - xx;
          if (run > q0 + nb - q)
            run = q0 + nb - q;
          if (yy < (size_t) d->h && xx < (size_t) d->w)
            {
              const size_t valid = (size_t) d->w - xx < run ? (size_t) d->w - xx : run;
              float *dst = y + (i * d->cout + co) * P + (step * yy + oy0) * ow
                           + step * xx + ox0;
              const float *s = src + (q - q0);
              if (step == 1 && relu)
                for (size_t k = 0; k < valid; k++)
                  {
                    const float v = s[k] + b;
                    dst[k] = v > 0.0f ? v : 0.0f;
                  }
              else if (step == 1)
                for (size_t k = 0; k < valid; k++)
                  dst[k] = s[k] + b;
              else
                for (size_t k = 0; k < valid; k++)
                  {
                    const float v = s[k] + b;
                    dst[k * step] = relu && !(v > 0.0f) ? 0.0f : v;
                  }
            }
          q += run;
        }
    }
}

/* Forward over all blocks: blk (cout x nb) = sum over the taps t of
 * wt[t] (cout x cin) times xp shifted by off[t]; then scattered into y. */
static void
shift_run_forward (const conv2d_desc *d, const shift_geom *g, const float *xp,
                   const float *wt, const size_t *off, int taps,
                   const float *bias, int relu, float *y, int step, int phase,
                   float *blocks)
{
  const size_t cc = (size_t) d->cout * d->cin;
  size_t bs;
  const long nblocks = (long) shift_blocks (g, &bs);
#pragma omp parallel for schedule(static, 1)
  for (long bi = 0; bi < nblocks; bi++)
    {
      const size_t q0 = (size_t) bi * bs;
      if (q0 >= g->Lq)
        continue;
      const size_t nb = g->Lq - q0 < bs ? g->Lq - q0 : bs;
      float *blk = blocks + (size_t) omp_get_thread_num () * d->cout * SHIFT_BLOCK;
      for (int t = 0; t < taps; t++)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, d->cout,
                     (int) nb, d->cin, 1.0f, wt + t * cc, d->cin,
                     xp + off[t] + q0, (int) g->L, t ? 1.0f : 0.0f, blk,
                     (int) nb);
      shift_scatter (d, g, blk, q0, nb, bias, relu, y, step, phase);
    }
}

/* Backward over all blocks: dwt[t] += dyq * (xp shifted by off[t])^T and,
 * when dxp, dxp shifted by off[t] += wt[t]^T dyq.  acc: taps kernel
 * gradients per thread, summed into dwt at the end in thread order; the
 * static schedule keeps the sums the same from run to run (for a given
 * thread count), as exact resume needs. */
static void
shift_run_backward (const conv2d_desc *d, const shift_geom *g,
                    const float *xp, const float *dyq, const float *wt,
                    const size_t *off, int taps, float *dwt, float *dxp,
                    float *acc)
{
  const size_t cc = (size_t) d->cout * d->cin;
  const int nt = omp_get_max_threads ();
  size_t bs;
  const long nblocks = (long) shift_blocks (g, &bs);
  const int apart = bs >= 2 * g->Wp + 2;
  (void) apart; /* used only by the OpenMP clause */
  memset (acc, 0, (size_t) nt * taps * cc * sizeof (float));
  for (long parity = 0; parity < 2; parity++)
    {
#pragma omp parallel for schedule(static, 1) if (apart)
      for (long bi = parity; bi < nblocks; bi += 2)
        {
          const size_t q0 = (size_t) bi * bs;
          if (q0 >= g->Lq)
            continue;
          const size_t nb = g->Lq - q0 < bs ? g->Lq - q0 : bs;
          float *my = acc + (size_t) omp_get_thread_num () * taps * cc;
          for (int t = 0; t < taps; t++)
            {
              cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, d->cout,
                           d->cin, (int) nb, 1.0f, dyq + q0, (int) g->Lq,
                           xp + off[t] + q0, (int) g->L, 1.0f, my + t * cc,
                           d->cin);
              if (dxp)
                cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, d->cin,
                             (int) nb, d->cout, 1.0f, wt + t * cc, d->cin,
                             dyq + q0, (int) g->Lq, 1.0f, dxp + off[t] + q0,
                             (int) g->L);
            }
        }
    }
  for (int th = 0; th < nt; th++)
    for (size_t j = 0; j < (size_t) taps * cc; j++)
      dwt[j] += acc[(size_t) th * taps * cc + j];
}

/* dyq (cout rows of Lq) = dy (n x cout x h x w, d's h and w) in the
 * padded index space of g, junk columns zero. */
static void
shift_dy (const conv2d_desc *d, const shift_geom *g, const float *dy,
          float *dyq)
{
  const size_t P = (size_t) d->h * d->w;
#pragma omp parallel for schedule(static)
  for (int co = 0; co < d->cout; co++)
    {
      float *row = dyq + (size_t) co * g->Lq;
      memset (row, 0, g->Lq * sizeof (float));
      for (int i = 0; i < d->n; i++)
        for (int yy = 0; yy < d->h; yy++)
          memcpy (row + (size_t) i * g->S + (size_t) yy * g->Wp,
                  dy + ((size_t) i * d->cout + co) * P + (size_t) yy * d->w,
                  (size_t) d->w * sizeof (float));
    }
}

static void
shift_forward (const conv2d_desc *d, const float *x, const float *weight,
               const float *bias, int relu, float *y, float *workspace)
{
  const shift_geom g = shift_geom_of (d);
  const size_t cc = (size_t) d->cout * d->cin;
  float *wt = workspace, *xp = wt + 18 * cc, *blocks = xp + g.L * d->cin;
  size_t off[9];
  for (int t = 0; t < 9; t++)
    off[t] = (size_t) (t / 3) * g.Wp + (size_t) (t % 3);
  shift_taps (d, weight, wt);
  shift_pad (d, &g, x, xp);
  shift_run_forward (d, &g, xp, wt, off, 9, bias, relu, y, 1, 0, blocks);
}

static void
shift_backward (const conv2d_desc *d, const float *x, const float *weight,
                const float *dy, float *dx, float *dweight, float *workspace)
{
  const shift_geom g = shift_geom_of (d);
  const size_t cc = (size_t) d->cout * d->cin;
  float *wt = workspace, *dwt = wt + 9 * cc, *xp = dwt + 9 * cc;
  float *dyq = xp + g.L * d->cin, *dxp = dyq + g.Lq * d->cout;
  const size_t P = (size_t) d->h * d->w;
  shift_taps (d, weight, wt);
  shift_pad (d, &g, x, xp);
  shift_dy (d, &g, dy, dyq);
  memset (dwt, 0, 9 * cc * sizeof (float));
  if (dx)
    memset (dxp, 0, g.L * d->cin * sizeof (float));
  size_t off[9];
  for (int t = 0; t < 9; t++)
    off[t] = (size_t) (t / 3) * g.Wp + (size_t) (t % 3);
  shift_run_backward (d, &g, xp, dyq, wt, off, 9, dwt, dx ? dxp : NULL,
                      dxp + g.L * d->cin);
  for (size_t j = 0; j < cc; j++)
    for (int t = 0; t < 9; t++)
      dweight[j * 9 + t] += dwt[t * cc + j];
  if (dx)
    {
#pragma omp parallel for schedule(static) collapse(2)
      for (int i = 0; i < d->n; i++)
        for (int c = 0; c < d->cin; c++)
          {
            const float *src = dxp + (size_t) c * g.L + (size_t) i * g.S;
            float *dst = dx + ((size_t) i * d->cin + c) * P;
            for (int yy = 0; yy < d->h; yy++)
              memcpy (dst + (size_t) yy * d->w,
                      src + (size_t) (yy + 1) * g.Wp + 1,
                      (size_t) d->w * sizeof (float));
          }
    }
}

static size_t
conv2d_block_cols (const conv2d_desc *d)
{
  size_t k = (size_t) d->cin * d->kh * d->kw;
  size_t p = (size_t) d->oh * d->ow * d->n;
  size_t pc = CONV2D_BLOCK_FLOATS / k;
  if (pc < CONV2D_MIN_BLOCK_COLS)
    pc = CONV2D_MIN_BLOCK_COLS;
  /* a block spans at most CONV2D_MAX_SEGMENTS images */
  if (pc > (size_t) d->oh * d->ow * (CONV2D_MAX_SEGMENTS - 1))
    pc = (size_t) d->oh * d->ow * (CONV2D_MAX_SEGMENTS - 1);
  return pc < p ? pc : p;
}


/* ------------------------------------------------------------------ */
/* CONV2D_UP2.  Output row 2i + p of the upsampled image reads small rows
 * i - 1 + p + a, a = 0, 1; 3x3 row tap ky folds into a = (ky + 1 - p) / 2
 * (same for columns).  Small-image padded geometry as CONV2D_SHIFT's. */

static conv2d_desc
up2_small (const conv2d_desc *d)
{
  conv2d_desc s = *d;
  s.h = d->h / 2;
  s.w = d->w / 2;
  return s;
}

static size_t
up2_workspace_floats (const conv2d_desc *d)
{
  const conv2d_desc sd = up2_small (d);
  return shift_workspace_taps (&sd, 16);
}

/* wt[(phase * 4 + a * 2 + b)] (cout x cin): the folded 2x2 kernels,
 * phase = py * 2 + px */
static void
up2_taps (const conv2d_desc *d, const float *weight, float *wt)
{
  const size_t cc = (size_t) d->cout * d->cin;
  memset (wt, 0, 16 * cc * sizeof (float));
  for (int ph = 0; ph < 4; ph++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++)
        {
          const int a = (ky + 1 - ph / 2) / 2, b = (kx + 1 - ph % 2) / 2;
          float *dst = wt + (size_t) (ph * 4 + a * 2 + b) * cc;
          for (size_t j = 0; j < cc; j++)
            dst[j] += weight[j * 9 + ky * 3 + kx];
        }
}

static size_t
up2_offset (const shift_geom *g, int ph, int tap)
{
  return (size_t) (tap / 2 + ph / 2) * g->Wp + (size_t) (tap % 2 + ph % 2);
}

static void
up2_forward (const conv2d_desc *d, const float *x, const float *weight,
             const float *bias, int relu, float *y, float *workspace)
{
  const conv2d_desc sd = up2_small (d);
  const shift_geom g = shift_geom_of (&sd);
  const size_t cc = (size_t) d->cout * d->cin;
  float *wt = workspace, *xp = wt + 32 * cc, *blocks = xp + g.L * d->cin;
  size_t off[16];
  for (int i = 0; i < 16; i++)
    off[i] = up2_offset (&g, i / 4, i % 4);
  up2_taps (d, weight, wt);
  shift_pad (&sd, &g, x, xp);
  for (int ph = 0; ph < 4; ph++)
    shift_run_forward (&sd, &g, xp, wt + (size_t) ph * 4 * cc, off + ph * 4, 4,
                       bias, relu, y, 2, ph, blocks);
}

static void
up2_backward (const conv2d_desc *d, const float *x, const float *weight,
              const float *dy, float *dx, float *dweight, float *workspace)
{
  const conv2d_desc sd = up2_small (d);
  const shift_geom g = shift_geom_of (&sd);
  const size_t cc = (size_t) d->cout * d->cin;
  float *wt = workspace, *dwt = wt + 16 * cc, *xp = dwt + 16 * cc;
  float *dyq = xp + g.L * d->cin, *dxp = dyq + g.Lq * d->cout;
  const size_t P = (size_t) d->h * d->w;
  up2_taps (d, weight, wt);
  shift_pad (&sd, &g, x, xp);
  memset (dwt, 0, 16 * cc * sizeof (float));
  if (dx)
    memset (dxp, 0, g.L * d->cin * sizeof (float));
  for (int ph = 0; ph < 4; ph++)
    {
      /* dyq = this phase's pixels of dy in the small padded index space */
#pragma omp parallel for schedule(static)
      for (int co = 0; co < d->cout; co++)
        {
          float *row = dyq + (size_t) co * g.Lq;
          memset (row, 0, g.Lq * sizeof (float));
          for (int i = 0; i < d->n; i++)
            for (int yy = 0; yy < sd.h; yy++)
              {
                float *dst = row + (size_t) i * g.S + (size_t) yy * g.Wp;
                const float *src = dy + ((size_t) i * d->cout + co) * P
                                   + (size_t) (2 * yy + ph / 2) * d->w + ph % 2;
                for (int xx = 0; xx < sd.w; xx++)
                  dst[xx] = src[2 * xx];
              }
        }
      size_t off[4];
      for (int t = 0; t < 4; t++)
        off[t] = up2_offset (&g, ph, t);
      shift_run_backward (&sd, &g, xp, dyq, wt + (size_t) ph * 4 * cc, off, 4,
                          dwt + (size_t) ph * 4 * cc, dx ? dxp : NULL,
                          dxp + g.L * d->cin);
    }
  /* each 3x3 tap's gradient: the sum of the folded taps it went into */
  for (int ph = 0; ph < 4; ph++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++)
        {
          const int a = (ky + 1 - ph / 2) / 2, b = (kx + 1 - ph % 2) / 2;
          const float *src = dwt + (size_t) (ph * 4 + a * 2 + b) * cc;
          for (size_t j = 0; j < cc; j++)
            dweight[j * 9 + ky * 3 + kx] += src[j];
        }
  if (dx)
    {
      const size_t Ps = (size_t) sd.h * sd.w;
#pragma omp parallel for schedule(static) collapse(2)
      for (int i = 0; i < d->n; i++)
        for (int c = 0; c < d->cin; c++)
          {
            const float *src = dxp + (size_t) c * g.L + (size_t) i * g.S;
            float *dst = dx + ((size_t) i * d->cin + c) * Ps;
            for (int yy = 0; yy < sd.h; yy++)
              memcpy (dst + (size_t) yy * sd.w,
                      src + (size_t) (yy + 1) * g.Wp + 1,
                      (size_t) sd.w * sizeof (float));
          }
    }
}

/* ------------------------------------------------------------------ */
/* CONV2D_PHASE2: 3x3, stride 2, padding 1, as CONV2D_SHIFT's products on
 * the input's four stride phases.  Phase (py, px) of an image is the
 * (oh + 1) x (ow + 1) plane P[r][c] = x[2r - 1 + py][2c - 1 + px] (zero
 * outside); tap (ky, kx) of output (oy, ox) reads phase (ky == 1, kx ==
 * 1) at (oy + (ky == 2), ox + (kx == 2)).  So the padded index space is
 * the output's with Wp = ow + 1, and each channel's row of xp holds the
 * four phases one after the other (Lph floats each): tap t reads xp at
 * its phase's start plus q + its offset.  Every input pixel is in
 * exactly one phase, so the input gradient is a gather, not a sum. */

/* The output-sized geometry the shifted products run on. */
static conv2d_desc
phase2_out (const conv2d_desc *d)
{
  conv2d_desc o = *d;
  o.h = d->oh;
  o.w = d->ow;
  return o;
}

/* L is the row length of xp (four phases); Lq indexes one phase. */
static shift_geom
phase2_geom_of (const conv2d_desc *d)
{
  shift_geom g;
  g.Wp = (size_t) d->ow + 1;
  g.S = g.Wp * ((size_t) d->oh + 1);
  const size_t lph = g.S * d->n;
  g.L = 4 * lph;
  g.Lq = lph - g.Wp - 1;
  return g;
}

static void
phase2_offsets (const shift_geom *g, size_t off[9])
{
  const size_t lph = g->L / 4;
  for (int t = 0; t < 9; t++)
    {
      const int ky = t / 3, kx = t % 3;
      off[t] = (size_t) ((ky == 1) * 2 + (kx == 1)) * lph
               + (size_t) (ky == 2) * g->Wp + (size_t) (kx == 2);
    }
}

/* The phase cells 0 .. ow of a phase row whose source columns 2c - 1 +
 * px fall inside a row of w pixels are lo .. hi - 1. */
static void
phase2_cols (int ow, int px, int w, int *lo, int *hi)
{
  *lo = px ? 0 : 1;
  int h = (w - px) / 2 + 1; /* 2c - 1 + px <= w - 1 */
  *hi = h < ow + 1 ? h : ow + 1;
}

/* xp (cin rows of 4 phases) = x's phases, zero outside the image; with
 * back non-NULL, the reverse: back (dx, n x cin x h x w) = the cells of
 * xp (every input pixel is in exactly one). */
static void
phase2_pad (const conv2d_desc *d, const shift_geom *g, const float *x,
            float *xp, float *back)
{
  const size_t lph = g->L / 4;
#pragma omp parallel for schedule(static) collapse(2)
  for (int c = 0; c < d->cin; c++)
    for (int i = 0; i < d->n; i++)
      for (int ph = 0; ph < 4; ph++)
        {
          const int py = ph / 2, px = ph % 2;
          float *cells = xp + (size_t) c * g->L + ph * lph + (size_t) i * g->S;
          const size_t plane = ((size_t) i * d->cin + c) * d->h * d->w;
          int lo, hi;
          phase2_cols (d->ow, px, d->w, &lo, &hi);
          for (int r = 0; r <= d->oh; r++)
            {
              const int iy = 2 * r - 1 + py;
              float *dst = cells + (size_t) r * g->Wp;
              if (iy < 0 || iy >= d->h)
                {
                  if (!back)
                    memset (dst, 0, g->Wp * sizeof *dst);
                  continue;
                }
              /* column 2 col - 1 + px of row iy */
              const size_t at = plane + (size_t) iy * d->w + px;
              if (back)
                {
                  for (int col = lo; col < hi; col++)
                    back[at + 2 * (size_t) col - 1] = dst[col];
                  continue;
                }
              for (int col = 0; col <= d->ow; col++)
                dst[col] = col >= lo && col < hi ? x[at + 2 * (size_t) col - 1]
                                                 : 0.0f;
            }
        }
}

static size_t
phase2_workspace_floats (const conv2d_desc *d)
{
  const conv2d_desc od = phase2_out (d);
  const shift_geom g = phase2_geom_of (d);
  return shift_workspace_geom (&od, &g, 9);
}

static void
phase2_forward (const conv2d_desc *d, const float *x, const float *weight,
                const float *bias, int relu, float *y, float *workspace)
{
  const conv2d_desc od = phase2_out (d);
  const shift_geom g = phase2_geom_of (d);
  const size_t cc = (size_t) d->cout * d->cin;
  float *wt = workspace, *xp = wt + 18 * cc, *blocks = xp + g.L * d->cin;
  size_t off[9];
  phase2_offsets (&g, off);
  shift_taps (d, weight, wt);
  phase2_pad (d, &g, x, xp, NULL);
  shift_run_forward (&od, &g, xp, wt, off, 9, bias, relu, y, 1, 0, blocks);
}

static void
phase2_backward (const conv2d_desc *d, const float *x, const float *weight,
                 const float *dy, float *dx, float *dweight, float *workspace)
{
  const conv2d_desc od = phase2_out (d);
  const shift_geom g = phase2_geom_of (d);
  const size_t cc = (size_t) d->cout * d->cin;
  float *wt = workspace, *dwt = wt + 9 * cc, *xp = dwt + 9 * cc;
  float *dyq = xp + g.L * d->cin, *dxp = dyq + g.Lq * d->cout;
  shift_taps (d, weight, wt);
  phase2_pad (d, &g, x, xp, NULL);
  shift_dy (&od, &g, dy, dyq);
  memset (dwt, 0, 9 * cc * sizeof (float));
  if (dx)
    memset (dxp, 0, g.L * d->cin * sizeof (float));
  size_t off[9];
  phase2_offsets (&g, off);
  shift_run_backward (&od, &g, xp, dyq, wt, off, 9, dwt, dx ? dxp : NULL,
                      dxp + g.L * d->cin);
  for (size_t j = 0; j < cc; j++)
    for (int t = 0; t < 9; t++)
      dweight[j * 9 + t] += dwt[t * cc + j];
  if (dx)
    phase2_pad (d, &g, NULL, dxp, dx);
}

/* The geometry of the input gradient of d as a convolution of dy. */
static conv2d_desc
conv2d_transposed (const conv2d_desc *d)
{
  conv2d_desc t = *d;
  t.cin = d->cout;
  t.cout = d->cin;
  return t;
}

static size_t
im2col_workspace_floats (const conv2d_desc *d)
{
  /* column block, its gradient in the backward pass, and a cout x block
   * matrix for blocks that span several images */
  return (2 * (size_t) d->cin * d->kh * d->kw + (size_t) d->cout)
         * conv2d_block_cols (d);
}

static size_t
max_size (size_t a, size_t b)
{
  return a > b ? a : b;
}

size_t
nn_conv2d_workspace_floats (const conv2d_desc *d)
{
  if (d->algo == CONV2D_UP2)
    return up2_workspace_floats (d);
  if (d->algo == CONV2D_SHIFT)
    return shift_workspace_floats (d);
  if (d->algo == CONV2D_PHASE2)
    return phase2_workspace_floats (d);
  if (d->algo == CONV2D_DIRECT)
    return max_size (nn_convdirect_workspace_floats (d),
                     im2col_workspace_floats (d));
  if (d->algo == CONV2D_FEW)
    return nn_convfew_workspace_floats (d);
  if (d->algo == CONV2D_WINO)
    return max_size (nn_wino_workspace_floats (d), im2col_workspace_floats (d));
  if (d->algo == CONV2D_WINO_TRAIN)
    {
      const conv2d_desc t = conv2d_transposed (d);
      return max_size (max_size (nn_wino_workspace_floats (d),
                                 nn_wino_workspace_floats (&t)),
                       nn_wino_backward_weights_floats (d));
    }
  return im2col_workspace_floats (d);
}

size_t
nn_conv2d_forward_workspace_floats (const conv2d_desc *d)
{
  const size_t nt = (size_t) omp_get_max_threads ();
  const size_t cc = (size_t) d->cout * d->cin;
  if (d->algo == CONV2D_SHIFT || d->algo == CONV2D_UP2)
    {
      /* shift_workspace_taps's forward part */
      const int up = d->algo == CONV2D_UP2, taps = up ? 16 : 9;
      const conv2d_desc sd = up ? up2_small (d) : *d;
      const shift_geom g = shift_geom_of (&sd);
      return 2 * taps * cc + g.L * d->cin + nt * d->cout * SHIFT_BLOCK;
    }
  if (d->algo == CONV2D_PHASE2)
    {
      const shift_geom g = phase2_geom_of (d);
      return 18 * cc + g.L * d->cin + nt * d->cout * SHIFT_BLOCK;
    }
  if (d->algo == CONV2D_WINO || d->algo == CONV2D_WINO_TRAIN)
    return nn_wino_workspace_floats (d);
  if (d->algo == CONV2D_DIRECT)
    return nn_convdirect_workspace_floats (d);
  if (d->algo == CONV2D_FEW)
    return nn_convfew_forward_floats (d);
  return im2col_workspace_floats (d);
}

double
nn_conv2d_flops (const conv2d_desc *d)
{
  return 2.0 * d->n * d->cout * d->oh * d->ow * (double) d->cin * d->kh * d->kw;
}

/* The outputs t in [0, run) of a run whose input column is ix0 + t * stride
 * that fall inside 0 .. w - 1 are exactly [*lo, *hi). */
static void
conv2d_valid_run (int ix0, int stride, int w, size_t run, size_t *lo,
                  size_t *hi)
{
  long l = ix0 >= 0 ? 0 : (-ix0 + stride - 1) / stride;
  long h = ix0 >= w ? 0 : (w - 1 - ix0) / stride + 1;
  if (h > (long) run)
    h = (long) run;
  if (l > h)
    l = h;
  *lo = (size_t) l;
  *hi = (size_t) h;
}

/* col (K rows of ld floats) = the input patches of output pixels
 * p0 .. p0 + pc - 1 of one image. */
static void
conv2d_im2col (const conv2d_desc *d, const float *x, size_t p0, size_t pc,
               float *col, size_t ld)
{
  const int K = d->cin * d->kh * d->kw;
#pragma omp parallel for schedule(static)
  for (int r = 0; r < K; r++)
    {
      const int ci = r / (d->kh * d->kw);
      const int ky = (r / d->kw) % d->kh;
      const int kx = r % d->kw;
      const float *xc = x + (size_t) ci * d->h * d->w;
      float *dst = col + (size_t) r * ld;
      int oy = (int) (p0 / d->ow), ox = (int) (p0 % d->ow);
      size_t j = 0;
      while (j < pc)
        {
          /* one run along an output row */
          size_t run = (size_t) (d->ow - ox);
          if (run > pc - j)
            run = pc - j;
          const int iy = oy * d->stride - d->pad + ky;
          if (iy < 0 || iy >= d->h)
            memset (dst + j, 0, run * sizeof (float));
          else
            {
              const float *row = xc + (size_t) iy * d->w;
              const int ix0 = ox * d->stride - d->pad + kx;
              size_t lo, hi;
              conv2d_valid_run (ix0, d->stride, d->w, run, &lo, &hi);
              float *o = dst + j;
              for (size_t t = 0; t < lo; t++)
                o[t] = 0.0f;
              if (d->stride == 1)
                memcpy (o + lo, row + ix0 + (int) lo, (hi - lo) * sizeof (float));
              else
                for (size_t t = lo; t < hi; t++)
                  o[t] = row[ix0 + (int) t * d->stride];
              for (size_t t = hi; t < run; t++)
                o[t] = 0.0f;
            }
          j += run;
          ox = 0;
          oy++;
        }
    }
}

/* dx (one image) += the column gradients dcol (K rows of ld floats) of
 * output pixels p0 .. p0 + pc - 1 scattered back to the input. */
static void
conv2d_col2im (const conv2d_desc *d, const float *dcol, size_t ld, size_t p0,
               size_t pc, float *dx)
{
  const int kk = d->kh * d->kw;
  /* parallel over input channels: rows of one channel touch only it */
#pragma omp parallel for schedule(static)
  for (int ci = 0; ci < d->cin; ci++)
    {
      float *dxc = dx + (size_t) ci * d->h * d->w;
      for (int q = 0; q < kk; q++)
        {
          const int r = ci * kk + q;
          const int ky = q / d->kw;
          const int kx = q % d->kw;
          const float *src = dcol + (size_t) r * ld;
          int oy = (int) (p0 / d->ow), ox = (int) (p0 % d->ow);
          size_t j = 0;
          while (j < pc)
            {
              size_t run = (size_t) (d->ow - ox);
              if (run > pc - j)
                run = pc - j;
              const int iy = oy * d->stride - d->pad + ky;
              if (iy >= 0 && iy < d->h)
                {
                  float *row = dxc + (size_t) iy * d->w;
                  const int ix0 = ox * d->stride - d->pad + kx;
                  const float *in = src + j;
                  size_t lo, hi;
                  conv2d_valid_run (ix0, d->stride, d->w, run, &lo, &hi);
                  if (d->stride == 1)
                    {
                      float *o = row + ix0;
                      for (size_t t = lo; t < hi; t++)
                        o[t] += in[t];
                    }
                  else
                    for (size_t t = lo; t < hi; t++)
                      row[ix0 + (int) t * d->stride] += in[t];
                }
              j += run;
              ox = 0;
              oy++;
            }
        }
    }
}

/* A block of output columns spans whole or partial images of the batch:
 * global column g is pixel g % P of image g / P.  The visitor is called
 * once per image segment with the image, its first pixel, the segment's
 * length and its offset inside the block. */
typedef struct conv2d_segment {
  int n;
  size_t p0, len, off;
} conv2d_segment;

static int
conv2d_segments (size_t g0, size_t gc, size_t P, conv2d_segment *seg, int max)
{
  int count = 0;
  size_t done = 0;
  while (done < gc && count < max)
    {
      size_t g = g0 + done;
      conv2d_segment *s = &seg[count++];
      s->n = (int) (g / P);
      s->p0 = g % P;
      s->len = P - s->p0 < gc - done ? P - s->p0 : gc - done;
      s->off = done;
      done += s->len;
    }
  return count;
}


void
nn_conv2d_forward (const conv2d_desc *d, const float *x, const float *weight,
                const float *bias, float *y, float *workspace)
{
  nn_conv2d_forward_fused (d, x, weight, bias, 0, y, workspace);
}

void
nn_conv2d_forward_fused (const conv2d_desc *d, const float *x,
                      const float *weight, const float *bias, int relu,
                      float *y, float *workspace)
{
  const int K = d->cin * d->kh * d->kw;
  const size_t P = (size_t) d->oh * d->ow, NP = P * d->n;
  const size_t GC = conv2d_block_cols (d);
  const size_t in_plane = (size_t) d->cin * d->h * d->w;
  float *col = workspace, *tmp = workspace + (size_t) K * GC;
  conv2d_segment seg[CONV2D_MAX_SEGMENTS];
  if (d->algo == CONV2D_SHIFT)
    {
      shift_forward (d, x, weight, bias, relu, y, workspace);
      return;
    }
  if (d->algo == CONV2D_UP2)
    {
      up2_forward (d, x, weight, bias, relu, y, workspace);
      return;
    }
  if (d->algo == CONV2D_WINO || d->algo == CONV2D_WINO_TRAIN)
    {
      nn_wino_forward (d, x, weight, 0, bias, relu, y, workspace);
      return;
    }
  if (d->algo == CONV2D_PHASE2)
    {
      phase2_forward (d, x, weight, bias, relu, y, workspace);
      return;
    }
  if (d->algo == CONV2D_FEW)
    {
      nn_convfew_forward (d, x, weight, bias, relu, y, workspace);
      return;
    }
  if (d->algo == CONV2D_DIRECT)
    {
      nn_convdirect_forward (d, x, weight, bias, relu, y, workspace);
      return;
    }
  for (size_t g0 = 0; g0 < NP; g0 += GC)
    {
      const size_t gc = NP - g0 < GC ? NP - g0 : GC;
      const int ns = conv2d_segments (g0, gc, P, seg, CONV2D_MAX_SEGMENTS);
      for (int i = 0; i < ns; i++)
        conv2d_im2col (d, x + seg[i].n * in_plane, seg[i].p0, seg[i].len,
                       col + seg[i].off, gc);
      if (ns == 1)
        {
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, d->cout,
                       (int) gc, K, 1.0f, weight, K, col, (int) gc, 0.0f,
                       y + (size_t) seg[0].n * d->cout * P + seg[0].p0, (int) P);
          continue;
        }
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, d->cout, (int) gc,
                   K, 1.0f, weight, K, col, (int) gc, 0.0f, tmp, (int) gc);
#pragma omp parallel for schedule(static)
      for (int co = 0; co < d->cout; co++)
        for (int i = 0; i < ns; i++)
          memcpy (y + ((size_t) seg[i].n * d->cout + co) * P + seg[i].p0,
                  tmp + (size_t) co * gc + seg[i].off, seg[i].len * sizeof (float));
    }
  if (bias || relu)
    {
#pragma omp parallel for schedule(static) collapse(2)
      for (int n = 0; n < d->n; n++)
        for (int co = 0; co < d->cout; co++)
          {
            float *yc = y + ((size_t) n * d->cout + co) * P;
            const float b = bias ? bias[co] : 0.0f;
            if (relu)
              for (size_t p = 0; p < P; p++)
                yc[p] = yc[p] + b > 0.0f ? yc[p] + b : 0.0f;
            else
              for (size_t p = 0; p < P; p++)
                yc[p] += b;
          }
    }
}

void
nn_conv2d_backward (const conv2d_desc *d, const float *x, const float *weight,
                 const float *dy, float *dx, float *dweight, float *dbias,
                 float *workspace)
{
  const int K = d->cin * d->kh * d->kw;
  const size_t P = (size_t) d->oh * d->ow, NP = P * d->n;
  const size_t GC = conv2d_block_cols (d);
  const size_t in_plane = (size_t) d->cin * d->h * d->w;
  float *col = workspace;
  float *dcol = workspace + (size_t) K * GC;
  float *tmp = dcol + (size_t) K * GC;
  conv2d_segment seg[CONV2D_MAX_SEGMENTS];
  if (dbias)
    {
#pragma omp parallel for schedule(static)
      for (int co = 0; co < d->cout; co++)
        {
          double s = 0.0;
          for (int n = 0; n < d->n; n++)
            {
              const float *g = dy + ((size_t) n * d->cout + co) * P;
              for (size_t p = 0; p < P; p++)
                s += g[p];
            }
          dbias[co] += (float) s;
        }
    }
  if (d->algo == CONV2D_SHIFT)
    {
      shift_backward (d, x, weight, dy, dx, dweight, workspace);
      return;
    }
  if (d->algo == CONV2D_UP2)
    {
      up2_backward (d, x, weight, dy, dx, dweight, workspace);
      return;
    }
  if (d->algo == CONV2D_PHASE2)
    {
      phase2_backward (d, x, weight, dy, dx, dweight, workspace);
      return;
    }
  if (d->algo == CONV2D_FEW)
    {
      nn_convfew_backward (d, x, weight, dy, dx, dweight, workspace);
      return;
    }
  if (d->algo == CONV2D_DIRECT && !dx)
    {
      nn_convdirect_backward_weights (d, x, dy, dweight, workspace);
      return;
    }
  if (d->algo == CONV2D_WINO_TRAIN)
    {
      nn_wino_backward_weights (d, x, dy, dweight, workspace);
      if (dx)
        {
          const conv2d_desc t = conv2d_transposed (d);
          nn_wino_forward (&t, dy, weight, 1, NULL, 0, dx, workspace);
        }
      return;
    }
  if (dx)
    memset (dx, 0, sizeof (float) * d->n * in_plane);
  for (size_t g0 = 0; g0 < NP; g0 += GC)
    {
      const size_t gc = NP - g0 < GC ? NP - g0 : GC;
      const int ns = conv2d_segments (g0, gc, P, seg, CONV2D_MAX_SEGMENTS);
      for (int i = 0; i < ns; i++)
        conv2d_im2col (d, x + seg[i].n * in_plane, seg[i].p0, seg[i].len,
                       col + seg[i].off, gc);
      /* the block of dy as a cout x gc matrix (gathered when it spans
       * several images) */
      const float *dyc;
      size_t lddy;
      if (ns == 1)
        {
          dyc = dy + (size_t) seg[0].n * d->cout * P + seg[0].p0;
          lddy = P;
        }
      else
        {
#pragma omp parallel for schedule(static)
          for (int co = 0; co < d->cout; co++)
            for (int i = 0; i < ns; i++)
              memcpy (tmp + (size_t) co * gc + seg[i].off,
                      dy + ((size_t) seg[i].n * d->cout + co) * P + seg[i].p0,
                      seg[i].len * sizeof (float));
          dyc = tmp;
          lddy = gc;
        }
      /* dW (cout x K) += dy block (cout x gc) * col^T (gc x K) */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, d->cout, K,
                   (int) gc, 1.0f, dyc, (int) lddy, col, (int) gc, 1.0f,
                   dweight, K);
      if (dx)
        {
          /* dcol (K x gc) = W^T (K x cout) * dy block (cout x gc) */
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K, (int) gc,
                       d->cout, 1.0f, weight, K, dyc, (int) lddy, 0.0f, dcol,
                       (int) gc);
          for (int i = 0; i < ns; i++)
            conv2d_col2im (d, dcol + seg[i].off, gc, seg[i].p0, seg[i].len,
                           dx + seg[i].n * in_plane);
        }
    }
}
