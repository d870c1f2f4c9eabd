/* test_blas.c - the OpenBLAS kernel in use is not weaker than this CPU's
 * features (nn/blas.h), on whatever machine runs it; a user's own
 * OPENBLAS_CORETYPE is respected; the environment is left as it was; and
 * sgemm on the chosen kernel agrees with a double-precision loop; and so
 * does nn_small_gemm (nn/smallgemm.h), its own kernel and its fallback,
 * at the sizes that take each edge path.
 *
 * The user case runs this program again as a child with the variable set
 * (OpenBLAS reads it when it loads). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cblas.h>
#include "blas.h"
#include "smallgemm.h"
#include "testutil.h"

/* C = A B, 67 x 129 x 93 (odd sizes: the kernels' edge paths), against
 * a double loop: the largest error (infinity when out of memory). */
static double
sgemm_error (void)
{
  const int m = 67, k = 129, n = 93;
  float *a = malloc (sizeof (float) * m * k);
  float *b = malloc (sizeof (float) * k * n);
  float *c = malloc (sizeof (float) * m * n);
  double worst = INFINITY;
  if (!a || !b || !c)
    goto done;
  fixture_fill (a, (size_t) m * k, 1, 0.0f, 1.0f);
  fixture_fill (b, (size_t) k * n, 2, 0.0f, 1.0f);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f,
               a, k, b, n, 0.0f, c, n);
  worst = 0.0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      {
        double r = 0.0;
        for (int p = 0; p < k; p++)
          r += (double) a[i * k + p] * b[p * n + j];
        double e = fabs (r - c[i * n + j]);
        worst = e > worst ? e : worst;
      }
done:
  free (a);
  free (b);
  free (c);
  return worst;
}

/* The child: "KERNEL HOW" as it started; with --switch NAME, then
 * switches to NAME and prints "KERNEL HOW NEW-KERNEL SGEMM-OK". */
static int
child_main (int argc, char **argv)
{
  const nn_blas_state *s = nn_blas_init ();
  printf ("%s %d", s->kernel, (int) s->how);
  if (argc > 3 && !strcmp (argv[2], "--switch"))
    {
      nn_error err;
      nn_code rc = nn_blas_use_kernel (argv[3], &err);
      printf (" %s %d", rc ? "failed" : nn_blas_init ()->kernel,
              sgemm_error () < 1e-4);
    }
  printf ("\n");
  return 0;
}

/* Runs this program with --child [--switch to] and
 * OPENBLAS_CORETYPE=coretype (unset when NULL); reads its line. */
static int
run_child (const char *coretype, const char *to, char *line, size_t size)
{
  int fds[2];
  if (pipe (fds))
    return -1;
  pid_t pid = fork ();
  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      dup2 (fds[1], 1);
      close (fds[0]);
      if (coretype)
        setenv ("OPENBLAS_CORETYPE", coretype, 1);
      else
        unsetenv ("OPENBLAS_CORETYPE");
      execl ("/proc/self/exe", "test_blas", "--child", to ? "--switch" : NULL,
             to, (char *) NULL);
      _exit (127);
    }
  close (fds[1]);
  memset (line, 0, size);
  ssize_t n = read (fds[0], line, size - 1);
  close (fds[0]);
  int status;
  waitpid (pid, &status, 0);
  if (n <= 0 || !WIFEXITED (status) || WEXITSTATUS (status))
    return -1;
  return 0;
}

static void
test_table (void)
{
  CHECK (nn_blas_kernel_level ("Prescott") == 0, "Prescott is level 0");
  CHECK (nn_blas_kernel_level ("Sandybridge") == 1, "Sandybridge is level 1");
  CHECK (nn_blas_kernel_level ("haswell") == 2, "names are case-blind");
  CHECK (nn_blas_kernel_level ("Zen") == 2, "Zen is level 2");
  CHECK (nn_blas_kernel_level ("SkylakeX") == 3, "SkylakeX is level 3");
  CHECK (nn_blas_kernel_level ("Cooperlake") == 4, "Cooperlake is level 4");
  CHECK (nn_blas_kernel_level ("NoSuchCore") == -1, "unknown name: -1");
  for (int l = 1; l <= 4; l++)
    CHECK (nn_blas_kernel_level (nn_blas_level_kernel (l)) == l,
           "level %d's kernel is of level %d", l, l);
}

