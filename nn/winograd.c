/* winograd.c - F(2x2, 3x3) convolution and its weight gradient (see
 * winograd.h).
 *
 *   B^T = | 1  0 -1  0 |    G = | 1    0    0   |    A^T = | 1  1  1  0 |
 *         | 0  1  1  0 |        | 1/2  1/2  1/2 |          | 0  1 -1 -1 |
 *         | 0 -1  1  0 |        | 1/2 -1/2  1/2 |
 *         | 0  1  0 -1 |        | 0    0    1   |
 *
 * Workspace: U (16 x cout x cin), then per thread V (16 x cin x TB) and
 * M (16 x cout x TB) for blocks of TB tiles.
 */
#include "ompcompat.h"
#include "simd.h"
#include <string.h>
#include <cblas.h>
#include "winograd.h"
#include "smallgemm.h"

/* The row transforms in AVX-512 intrinsics where the CPU has it: every
 * tile of a row vectorized, the image's edges by masked loads (the
 * portable loops leave the tiles past a multiple of the vector width to
 * scalar code).  The same operations on the same values: the same
 * bits. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) \
    && !defined(NN_NO_CLONES)
#define WINO_AVX512 1
#include <immintrin.h>
#else
#define WINO_AVX512 0
#endif

/* Floats of V and M per thread, at most (16 MiB); a block has at least
 * WINO_MIN_TILES tiles and at most WINO_MAX_TILES, or WINO_SMALL_TILES
 * in a forward pass whose products are nn_small_gemm's: those with at
 * most WINO_SMALL_CIN input channels.  Measured on the networks' layers
 * in training and inference: 64 or 256 small tiles were slower, and with
 * 256 or 512 input channels sgemm on long blocks was faster at 1024x1024
 * (in training at batch 16 it was not). */
#define WINO_THREAD_FLOATS ((size_t) 1 << 22)
#define WINO_MIN_TILES 32
#define WINO_MAX_TILES 1024
#define WINO_SMALL_TILES 128
#define WINO_SMALL_CIN 128

typedef struct wino_geom {
  int th, tw;     /* tiles per column and row of one image */
  size_t tiles;   /* n th tw */
  size_t tb;      /* tiles per block */
  size_t blocks;
} wino_geom;

int
nn_wino_ok (const conv2d_desc *d)
{
  return d->kh == 3 && d->kw == 3 && d->stride == 1 && d->pad == 1;
}

/* Whether d's forward products go through nn_small_gemm. */
static int
wino_small (const conv2d_desc *d)
{
  return d->cin <= WINO_SMALL_CIN && nn_small_gemm_own ();
}

static wino_geom
wino_geom_of (const conv2d_desc *d, size_t max_tiles)
{
  wino_geom g;
  const size_t nt = (size_t) omp_get_max_threads ();
  g.th = (d->h + 1) / 2;
  g.tw = (d->w + 1) / 2;
  g.tiles = (size_t) d->n * g.th * g.tw;
  size_t tb = WINO_THREAD_FLOATS / (16 * ((size_t) d->cin + d->cout));
  tb = tb / 16 * 16;
  if (tb > max_tiles)
    tb = max_tiles;
  if (tb < WINO_MIN_TILES)
    tb = WINO_MIN_TILES;
  /* every thread gets work when there is enough of it */
  size_t share = (g.tiles + nt - 1) / nt;
  share = (share + 15) / 16 * 16;
  if (share < tb)
    tb = share < WINO_MIN_TILES ? WINO_MIN_TILES : share;
  g.tb = tb;
  g.blocks = (g.tiles + tb - 1) / tb;
  return g;
}

/* U[xi] (cout x cin) = G g G^T for every kernel g (see nn_wino_forward
 * for flip). */
/* Kernel elements transformed per chunk. */
#define WINO_KCHUNK 256

/* u[xi * cc + j] = (G g G^T)[xi] for the kernels j0 .. j0 + n - 1 (j = o
 * cin + i), g gathered first into nine planes p[t][k] so that the
 * arithmetic runs over contiguous elements (it vectorizes). */
