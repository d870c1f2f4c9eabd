/* fuzz_npy.c - libFuzzer target for the .npy reader (trainer/npy.h, what
 * `forward` and the encoder import read): any bytes give an array or a
 * specific error, never a crash, a leak, a read past the end or an
 * allocation larger than the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "npy.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  FILE *f = fmemopen ((void *) data, size, "rb");
  if (!f)
    return 0;
  npy_array a;
  nn_error err;
  nn_code rc = npy_read_stream (f, "fuzz", &a, &err);
  fclose (f);
  if (rc == NN_OK)
    {
      if (a.size * sizeof (float) > size)
        __builtin_trap ();
      npy_free (&a);
    }
  else if (rc <= NN_OK || rc >= NN_ERR_COUNT || !err.message[0])
    __builtin_trap ();
  return 0;
}