static void
test_chosen (void)
{
  const char *user = getenv ("OPENBLAS_CORETYPE");
  const nn_blas_state *s = nn_blas_init ();
  char line[256];
  printf ("kernel: %s\n", nn_blas_describe (line, sizeof line));
  if (user && *user)
    {
      CHECK (s->how == NN_BLAS_USER, "OPENBLAS_CORETYPE=%s is respected", user);
      return;
    }
  CHECK (getenv ("OPENBLAS_CORETYPE") == NULL,
         "OPENBLAS_CORETYPE is not left in the environment");
  CHECK (s->how != NN_BLAS_FIXED,
         "Debian's OpenBLAS has dynamic kernels (found: %s)", s->kernel);
  if (s->cpu_level < 0)
    return;
  int got = nn_blas_kernel_level (s->kernel);
  CHECK (got < 0 || got >= s->cpu_level,
         "kernel %s (level %d) is not weaker than the CPU (level %d)",
         s->kernel, got, s->cpu_level);
  CHECK (s->how == NN_BLAS_CHOSEN
         || nn_blas_kernel_level (s->openblas) >= s->cpu_level
         || nn_blas_kernel_level (s->openblas) < 0,
         "switched only when OpenBLAS's own %s was weaker", s->openblas);
}

/* Whatever this process's environment: a child with no
 * OPENBLAS_CORETYPE runs a kernel not weaker than the CPU; one with the
 * variable keeps it; and the switch itself works from the weakest family
 * (Prescott, what OpenBLAS 0.3.21 falls back to on CPUs it does not know)
 * to this CPU's. */
static void
test_children (void)
{
  char line[256], kernel[64], after[64];
  int how, ok;
  int cpu = nn_blas_cpu_level ();
  const char *want = nn_blas_level_kernel (cpu);

  CHECK (run_child (NULL, NULL, line, sizeof line) == 0
         && sscanf (line, "%63s %d", kernel, &how) == 2,
         "child with an empty environment runs (%s)", line);
  printf ("kernel with no OPENBLAS_CORETYPE: %s", line);
  CHECK (how != NN_BLAS_USER, "no OPENBLAS_CORETYPE in the child");
  CHECK (cpu < 0 || nn_blas_kernel_level (kernel) < 0
         || nn_blas_kernel_level (kernel) >= cpu,
         "with nothing set, kernel %s (level %d) is not weaker than the "
         "CPU (level %d)", kernel, nn_blas_kernel_level (kernel), cpu);

  CHECK (run_child ("Sandybridge", NULL, line, sizeof line) == 0
         && sscanf (line, "%63s %d", kernel, &how) == 2
         && !strcasecmp (kernel, "Sandybridge") && how == NN_BLAS_USER,
         "a child with OPENBLAS_CORETYPE=Sandybridge keeps it (%s)", line);

  if (!want)
    return;
  CHECK (run_child ("Prescott", want, line, sizeof line) == 0
         && sscanf (line, "%63s %d %63s %d", kernel, &how, after, &ok) == 4
         && !strcasecmp (kernel, "Prescott") && !strcasecmp (after, want)
         && ok,
         "switch from Prescott to %s in a running process, sgemm exact "
         "after it (%s)", want, line);
  CHECK (run_child ("Prescott", "NoSuchCore", line, sizeof line) == 0
         && sscanf (line, "%63s %d %63s", kernel, &how, after) == 3
         && !strcmp (after, "failed"),
         "switching to an unknown family is an error (%s)", line);
}