NN_VECTOR_CLONES static void
wino_kernel_chunk (const conv2d_desc *d, const float *weight, int flip,
                   size_t j0, int n, float *u)
{
  const size_t cc = (size_t) d->cout * d->cin;
  float p[9][WINO_KCHUNK], t[4][3][WINO_KCHUNK];
  for (int k = 0; k < n; k++)
    {
      const size_t j = j0 + (size_t) k;
      const size_t o = j / (size_t) d->cin, i = j % (size_t) d->cin;
      for (int q = 0; q < 9; q++)
        p[q][k] = flip ? weight[(i * (size_t) d->cout + o) * 9 + (8 - q)]
                       : weight[j * 9 + q];
    }
  for (int c = 0; c < 3; c++)
    for (int k = 0; k < n; k++)
      {
        const float g0 = p[c][k], g1 = p[3 + c][k], g2 = p[6 + c][k];
        t[0][c][k] = g0;
        t[1][c][k] = 0.5f * (g0 + g1 + g2);
        t[2][c][k] = 0.5f * (g0 - g1 + g2);
        t[3][c][k] = g2;
      }
  for (int r = 0; r < 4; r++)
    {
      float *u0 = u + (size_t) (r * 4) * cc + j0, *u1 = u0 + cc;
      float *u2 = u1 + cc, *u3 = u2 + cc;
      for (int k = 0; k < n; k++)
        {
          const float a = t[r][0][k], b = t[r][1][k], e = t[r][2][k];
          u0[k] = a;
          u1[k] = 0.5f * (a + b + e);
          u2[k] = 0.5f * (a - b + e);
          u3[k] = e;
        }
    }
}

void
nn_wino_kernels (const conv2d_desc *d, const float *weight, int flip, float *u)
{
  const size_t cc = (size_t) d->cout * d->cin;
  const long chunks = (long) ((cc + WINO_KCHUNK - 1) / WINO_KCHUNK);
#pragma omp parallel for schedule(static)
  for (long c = 0; c < chunks; c++)
    {
      const size_t j0 = (size_t) c * WINO_KCHUNK;
      wino_kernel_chunk (d, weight, flip, j0,
                         (int) (cc - j0 < WINO_KCHUNK ? cc - j0 : WINO_KCHUNK),
                         u);
    }
}

/* A run of tiles of one tile row: image i, tile row ty, tiles tx ..
 * tx + len - 1, at j0 .. j0 + len - 1 of their block. */
typedef struct wino_run {
  size_t i, j0;
  int ty, tx, len;
} wino_run;

/* The runs of tiles t0 .. t0 + nb - 1 into runs[] (at most nb); returns
 * their count. */
static int
wino_runs (const wino_geom *g, size_t t0, size_t nb, wino_run *runs)
{
  const size_t per = (size_t) g->th * g->tw;
  int count = 0;
  for (size_t t = t0; t < t0 + nb;)
    {
      wino_run *r = &runs[count++];
      r->i = t / per;
      r->ty = (int) (t % per / g->tw);
      r->tx = (int) (t % g->tw);
      r->len = g->tw - r->tx;
      if ((size_t) r->len > t0 + nb - t)
        r->len = (int) (t0 + nb - t);
      r->j0 = t - t0;
      t += (size_t) r->len;
    }
  return count;
}

/* Per-thread scratch floats of the transforms: the 16 rows of one run's
 * row transforms (the output transform uses 8 of them). */
static size_t
wino_scratch_floats (const wino_geom *g)
{
  return (16 * (size_t) g->tw + 15) / 16 * 16;
}

/* One thread's floats: V, M, the transforms' scratch and the runs of a
 * block (a multiple of 16 floats, so that every part stays aligned). */
static size_t
wino_thread_floats (const conv2d_desc *d, const wino_geom *g)
{
  const size_t runs = (g->tb * sizeof (wino_run) + 63) / 64 * 16;
  return 16 * ((size_t) d->cin + d->cout) * g->tb + wino_scratch_floats (g)
         + runs;
}

/* h0..h3[k] = the row transform d B of the four columns x + 2 k .. x +
 * 2 k + 3 of row, for the tiles k0 .. k1 - 1, whose columns all lie inside
 * the row (restrict: so that GCC vectorizes it without checks of
 * overlap). */
static inline __attribute__ ((always_inline)) void
wino_row_in_span (int k0, int k1, const float *restrict row, int x,
                  float *restrict h0, float *restrict h1, float *restrict h2,
                  float *restrict h3)
{
  for (int k = k0; k < k1; k++)
    {
      const float p0 = row[x + 2 * k], p1 = row[x + 2 * k + 1];
      const float p2 = row[x + 2 * k + 2], p3 = row[x + 2 * k + 3];
      h0[k] = p0 - p2;
      h1[k] = p1 + p2;
      h2[k] = p2 - p1;
      h3[k] = p1 - p3;
    }
}

/* The same for one tile k at the row's edge, zeros outside it. */
static void
wino_row_in_edge (int k, const float *row, int w, int x, float *h0,
                  float *h1, float *h2, float *h3)
{
  float p[4];
  for (int m = 0; m < 4; m++)
    {
      const int xx = x + 2 * k + m;
      p[m] = xx >= 0 && xx < w ? row[xx] : 0.0f;
    }
  h0[k] = p[0] - p[2];
  h1[k] = p[1] + p[2];
  h2[k] = p[2] - p[1];
  h3[k] = p[1] - p[3];
}

