/* smallgemm.h - C = A B (or C += A B) for the small products of the
 * Winograd convolutions: A m x k (k at most a few hundred), B k x n, C m x
 * n, all row-major with leading dimensions lda, ldb, ldc.
 *
 * OpenBLAS packs both operands before it multiplies; for these shapes
 * (m and k 32 to 256, n a block of tiles) the packing costs as much as
 * the products.  On a CPU with AVX-512 this kernel reads B in place
 * instead; elsewhere it is cblas_sgemm.  Single-threaded (the Winograd
 * code calls it from its own threads).  Each element of C is the sum
 * over p = 0 .. k - 1 in order, one fused multiply-add per term: the same
 * bits from run to run.
 */
#ifndef NN_SMALLGEMM_H
#define NN_SMALLGEMM_H

void nn_small_gemm (int m, int n, int k, const float *a, int lda,
                    const float *b, int ldb, float *c, int ldc,
                    int accumulate);

/* Whether nn_small_gemm runs its own kernel on this CPU (1) or is
 * cblas_sgemm (0). */
int nn_small_gemm_own (void);

#endif
