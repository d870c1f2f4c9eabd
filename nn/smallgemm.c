/* smallgemm.c - C = A B for Winograd's many small products (see
 * smallgemm.h).
 *
 * The AVX-512 kernel keeps a block of R rows by V x 16 columns of C in
 * registers (R V <= 24 accumulators) and runs down k: V loads of B's row
 * k, R broadcasts of A's column k, R V fused multiply-adds.  B is read in
 * place (no packing: its rows are contiguous), in panels of SG_NC
 * columns by SG_KC rows, so that a panel stays in the first-level cache
 * while every row block of A passes over it.
 */
#include "simd.h"
#include <cblas.h>
#include "smallgemm.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) \
    && !defined(NN_NO_CLONES)
#define SG_AVX512 1
#include <immintrin.h>
#else
#define SG_AVX512 0
#endif

/* Columns of a panel: 64 rows of B at 64 columns are 16 KiB. */
#define SG_NC 64
/* Terms of the sum per part: 128 rows of a panel are 32 KiB. */
#define SG_KC 128
/* Fewer rows of C than this go to cblas_sgemm (a row block would be
 * mostly empty). */
#define SG_MIN_ROWS 16
/* Rows of B ahead that the kernel prefetches. */
#define SG_AHEAD 6

#if SG_AVX512

/* C[0..R-1][0..16 V - 1] (= or +=) A[0..R-1][0..k-1] B[0..k-1][..]; the
 * last vector's lanes limited by mask.  R and V are constants where it is
 * inlined, so acc stays in registers. */
static inline __attribute__ ((always_inline, target ("avx512f"))) void
sg_block (int R, int V, int k, const float *a, int lda, const float *b,
          int ldb, float *c, int ldc, __mmask16 mask, int accumulate)
{
  __m512 acc[8][4];
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++)
      acc[r][v] = _mm512_setzero_ps ();
  for (int p = 0; p < k; p++)
    {
      __m512 bv[4];
      const float *br = b + (size_t) p * ldb;
      /* B's rows are apart: a row a few steps ahead, asked for now */
      if (p + SG_AHEAD < k)
        for (int v = 0; v < V; v++)
          _mm_prefetch ((const char *) (br + SG_AHEAD * (size_t) ldb + 16 * v),
                        _MM_HINT_T0);
      for (int v = 0; v < V; v++)
        bv[v] = v == V - 1 ? _mm512_maskz_loadu_ps (mask, br + 16 * v)
                           : _mm512_loadu_ps (br + 16 * v);
      for (int r = 0; r < R; r++)
        {
          const __m512 av = _mm512_set1_ps (a[(size_t) r * lda + p]);
          for (int v = 0; v < V; v++)
            acc[r][v] = _mm512_fmadd_ps (av, bv[v], acc[r][v]);
        }
    }
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++)
      {
        float *cp = c + (size_t) r * ldc + 16 * v;
        const __mmask16 m = v == V - 1 ? mask : 0xffff;
        __m512 x = acc[r][v];
        if (accumulate)
          x = _mm512_add_ps (x, _mm512_maskz_loadu_ps (m, cp));
        _mm512_mask_storeu_ps (cp, m, x);
      }
}

/* One row block of R rows (R <= 6) over columns j0 .. j1 - 1: 64 columns
 * at a time, then the rest 16 at a time. */
static inline __attribute__ ((always_inline, target ("avx512f"))) void
sg_rows (int R, int k, const float *a, int lda, const float *b, int ldb,
         float *c, int ldc, int j0, int j1, int accumulate)
{
  int j = j0;
  for (; j + 64 <= j1; j += 64)
    sg_block (R, 4, k, a, lda, b + j, ldb, c + j, ldc, 0xffff, accumulate);
  for (; j < j1; j += 16)
    {
      const int left = j1 - j;
      const __mmask16 m = left >= 16 ? 0xffff
                                     : (__mmask16) ((1u << left) - 1);
      sg_block (R, 1, k, a, lda, b + j, ldb, c + j, ldc, m, accumulate);
    }
}

/* Rows 0 .. m - 1 of C, columns j0 .. j1 - 1, over k terms: row blocks
 * of six, then the rest as one block. */
static inline __attribute__ ((always_inline, target ("avx512f"))) void
sg_panel (int m, int k, const float *a, int lda, const float *b, int ldb,
          float *c, int ldc, int j0, int j1, int accumulate)
{
  int i = 0;
  for (; i + 6 <= m; i += 6)
    sg_rows (6, k, a + (size_t) i * lda, lda, b, ldb, c + (size_t) i * ldc,
             ldc, j0, j1, accumulate);
  a += (size_t) i * lda;
  c += (size_t) i * ldc;
  switch (m - i)
    {
    case 5:
      sg_rows (5, k, a, lda, b, ldb, c, ldc, j0, j1, accumulate);
      break;
    case 4:
      sg_rows (4, k, a, lda, b, ldb, c, ldc, j0, j1, accumulate);
      break;
    case 3:
      sg_rows (3, k, a, lda, b, ldb, c, ldc, j0, j1, accumulate);
      break;
    case 2:
      sg_rows (2, k, a, lda, b, ldb, c, ldc, j0, j1, accumulate);
      break;
    case 1:
      sg_rows (1, k, a, lda, b, ldb, c, ldc, j0, j1, accumulate);
      break;
    default:
      break;
    }
}

/* Panels of SG_NC columns, and in each the sum over k in parts of SG_KC
 * terms (each part added to C), so that the part of B a panel reads stays
 * in the first-level cache. */
__attribute__ ((target ("avx512f"))) static void
sg_avx512 (int m, int n, int k, const float *a, int lda, const float *b,
           int ldb, float *c, int ldc, int accumulate)
{
  for (int j0 = 0; j0 < n; j0 += SG_NC)
    {
      const int j1 = n - j0 < SG_NC ? n : j0 + SG_NC;
      for (int p0 = 0; p0 < k; p0 += SG_KC)
        sg_panel (m, k - p0 < SG_KC ? k - p0 : SG_KC, a + p0, lda,
                  b + (size_t) p0 * ldb, ldb, c, ldc, j0, j1,
                  accumulate || p0 > 0);
    }
}
#endif

void
nn_small_gemm (int m, int n, int k, const float *a, int lda, const float *b,
               int ldb, float *c, int ldc, int accumulate)
{
#if SG_AVX512
  if (m >= SG_MIN_ROWS && nn_simd_avx512 ())
    {
      sg_avx512 (m, n, k, a, lda, b, ldb, c, ldc, accumulate);
      return;
    }
#endif
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a,
               lda, b, ldb, accumulate ? 1.0f : 0.0f, c, ldc);
}

int
nn_small_gemm_own (void)
{
#if SG_AVX512
  return nn_simd_avx512 ();
#else
  return 0;
#endif
}