/* nn_wino_portable's switch: the portable loops whatever the CPU. */
static int wino_forced_portable;

void
nn_wino_portable (int on)
{
  __atomic_store_n (&wino_forced_portable, on != 0, __ATOMIC_RELAXED);
}

#if WINO_AVX512
/* Whether the AVX-512 transforms run: the CPU has AVX-512 F (checked
 * once; the same answer for every thread) and nn_wino_portable did not
 * ask for the portable loops. */
static int
wino_avx512 (void)
{
  return nn_simd_avx512 ()
         && !__atomic_load_n (&wino_forced_portable, __ATOMIC_RELAXED);
}

/* The lanes l with column c + l inside 0 .. w - 1. */
static __mmask16
wino_cols (int c, int w)
{
  const int lo = c < 0 ? -c : 0, hi = w - c < 16 ? w - c : 16;
  if (hi <= lo)
    return 0;
  return (__mmask16) (((1u << hi) - 1) & ~((1u << lo) - 1));
}

/* 16 floats of row from column c on, zeros outside 0 .. w - 1 (the
 * masked-off lanes are not read). */
__attribute__ ((target ("avx512f"))) static inline __m512
wino_load_cols (const float *row, int c, int w, __mmask16 lanes)
{
  return _mm512_maskz_loadu_ps (wino_cols (c, w) & lanes,
                                (const char *) row + (ptrdiff_t) c * 4);
}

/* wino_row_in's transform, 16 tiles at a time: columns x + 2 k .. x + 2 k
 * + 33 as even and odd lanes, the third and fourth columns by shifting in
 * the next pair. */
__attribute__ ((target ("avx512f"))) static inline void
wino_row_in_avx512 (const conv2d_desc *d, const wino_run *r, const float *xc,
                    int yy, float *hr)
{
  const int len = r->len, w = d->w, x = 2 * r->tx - 1;
  float *h0 = hr, *h1 = hr + len, *h2 = hr + 2 * len, *h3 = hr + 3 * len;
  if (yy < 0 || yy >= d->h)
    {
      memset (hr, 0, 4 * (size_t) len * sizeof *hr);
      return;
    }
  const float *row = xc + (size_t) yy * w;
  const __m512i ie = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
                                        20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_add_epi32 (ie, _mm512_set1_epi32 (1));
  const __m512i one = _mm512_set1_epi32 (1);
  for (int k = 0; k < len; k += 16)
    {
      const int c = x + 2 * k;
      const __m512 lo = wino_load_cols (row, c, w, 0xffff);
      const __m512 hi = wino_load_cols (row, c + 16, w, 0xffff);
      const __m512 ex = wino_load_cols (row, c + 32, w, 0x3);
      const __m512 p0 = _mm512_permutex2var_ps (lo, ie, hi);
      const __m512 p1 = _mm512_permutex2var_ps (lo, io, hi);
      const __m512 p2 = _mm512_castsi512_ps (_mm512_alignr_epi32 (
          _mm512_castps_si512 (ex), _mm512_castps_si512 (p0), 1));
      const __m512 p3 = _mm512_castsi512_ps (_mm512_alignr_epi32 (
          _mm512_castps_si512 (_mm512_permutexvar_ps (one, ex)),
          _mm512_castps_si512 (p1), 1));
      const __mmask16 mk = len - k >= 16 ? 0xffff
                           : (__mmask16) ((1u << (len - k)) - 1);
      _mm512_mask_storeu_ps (h0 + k, mk, _mm512_sub_ps (p0, p2));
      _mm512_mask_storeu_ps (h1 + k, mk, _mm512_add_ps (p1, p2));
      _mm512_mask_storeu_ps (h2 + k, mk, _mm512_sub_ps (p2, p1));
      _mm512_mask_storeu_ps (h3 + k, mk, _mm512_sub_ps (p1, p3));
    }
}

/* wino_row_dy's transform, 16 tiles at a time (-d1 by flipping the sign
 * bit, as the C negation does). */
