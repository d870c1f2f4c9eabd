/* fuzz_pack.c - libFuzzer target for the pack reader (trainer/pack.h):
 * any bytes must parse or be refused with a message, never crash, leak or
 * read past the end.  The same bytes go to the record decoder (pack_decode)
 * as a record of a size taken from the first bytes, since the per-record
 * checksums keep the fuzzer from reaching it through a parsed file.  The
 * parser checks every field before the checksums, so the fuzzer reaches
 * the index behind them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pack.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  pack p;
  char msg[512] = "";
  if (pack_parse (&p, data, size, "fuzz", msg, sizeof msg) == 0)
    {
      if (!p.n || !p.records || !p.sources)
        __builtin_trap ();
      for (uint32_t k = 0; k < p.n && k < 64; k++)
        {
          void *buf = malloc (pack_record_bytes (&p, k));
          msg[0] = 0;
          if (buf && pack_read (&p, k, buf, msg, sizeof msg) && !msg[0])
            __builtin_trap ();
          free (buf);
        }
      pack_close (&p);
    }
  else if (!msg[0])
    __builtin_trap ();
  if (size >= 3)
    {
      pack_kind kind = data[0] & 1 ? PACK_RGB8 : PACK_LAB16;
      uint32_t w = 1 + data[1] % 24, h = 1 + data[2] % 24;
      void *values = malloc ((size_t) w * h * 3 * 2);
      msg[0] = 0;
      if (values && pack_decode (kind, data + 3, size - 3, w, h, values, msg,
                                 sizeof msg) && !msg[0])
        __builtin_trap ();
      /* and values made of the bytes round-trip through the encoder */
      size_t nv = (size_t) w * h * 3;
      int16_t *v16 = values;
      unsigned char *v8 = values;
      for (size_t i = 0; values && i < nv; i++)
        {
          const uint8_t *b = data + (2 * i) % size;
          if (kind == PACK_LAB16)
            v16[i] = (int16_t) (b[0] | (size > 1 ? data[(2 * i + 1) % size] : 0) << 8);
          else
            v8[i] = b[0];
        }
      unsigned char *enc = NULL;
      size_t es = 0;
      void *back = malloc (nv * 2);
      if (values && back && pack_encode (kind, values, w, h, &enc, &es) == 0)
        {
          if (pack_decode (kind, enc, es, w, h, back, msg, sizeof msg)
              || memcmp (back, values, nv * (kind == PACK_LAB16 ? 2 : 1)))
            __builtin_trap ();
          free (enc);
        }
      free (back);
      free (values);
    }
  return 0;
}
