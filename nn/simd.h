/* simd.h - wider vectors for the few loops that need them.
 *
 * The build targets plain x86-64 (SSE2), so that one binary runs
 * everywhere; NN_VECTOR_CLONES on a function makes the compiler build it
 * also for x86-64-v3 (AVX2) and x86-64-v4 (AVX-512) and pick the best one
 * for the CPU when the program loads (GCC and clang target_clones).
 * Floating-point contraction stays off (-std=c11), so every version
 * computes the same bits: each element's operations are the same, only
 * more elements go at once.  Elsewhere it is empty.
 */
#ifndef NN_SIMD_H
#define NN_SIMD_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) \
    && !defined(NN_NO_CLONES)
#define NN_VECTOR_CLONES \
  __attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NN_VECTOR_CLONES
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* Whether the CPU has AVX-512 F, for the code written in its intrinsics
 * (winograd.c, smallgemm.c): asked once per file that uses it, the same
 * answer for every thread. */
static inline int
nn_simd_avx512 (void)
{
  static int known = -1;
  int v = __atomic_load_n (&known, __ATOMIC_RELAXED);
  if (v < 0)
    {
      __builtin_cpu_init ();
      v = __builtin_cpu_supports ("avx512f") != 0;
      __atomic_store_n (&known, v, __ATOMIC_RELAXED);
    }
  return v;
}
#endif

/* e^x for x <= 0 (0 below -87, where float underflows): x = n ln 2 + r,
 * |r| <= ln 2 / 2, e^r by its degree-6 Taylor polynomial (error under
 * 2e-7 relative, a float's rounding), times 2^n made in the exponent
 * bits.  Written so that the compiler vectorizes the loops that call it. */
static inline float
nn_exp_nonpositive (float x)
{
  const float magic = 12582912.0f;  /* 1.5 2^23: adding it rounds */
  const float xc = x < -87.0f ? -87.0f : x;
  const float n = (xc * 1.44269504f + magic) - magic;
  const float r = (xc - n * 0.693145752f) - n * 1.42860677e-6f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = ((int32_t) n + 127) << 23;
  float scale;
  memcpy (&scale, &bits, sizeof scale);
  return x < -87.0f ? 0.0f : p * scale;
}

#endif