__attribute__ ((target ("avx512f"))) static inline void
wino_row_dy_avx512 (const conv2d_desc *d, const wino_run *r, const float *dyc,
                    int yy, float *hr)
{
  const int len = r->len, w = d->w, x = 2 * r->tx;
  float *h0 = hr, *h1 = hr + len, *h2 = hr + 2 * len, *h3 = hr + 3 * len;
  if (yy >= d->h)
    {
      memset (hr, 0, 4 * (size_t) len * sizeof *hr);
      return;
    }
  const float *row = dyc + (size_t) yy * w;
  const __m512i ie = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
                                        20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_add_epi32 (ie, _mm512_set1_epi32 (1));
  const __m512i sign = _mm512_set1_epi32 ((int) 0x80000000u);
  for (int k = 0; k < len; k += 16)
    {
      const int c = x + 2 * k;
      const __m512 lo = wino_load_cols (row, c, w, 0xffff);
      const __m512 hi = wino_load_cols (row, c + 16, w, 0xffff);
      const __m512 p0 = _mm512_permutex2var_ps (lo, ie, hi);
      const __m512 p1 = _mm512_permutex2var_ps (lo, io, hi);
      const __mmask16 mk = len - k >= 16 ? 0xffff
                           : (__mmask16) ((1u << (len - k)) - 1);
      _mm512_mask_storeu_ps (h0 + k, mk, p0);
      _mm512_mask_storeu_ps (h1 + k, mk, _mm512_add_ps (p0, p1));
      _mm512_mask_storeu_ps (h2 + k, mk, _mm512_sub_ps (p0, p1));
      _mm512_mask_storeu_ps (h3 + k, mk, _mm512_castsi512_ps (
          _mm512_xor_si512 (_mm512_castps_si512 (p1), sign)));
    }
}
#endif

/* hr (4 x len) = d B, the row transform, for the 4x4 patches of run r
 * along input row yy of plane xc (zeros outside the image).  The tiles
 * inside the row read it in place; those at its ends, one by one. */
NN_VECTOR_CLONES static void
wino_row_in (const conv2d_desc *d, const wino_run *r, const float *xc, int yy,
             float *hr)
{
  const int len = r->len;
  float *h0 = hr, *h1 = hr + len, *h2 = hr + 2 * len, *h3 = hr + 3 * len;
  if (yy < 0 || yy >= d->h)
    {
      memset (hr, 0, 4 * (size_t) len * sizeof *hr);
      return;
    }
  const float *row = xc + (size_t) yy * d->w;
  /* tile k reads columns x + 2 k .. x + 2 k + 3: inside for k0 <= k < k1 */
  const int x = 2 * r->tx - 1, lim = d->w - 4 - x;
  const int k0 = x < 0 ? 1 : 0;
  int k1 = lim < 0 ? 0 : lim / 2 + 1;
  if (k1 > len)
    k1 = len;
  if (k1 < k0)
    k1 = k0;
  for (int k = 0; k < k0 && k < len; k++)
    wino_row_in_edge (k, row, d->w, x, h0, h1, h2, h3);
  wino_row_in_span (k0, k1, row, x, h0, h1, h2, h3);
  for (int k = k1; k < len; k++)
    wino_row_in_edge (k, row, d->w, x, h0, h1, h2, h3);
}

/* v0..v3 (len each) = B^T's rows applied to the row transforms a, b, e,
 * f of a patch's four rows (restrict: so that GCC vectorizes the loop
 * without checks of overlap). */
static inline __attribute__ ((always_inline)) void
wino_col_in (int len, const float *restrict a, const float *restrict b,
             const float *restrict e, const float *restrict f,
             float *restrict v0, float *restrict v1, float *restrict v2,
             float *restrict v3)
{
  for (int k = 0; k < len; k++)
    {
      v0[k] = a[k] - e[k];
      v1[k] = b[k] + e[k];
      v2[k] = e[k] - b[k];
      v3[k] = b[k] - f[k];
    }
}

/* Whether run q is the tile row below run p, over the same columns (its
 * patches' first two input rows are then p's last two). */
static int
wino_run_below (const wino_run *p, const wino_run *q)
{
  return q->i == p->i && q->ty == p->ty + 1 && q->tx == p->tx
         && q->len == p->len;
}

/* V (16 x cin x tb) = B^T d B for the tiles of the runs, channel by
 * channel; a run's tiles are consecutive, so each of V's rows is written
 * in order.  hq[q] (4 x len) holds the row transforms of the patches'
 * input row q; a run below the previous one takes that run's rows 2 and
 * 3 as its rows 0 and 1 (the same numbers: each input row is transformed
 * once instead of twice). */
static inline __attribute__ ((always_inline)) void
wino_input_body (const conv2d_desc *d, const wino_geom *g, const float *x,
                 const wino_run *runs, int nruns, float *v, float *scratch,
                 int avx512)
{
  const size_t plane = (size_t) d->h * d->w, step = (size_t) d->cin * g->tb;
  float *hb = scratch;
  for (int c = 0; c < d->cin; c++)
    {
      float *hq[4];
      for (int q = 0; q < 4; q++)
        hq[q] = hb + (size_t) q * 4 * g->tw;
      for (int ri = 0; ri < nruns; ri++)
        {
          const wino_run *r = &runs[ri];
          const int len = r->len;
          const float *xc = x + (r->i * d->cin + c) * plane;
          int q0 = 0;
          if (ri > 0 && wino_run_below (&runs[ri - 1], r))
            {
              float *t0 = hq[0], *t1 = hq[1];
              hq[0] = hq[2];
              hq[1] = hq[3];
              hq[2] = t0;
              hq[3] = t1;
              q0 = 2;
            }
          for (int q = q0; q < 4; q++)
            {
#if WINO_AVX512
              if (avx512)
                {
                  wino_row_in_avx512 (d, r, xc, 2 * r->ty - 1 + q, hq[q]);
                  continue;
                }
#endif
              wino_row_in (d, r, xc, 2 * r->ty - 1 + q, hq[q]);
            }
          for (int s = 0; s < 4; s++)
            {
              float *v0 = v + (size_t) s * step + (size_t) c * g->tb + r->j0;
              wino_col_in (len, hq[0] + (size_t) s * len,
                           hq[1] + (size_t) s * len, hq[2] + (size_t) s * len,
                           hq[3] + (size_t) s * len, v0, v0 + 4 * step,
                           v0 + 8 * step, v0 + 12 * step);
            }
        }
    }
}