static void
test_sgemm (void)
{
  double e = sgemm_error ();
  CHECK (e < 1e-4, "sgemm on the kernel in use: max error %.3g", e);
}

/* nn_small_gemm (C = A B, or += with accumulate) on m x k by k x n with
 * padded leading dimensions, against a double loop: its largest error
 * relative to max |C|; *same: a second call gave the same bits; *kept:
 * the padding columns of C were not written. */
static double
small_gemm_error (int m, int n, int k, int accumulate, int *same, int *kept)
{
  const int lda = k + 3, ldb = n + 5, ldc = n + 2;
  float *a = malloc (sizeof (float) * m * lda);
  float *b = malloc (sizeof (float) * k * ldb);
  float *c = malloc (sizeof (float) * m * ldc);
  float *c0 = malloc (sizeof (float) * m * ldc);
  double worst = INFINITY, top = 0.0;
  *same = *kept = 0;
  if (!a || !b || !c || !c0)
    goto done;
  fixture_fill (a, (size_t) m * lda, 3, 0.0f, 1.0f);
  fixture_fill (b, (size_t) k * ldb, 4, 0.0f, 1.0f);
  fixture_fill (c0, (size_t) m * ldc, 5, 0.0f, 1.0f);
  memcpy (c, c0, sizeof (float) * m * ldc);
  nn_small_gemm (m, n, k, a, lda, b, ldb, c, ldc, accumulate);
  worst = 0.0;
  *kept = 1;
  for (int i = 0; i < m; i++)
    {
      for (int j = 0; j < n; j++)
        {
          double r = accumulate ? c0[(size_t) i * ldc + j] : 0.0;
          for (int p = 0; p < k; p++)
            r += (double) a[(size_t) i * lda + p] * b[(size_t) p * ldb + j];
          const double e = fabs (r - c[(size_t) i * ldc + j]);
          worst = e > worst ? e : worst;
          top = fabs (r) > top ? fabs (r) : top;
        }
      for (int j = n; j < ldc; j++)
        *kept &= c[(size_t) i * ldc + j] == c0[(size_t) i * ldc + j];
    }
  worst = top > 0.0 ? worst / top : worst;
  float *again = c0;
  if (!accumulate)
    {
      nn_small_gemm (m, n, k, a, lda, b, ldb, again, ldc, 0);
      *same = !memcmp (again, c, sizeof (float) * m * ldc);
    }
  else
    *same = 1;
done:
  free (a);
  free (b);
  free (c);
  free (c0);
  return worst;
}

static void
test_small_gemm (void)
{
  /* m: whole row blocks of 6, a remainder, below the kernel's minimum
   * (cblas); n: whole panels, 16-column and masked tails; k: 1 to 512 */
  static const int shapes[][3] = {
    { 16, 1, 1 }, { 17, 15, 3 }, { 64, 130, 64 }, { 263, 200, 32 },
    { 6, 33, 7 }, { 100, 64, 512 }, { 23, 77, 9 },
  };
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    for (int acc = 0; acc < 2; acc++)
      {
        const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        int same, kept;
        const double e = small_gemm_error (m, n, k, acc, &same, &kept);
        CHECK (e < 1e-6, "nn_small_gemm %dx%dx%d accumulate %d: relative "
               "error %.3g", m, n, k, acc, e);
        CHECK (same, "nn_small_gemm %dx%dx%d: the same bits twice", m, n, k);
        CHECK (kept, "nn_small_gemm %dx%dx%d: C's padding untouched", m, n, k);
      }
}

int
main (int argc, char **argv)
{
  if (argc > 1 && !strcmp (argv[1], "--child"))
    return child_main (argc, argv);
  test_table ();
  test_chosen ();
  test_children ();
  test_sgemm ();
  test_small_gemm ();
  return test_report ("test_blas");
}
