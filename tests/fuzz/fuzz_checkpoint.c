/* fuzz_checkpoint.c - libFuzzer target for the checkpoint reader
 * (trainer/checkpoint.h): any bytes must load or be refused with a
 * message, never crash, leak or read past the end.  Every field is
 * checked whatever the checksum says, so the fuzzer reaches the parser
 * behind it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "checkpoint.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = NULL, msg[512] = "";
  nn_model *m = NULL;
  adam_state *adam = NULL;
  checkpoint_extra extra = { NULL, 0 };
  if (checkpoint_parse (data, size, "fuzz", &text, &m, &adam, &extra, msg,
                        sizeof msg) == 0)
    {
      if (!text || !m || !adam)
        __builtin_trap ();
      if (!extra.data != !extra.size)
        __builtin_trap ();
      free (text);
      free (extra.data);
      nn_adam_free (adam);
      nn_model_free (m);
    }
  else if (!msg[0])
    __builtin_trap ();
  return 0;
}
