/* class-weights.c - a colour-class weights file whose colour distribution
 * is known, for the vividness checks of tests/test_gimp.sh; links libnn.
 *
 *   class-weights IN.weights OUT.weights
 *
 * IN is a class-head model from `colorize-train init --head class`.  Its
 * random logits are nearly flat (a spread of a few hundredths), so the
 * temperature hardly moves its colour, and not always the same way.  OUT
 * is IN with the last convolution's weights zeroed and its bias set to
 * logits tilted along one hue: logit_i = CLASS_TILT * (c_i . d), c_i the
 * bin centres (a, b), d the unit vector of hue CLASS_HUE_DEG.  Every pixel
 * then gets the same distribution, whose annealed mean moves out along d
 * as the temperature falls (tests/gimp/samples/castle.png at working
 * size 64, through `colorize-train apply`: mean chroma 27 ab units at
 * T = 1, vividness 0; 45 at the default 0.38; 52 at T = 0.2, vividness 1;
 * gamut mapping lowers what a pixel's lightness cannot hold).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "weights.h"

#define CLASS_TILT    0.01  /* logit per ab unit along the hue */
#define CLASS_HUE_DEG 60.0  /* orange */

static int
fail (const char *what, const char *detail)
{
  fprintf (stderr, "class-weights: %s%s%s\n", what, detail ? ": " : "",
           detail ? detail : "");
  return 1;
}

int
main (int argc, char **argv)
{
  const double pi = 3.14159265358979323846;
  nn_model    *m;
  nn_error     err;
  nn_param    *w, *b, *bins;
  const char  *last;
  char         name[64];
  double       da, db;
  int          i;

  if (argc != 3)
    {
      fprintf (stderr, "usage: class-weights IN.weights OUT.weights\n");
      return 2;
    }
  memset (&err, 0, sizeof err);
  if (nn_weights_load (argv[1], &m, &err) != NN_OK)
    return fail (argv[1], err.message);
  if (m->head_bins <= 0)
    return fail (argv[1], "not a colour-class model");

  last = m->arch == NN_ARCH_CNN ? "conv12" : "upsample.14";
  snprintf (name, sizeof name, "%s.weight", last);
  w = nn_model_find (m, name);
  snprintf (name, sizeof name, "%s.bias", last);
  b = nn_model_find (m, name);
  bins = nn_model_find (m, "head.bins");
  if (! w || ! b || ! bins || w->shape[0] != m->head_bins ||
      (int) b->size != m->head_bins ||
      (int) bins->size != 2 * m->head_bins)
    return fail (argv[1], "no last convolution of head_bins outputs");

  da = cos (CLASS_HUE_DEG * pi / 180.0);
  db = sin (CLASS_HUE_DEG * pi / 180.0);
  memset (w->data, 0, w->size * sizeof (float));
  for (i = 0; i < m->head_bins; i++)
    b->data[i] = (float) (CLASS_TILT * (bins->data[2 * i] * da +
                                        bins->data[2 * i + 1] * db));

  if (nn_model_set_metadata (m, "created=tests/gimp/class-weights\n", &err)
      != NN_OK || nn_weights_save (m, argv[2], &err) != NN_OK)
    return fail (argv[2], err.message);
  nn_model_free (m);
  return 0;
}