NN_VECTOR_CLONES static void
wino_input (const conv2d_desc *d, const wino_geom *g, const float *x,
            const wino_run *runs, int nruns, float *v, float *scratch)
{
  wino_input_body (d, g, x, runs, nruns, v, scratch, 0);
}

#if WINO_AVX512
__attribute__ ((target ("avx512f"))) static void
wino_input_avx512 (const conv2d_desc *d, const wino_geom *g, const float *x,
                   const wino_run *runs, int nruns, float *v, float *scratch)
{
  wino_input_body (d, g, x, runs, nruns, v, scratch, 1);
}
#endif

/* V for the runs, by the CPU's best code. */
static void
wino_input_any (const conv2d_desc *d, const wino_geom *g, const float *x,
                const wino_run *runs, int nruns, float *v, float *scratch)
{
#if WINO_AVX512
  if (wino_avx512 ())
    {
      wino_input_avx512 (d, g, x, runs, nruns, v, scratch);
      return;
    }
#endif
  wino_input (d, g, x, runs, nruns, v, scratch);
}

/* u0, u1 (len each) = A^T's rows applied to the products m0..m3 (restrict
 * as wino_col_in). */
static inline __attribute__ ((always_inline)) void
wino_col_out (int len, const float *restrict m0, const float *restrict m1,
              const float *restrict m2, const float *restrict m3,
              float *restrict u0, float *restrict u1)
{
  for (int k = 0; k < len; k++)
    {
      u0[k] = m0[k] + m1[k] + m2[k];
      u1[k] = m1[k] - m2[k] - m3[k];
    }
}

/* yr[2 k], yr[2 k + 1] for k < n = A^T's rows applied to u0..u3, plus bv,
 * then ReLU when relu is non-zero: the output row written in place. */
static inline __attribute__ ((always_inline)) void
wino_row_out (int n, const float *restrict u0, const float *restrict u1,
              const float *restrict u2, const float *restrict u3, float bv,
              int relu, float *restrict yr)
{
  for (int k = 0; k < n; k++)
    {
      const float a = u0[k] + u1[k] + u2[k] + bv;
      const float b = u1[k] - u2[k] - u3[k] + bv;
      yr[2 * k] = relu && !(a > 0.0f) ? 0.0f : a;
      yr[2 * k + 1] = relu && !(b > 0.0f) ? 0.0f : b;
    }
}

/* y's tiles of the runs = A^T M A (+ bias, ReLU), channel by channel. */
NN_VECTOR_CLONES static void
wino_output (const conv2d_desc *d, const wino_geom *g, const float *m,
             const wino_run *runs, int nruns, const float *bias, int relu,
             float *y, float *scratch)
{
  const size_t plane = (size_t) d->h * d->w, step = (size_t) d->cout * g->tb;
  for (int co = 0; co < d->cout; co++)
    for (int ri = 0; ri < nruns; ri++)
      {
        const wino_run *r = &runs[ri];
        const int len = r->len;
        const float bv = bias ? bias[co] : 0.0f;
        float *ub = scratch;
        /* ub[q][s] (len each) = (A^T M)[q][s] */
        for (int s = 0; s < 4; s++)
          {
            const float *m0 = m + (size_t) s * step + (size_t) co * g->tb + r->j0;
            wino_col_out (len, m0, m0 + 4 * step, m0 + 8 * step,
                          m0 + 12 * step, ub + (size_t) s * len,
                          ub + (size_t) (4 + s) * len);
          }
        float *yc = y + (r->i * d->cout + co) * plane;
        /* the run's columns inside the image: whole tiles, then at an
         * odd width the last tile's first column */
        const int cols = 2 * len < d->w - 2 * r->tx ? 2 * len : d->w - 2 * r->tx;
        const int whole = cols / 2;
        for (int q = 0; q < 2 && 2 * r->ty + q < d->h; q++)
          {
            const float *u0 = ub + (size_t) q * 4 * len, *u1 = u0 + len;
            const float *u2 = u0 + 2 * len, *u3 = u0 + 3 * len;
            float *yr = yc + (size_t) (2 * r->ty + q) * d->w + 2 * r->tx;
            wino_row_out (whole, u0, u1, u2, u3, bv, relu, yr);
            if (cols > 2 * whole)
              {
                const float a = u0[whole] + u1[whole] + u2[whole] + bv;
                yr[2 * whole] = relu && !(a > 0.0f) ? 0.0f : a;
              }
          }
      }
}

