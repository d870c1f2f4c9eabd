/* blas.c - OpenBLAS kernel choice and threads (see blas.h). */
#include "blas.h"
#include "error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/* OpenBLAS's exports.  Weak, so that a BLAS without them still links and
 * runs (then the kernel is left as it is). */
extern char *openblas_get_corename (void) __attribute__ ((weak));
extern void  openblas_set_num_threads (int) __attribute__ ((weak));
extern void  gotoblas_dynamic_init (void) __attribute__ ((weak));
extern void  gotoblas_dynamic_quit (void) __attribute__ ((weak));

static const struct {
  const char *name;
  int level;
} families[] = {
  { "Prescott", 0 },    { "Core2", 0 },       { "Penryn", 0 },
  { "Dunnington", 0 },  { "Nehalem", 0 },     { "Atom", 0 },
  { "Nano", 0 },        { "Opteron", 0 },     { "Opteron_SSE3", 0 },
  { "Barcelona", 0 },   { "Bobcat", 0 },      { "Katmai", 0 },
  { "Coppermine", 0 },  { "Northwood", 0 },   { "Banias", 0 },
  { "Athlon", 0 },
  { "Sandybridge", 1 }, { "Bulldozer", 1 },   { "Piledriver", 1 },
  { "Steamroller", 1 },
  { "Haswell", 2 },     { "Zen", 2 },         { "Excavator", 2 },
  { "SkylakeX", 3 },
  { "Cooperlake", 4 },  { "SapphireRapids", 4 },
};

static const char *const level_kernel[] = {
  NULL, "Sandybridge", "Haswell", "SkylakeX", "Cooperlake"
};

static const char *const level_what[] = {
  "SSE", "AVX", "AVX2 with FMA", "AVX-512", "AVX-512 BF16"
};

int
nn_blas_kernel_level (const char *name)
{
  if (!name)
    return -1;
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
    if (!strcasecmp (name, families[i].name))
      return families[i].level;
  return -1;
}

const char *
nn_blas_level_kernel (int level)
{
  if (level < 1 || level > 4)
    return NULL;
  return level_kernel[level];
}

