/* fuzz_weights.c - libFuzzer target for the weight loader: any bytes must
 * give NN_OK or a specific error, never a crash, a leak or a read past the
 * end.  Built and run by `make fuzz` (FUZZ_SECONDS, default 60). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "weights.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  nn_model *m = NULL;
  nn_error err;
  nn_code rc = nn_weights_load_memory (data, size, "fuzz", &m, &err);
  if (rc == NN_OK)
    {
      /* a file that loads must save to the same bytes */
      void *back;
      size_t n;
      if (nn_weights_save_memory (m, &back, &n, &err) == NN_OK)
        {
          if (n != size)
            __builtin_trap ();
          free (back);
        }
    }
  else if (rc <= NN_OK || rc >= NN_ERR_COUNT || !err.message[0])
    __builtin_trap ();
  nn_model_free (m);
  return 0;
}