size_t
nn_wino_workspace_floats (const conv2d_desc *d)
{
  const wino_geom g = wino_geom_of (d, wino_small (d) ? WINO_SMALL_TILES
                                                     : WINO_MAX_TILES);
  const size_t nt = (size_t) omp_get_max_threads ();
  return (16 * (size_t) d->cout * d->cin + 15) / 16 * 16
         + nt * wino_thread_floats (d, &g);
}

size_t
nn_wino_kernel_floats (const conv2d_desc *d)
{
  return 16 * (size_t) d->cout * d->cin;
}

void
nn_wino_forward (const conv2d_desc *d, const float *x, const float *weight,
                 int flip, const float *bias, int relu, float *y,
                 float *workspace)
{
  const size_t ku = (nn_wino_kernel_floats (d) + 15) / 16 * 16;
  nn_wino_kernels (d, weight, flip, workspace);
  nn_wino_forward_kernels (d, x, workspace, bias, relu, y, workspace + ku);
}

/* h0..h3[k] = dy A^T for columns x + 2 k, x + 2 k + 1 of row, tiles k0
 * .. k1 - 1 (inside the row; restrict as wino_row_in_span).  A^T's rows
 * are (1 1 1 0) and (0 1 -1 -1): (d0, d1) -> (d0, d0 + d1, d0 - d1,
 * -d1). */
static inline __attribute__ ((always_inline)) void
wino_row_dy_span (int k0, int k1, const float *restrict row, int x,
                  float *restrict h0, float *restrict h1, float *restrict h2,
                  float *restrict h3)
{
  for (int k = k0; k < k1; k++)
    {
      const float p0 = row[x + 2 * k], p1 = row[x + 2 * k + 1];
      h0[k] = p0;
      h1[k] = p0 + p1;
      h2[k] = p0 - p1;
      h3[k] = -p1;
    }
}

/* hr (4 x len) = dy A^T, the row transform of the weight gradient, for
 * the 2x2 output tiles of run r along output row yy of plane dyc (zeros
 * past the image). */
NN_VECTOR_CLONES static void
wino_row_dy (const conv2d_desc *d, const wino_run *r, const float *dyc, int yy,
             float *hr)
{
  const int len = r->len;
  float *h0 = hr, *h1 = hr + len, *h2 = hr + 2 * len, *h3 = hr + 3 * len;
  if (yy >= d->h)
    {
      memset (hr, 0, 4 * (size_t) len * sizeof *hr);
      return;
    }
  const float *row = dyc + (size_t) yy * d->w;
  /* tile k reads columns x + 2 k, x + 2 k + 1: inside for k < k1 */
  const int x = 2 * r->tx, lim = d->w - 2 - x;
  int k1 = lim < 0 ? 0 : lim / 2 + 1;
  if (k1 > len)
    k1 = len;
  wino_row_dy_span (0, k1, row, x, h0, h1, h2, h3);
  for (int k = k1; k < len; k++)
    {
      const float p0 = x + 2 * k < d->w ? row[x + 2 * k] : 0.0f;
      const float p1 = x + 2 * k + 1 < d->w ? row[x + 2 * k + 1] : 0.0f;
      h0[k] = p0;
      h1[k] = p0 + p1;
      h2[k] = p0 - p1;
      h3[k] = -p1;
    }
}

/* e0..e3 (len each) = A's rows applied to the row transforms a, b of a
 * tile's two output rows (restrict as wino_col_in). */
static inline __attribute__ ((always_inline)) void
wino_col_dy (int len, const float *restrict a, const float *restrict b,
             float *restrict e0, float *restrict e1, float *restrict e2,
             float *restrict e3)
{
  for (int k = 0; k < len; k++)
    {
      e0[k] = a[k];
      e1[k] = a[k] + b[k];
      e2[k] = a[k] - b[k];
      e3[k] = -b[k];
    }
}

/* e (16 x cout x tb) = A dy A^T for the output tiles of the runs, channel
 * by channel (the transpose of wino_output). */