#if defined(__x86_64__) || defined(__i386__)
static unsigned long long
xcr0 (void)
{
  unsigned lo, hi;
  __asm__ volatile ("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long) hi << 32) | lo;
}

int
nn_blas_cpu_level (void)
{
  unsigned a, b, c, d, max;
  if (!__get_cpuid (0, &max, &b, &c, &d) || max < 1)
    return 0;
  __cpuid (1, a, b, c, d);
  int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
  if (!osxsave || !avx)
    return 0;
  unsigned long long x = xcr0 ();
  if ((x & 0x6) != 0x6)              /* the OS saves SSE and AVX state */
    return 0;
  if (max < 7)
    return 1;
  __cpuid_count (7, 0, a, b, c, d);
  int avx2 = (b >> 5) & 1;
  int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1,
      vl = (b >> 31) & 1;
  if (!avx2 || !fma)
    return 1;
  if (!(f && dq && bw && vl) || (x & 0xe6) != 0xe6) /* opmask, ZMM state */
    return 2;
  unsigned a1 = 0, b1, c1, d1;
  if (a >= 1)                        /* leaf 7's highest subleaf */
    __cpuid_count (7, 1, a1, b1, c1, d1);
  return (a1 >> 5) & 1 ? 4 : 3;      /* AVX512_BF16 */
}
#else
int
nn_blas_cpu_level (void)
{
  return -1;
}
#endif

static nn_blas_state state;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const char *
corename (void)
{
  return openblas_get_corename ? openblas_get_corename () : "unknown";
}

static int
dynamic (void)
{
  return gotoblas_dynamic_init && gotoblas_dynamic_quit
         && openblas_get_corename;
}

/* Re-runs OpenBLAS's kernel choice with OPENBLAS_CORETYPE=name (its own
 * detection when NULL), then puts the variable back as it was. */
static void
reload_kernel (const char *name)
{
  const char *old = getenv ("OPENBLAS_CORETYPE");
  char *saved = old ? strdup (old) : NULL;
  if (name)
    setenv ("OPENBLAS_CORETYPE", name, 1);
  else
    unsetenv ("OPENBLAS_CORETYPE");
  gotoblas_dynamic_quit ();
  gotoblas_dynamic_init ();
  if (saved)
    setenv ("OPENBLAS_CORETYPE", saved, 1);
  else
    unsetenv ("OPENBLAS_CORETYPE");
  free (saved);
}

nn_code
nn_blas_use_kernel (const char *name, nn_error *err)
{
  nn_blas_init ();
  if (!dynamic ())
    return nn_error_set (err, NN_ERR_ARG, "the BLAS library has one fixed "
                         "kernel (%s): cannot switch to %s", corename (),
                         name);
  const char *before = corename ();
  reload_kernel (name);
  if (strcasecmp (corename (), name))
    {
      char had[64];
      snprintf (had, sizeof had, "%s", corename ());
      reload_kernel (before);
      return nn_error_set (err, NN_ERR_ARG, "OpenBLAS has no kernel family "
                           "%s (it chose %s); kept %s", name, had,
                           corename ());
    }
  state.kernel = corename ();
  return NN_OK;
}

static void
choose (void)
{
  state.openblas = corename ();
  state.kernel = state.openblas;
  state.cpu_level = nn_blas_cpu_level ();
  state.how = NN_BLAS_OWN;
  const char *user = getenv ("OPENBLAS_CORETYPE");
  if (user && *user)
    {
      state.how = NN_BLAS_USER;
      return;
    }
  if (!dynamic () || state.cpu_level < 0)
    {
      state.how = NN_BLAS_FIXED;
      return;
    }
  int own = nn_blas_kernel_level (state.openblas);
  const char *want = nn_blas_level_kernel (state.cpu_level);
  if (!want || own < 0 || own >= state.cpu_level)
    return;                          /* unknown families are newer ones */
  reload_kernel (want);
  state.kernel = corename ();
  int got = nn_blas_kernel_level (state.kernel);
  if (got < 0 || got < own)          /* this OpenBLAS lacks the family */
    {
      reload_kernel (NULL);
      state.kernel = corename ();
      return;
    }
  state.how = NN_BLAS_CHOSEN;
}

const nn_blas_state *
nn_blas_init (void)
{
  pthread_once (&once, choose);
  return &state;
}

const char *
nn_blas_describe (char *buf, size_t size)
{
  const nn_blas_state *s = nn_blas_init ();
  const char *what = s->cpu_level >= 0 ? level_what[s->cpu_level] : "unknown";
  switch (s->how)
    {
    case NN_BLAS_CHOSEN:
      snprintf (buf, size, "%s (chosen for this CPU: %s; OpenBLAS alone "
                "picks %s)", s->kernel, what, s->openblas);
      break;
    case NN_BLAS_USER:
      snprintf (buf, size, "%s (OPENBLAS_CORETYPE=%s%s; this CPU: %s)",
                s->kernel, getenv ("OPENBLAS_CORETYPE"),
                nn_blas_kernel_level (s->kernel) >= 0
                && nn_blas_kernel_level (s->kernel) < s->cpu_level
                ? ", weaker than this CPU supports" : "", what);
      break;
    case NN_BLAS_FIXED:
      snprintf (buf, size, "%s (fixed by the BLAS library; this CPU: %s)",
                s->kernel, what);
      break;
    default:
      snprintf (buf, size, "%s (OpenBLAS's own choice; this CPU: %s)",
                s->kernel, what);
    }
  return buf;
}

void
nn_blas_set_threads (int threads)
{
  nn_blas_init ();
  if (openblas_set_num_threads && threads > 0)
    openblas_set_num_threads (threads);
}
