/* core-check.h - the "ok - " / "not ok - " lines of the GIMP-less plug-in
 * core tests (tests/gimp/core-*.c), which tests/test_gimp.sh counts.
 * Included once by each test program. */
#ifndef TESTS_GIMP_CORE_CHECK_H
#define TESTS_GIMP_CORE_CHECK_H

#include <stdio.h>

static int n_failed;

static void
check (int ok, const char *what, const char *detail)
{
  if (! ok)
    n_failed++;
  printf ("%s - core: %s%s%s%s\n", ok ? "ok" : "not ok", what,
          detail && *detail ? " (" : "", detail ? detail : "",
          detail && *detail ? ")" : "");
}

#endif