static inline __attribute__ ((always_inline)) void
wino_dy_body (const conv2d_desc *d, const wino_geom *g, const float *dy,
              const wino_run *runs, int nruns, float *e, float *scratch,
              int avx512)
{
  const size_t plane = (size_t) d->h * d->w, step = (size_t) d->cout * g->tb;
  float *hb = scratch;
  for (int co = 0; co < d->cout; co++)
    for (int ri = 0; ri < nruns; ri++)
      {
        const wino_run *r = &runs[ri];
        const int len = r->len;
        const float *dyc = dy + (r->i * d->cout + co) * plane;
#if WINO_AVX512
        if (avx512)
          {
            wino_row_dy_avx512 (d, r, dyc, 2 * r->ty, hb);
            wino_row_dy_avx512 (d, r, dyc, 2 * r->ty + 1,
                                hb + 4 * (size_t) len);
          }
        else
#endif
          {
            wino_row_dy (d, r, dyc, 2 * r->ty, hb);
            wino_row_dy (d, r, dyc, 2 * r->ty + 1, hb + 4 * (size_t) len);
          }
        for (int s = 0; s < 4; s++)
          {
            float *e0 = e + (size_t) s * step + (size_t) co * g->tb + r->j0;
            wino_col_dy (len, hb + (size_t) s * len,
                         hb + (size_t) (4 + s) * len, e0, e0 + 4 * step,
                         e0 + 8 * step, e0 + 12 * step);
          }
      }
}

NN_VECTOR_CLONES static void
wino_dy (const conv2d_desc *d, const wino_geom *g, const float *dy,
         const wino_run *runs, int nruns, float *e, float *scratch)
{
  wino_dy_body (d, g, dy, runs, nruns, e, scratch, 0);
}

#if WINO_AVX512
__attribute__ ((target ("avx512f"))) static void
wino_dy_avx512 (const conv2d_desc *d, const wino_geom *g, const float *dy,
                const wino_run *runs, int nruns, float *e, float *scratch)
{
  wino_dy_body (d, g, dy, runs, nruns, e, scratch, 1);
}
#endif

/* E for the runs, by the CPU's best code. */
static void
wino_dy_any (const conv2d_desc *d, const wino_geom *g, const float *dy,
             const wino_run *runs, int nruns, float *e, float *scratch)
{
#if WINO_AVX512
  if (wino_avx512 ())
    {
      wino_dy_avx512 (d, g, dy, runs, nruns, e, scratch);
      return;
    }
#endif
  wino_dy (d, g, dy, runs, nruns, e, scratch);
}

/* dweight[j] += G^T M G for the kernels j0 .. j0 + n - 1, M[xi] the sum
 * over the nt threads' products acc[th][xi] in thread order (the
 * transpose of wino_kernel_chunk). */
NN_VECTOR_CLONES static void
wino_dweight_chunk (const conv2d_desc *d, const float *acc, int nt, size_t j0,
                    int n, float *dweight)
{
  const size_t cc = (size_t) d->cout * d->cin;
  float m[16][WINO_KCHUNK], t[3][4][WINO_KCHUNK], o[9][WINO_KCHUNK];
  for (int xi = 0; xi < 16; xi++)
    {
      memcpy (m[xi], acc + (size_t) xi * cc + j0, (size_t) n * sizeof (float));
      for (int th = 1; th < nt; th++)
        {
          const float *a = acc + ((size_t) th * 16 + xi) * cc + j0;
          for (int k = 0; k < n; k++)
            m[xi][k] += a[k];
        }
    }
  /* t = G^T M (3 x 4), G^T's rows (1 1/2 1/2 0), (0 1/2 -1/2 0),
   * (0 1/2 1/2 1) */
  for (int s = 0; s < 4; s++)
    for (int k = 0; k < n; k++)
      {
        const float a = m[s][k], b = m[4 + s][k], c = m[8 + s][k];
        const float e = m[12 + s][k];
        t[0][s][k] = a + 0.5f * (b + c);
        t[1][s][k] = 0.5f * (b - c);
        t[2][s][k] = 0.5f * (b + c) + e;
      }
  /* o = t G (3 x 3) */
  for (int r = 0; r < 3; r++)
    for (int k = 0; k < n; k++)
      {
        const float a = t[r][0][k], b = t[r][1][k], c = t[r][2][k];
        const float e = t[r][3][k];
        o[3 * r][k] = a + 0.5f * (b + c);
        o[3 * r + 1][k] = 0.5f * (b - c);
        o[3 * r + 2][k] = 0.5f * (b + c) + e;
      }
  for (int k = 0; k < n; k++)
    for (int q = 0; q < 9; q++)
      dweight[(j0 + (size_t) k) * 9 + q] += o[q][k];
}

/* Floats of one thread's sum of the 16 products M[xi] (cout x cin). */
static size_t
wino_acc_floats (const conv2d_desc *d)
{
  return (16 * (size_t) d->cout * d->cin + 15) / 16 * 16;
}

size_t
nn_wino_backward_weights_floats (const conv2d_desc *d)
{
  const wino_geom g = wino_geom_of (d, WINO_MAX_TILES);
  const size_t nt = (size_t) omp_get_max_threads ();
  return nt * (wino_acc_floats (d) + wino_thread_floats (d, &g));
}

void
nn_wino_backward_weights (const conv2d_desc *d, const float *x,
                          const float *dy, float *dweight, float *workspace)
{
  const wino_geom g = wino_geom_of (d, WINO_MAX_TILES);
  const size_t cc = (size_t) d->cout * d->cin;
  const int nt = omp_get_max_threads ();
  const size_t per_acc = wino_acc_floats (d);
  const size_t per_thread = wino_thread_floats (d, &g);
  float *acc = workspace, *scratch = acc + (size_t) nt * per_acc;
  memset (acc, 0, (size_t) nt * per_acc * sizeof (float));
  /* each thread sums the products of its own blocks (the static schedule
   * gives the same blocks to the same thread from run to run, so the
   * sums are the same bits, as exact resume needs) */
#pragma omp parallel for schedule(static, 1)
  for (long bi = 0; bi < (long) g.blocks; bi++)
    {
      const int th = omp_get_thread_num ();
      const size_t t0 = (size_t) bi * g.tb;
      const size_t nb = g.tiles - t0 < g.tb ? g.tiles - t0 : g.tb;
      float *v = scratch + (size_t) th * per_thread;
      float *e = v + (size_t) 16 * d->cin * g.tb;
      float *tmp = e + (size_t) 16 * d->cout * g.tb;
      float *my = acc + (size_t) th * per_acc;
      wino_run *runs = (wino_run *) (tmp + wino_scratch_floats (&g));
      const int nruns = wino_runs (&g, t0, nb, runs);
      wino_input_any (d, &g, x, runs, nruns, v, tmp);
      wino_dy_any (d, &g, dy, runs, nruns, e, tmp);
      for (int xi = 0; xi < 16; xi++)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, d->cout, d->cin,
                     (int) nb, 1.0f, e + (size_t) xi * d->cout * g.tb,
                     (int) g.tb, v + (size_t) xi * d->cin * g.tb, (int) g.tb,
                     1.0f, my + xi * cc, d->cin);
    }
  const long chunks = (long) ((cc + WINO_KCHUNK - 1) / WINO_KCHUNK);
#pragma omp parallel for schedule(static)
  for (long c = 0; c < chunks; c++)
    {
      const size_t j0 = (size_t) c * WINO_KCHUNK;
      wino_dweight_chunk (d, acc, nt, j0,
                          (int) (cc - j0 < WINO_KCHUNK ? cc - j0 : WINO_KCHUNK),
                          dweight);
    }
}

void
nn_wino_forward_kernels (const conv2d_desc *d, const float *x, const float *u,
                         const float *bias, int relu, float *y,
                         float *scratch)
{
  const int small = wino_small (d);
  const wino_geom g = wino_geom_of (d, small ? WINO_SMALL_TILES
                                             : WINO_MAX_TILES);
  const size_t cc = (size_t) d->cout * d->cin;
  const size_t per_thread = wino_thread_floats (d, &g);
  /* blocks shared out among the threads, each with its own sgemms
   * (OpenBLAS runs one thread inside a parallel region) */
#pragma omp parallel for schedule(static, 1)
  for (long bi = 0; bi < (long) g.blocks; bi++)
    {
      const size_t t0 = (size_t) bi * g.tb;
      const size_t nb = g.tiles - t0 < g.tb ? g.tiles - t0 : g.tb;
      float *v = scratch + (size_t) omp_get_thread_num () * per_thread;
      float *m = v + (size_t) 16 * d->cin * g.tb;
      float *tmp = m + (size_t) 16 * d->cout * g.tb;
      wino_run *runs = (wino_run *) (tmp + wino_scratch_floats (&g));
      const int nruns = wino_runs (&g, t0, nb, runs);
      wino_input_any (d, &g, x, runs, nruns, v, tmp);
      for (int xi = 0; xi < 16; xi++)
        if (small)
          nn_small_gemm (d->cout, (int) nb, d->cin, u + xi * cc, d->cin,
                         v + (size_t) xi * d->cin * g.tb, (int) g.tb,
                         m + (size_t) xi * d->cout * g.tb, (int) g.tb, 0);
        else
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, d->cout,
                       (int) nb, d->cin, 1.0f, u + xi * cc, d->cin,
                       v + (size_t) xi * d->cin * g.tb, (int) g.tb, 0.0f,
                       m + (size_t) xi * d->cout * g.tb, (int) g.tb);
      wino_output (d, &g, m, runs, nruns, bias, relu, y, tmp);
    }
}
