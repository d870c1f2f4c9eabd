/* colorize-core.h - the part of the GIMP plug-in shared by both hosts
 * (GIMP 2.10 and GIMP 3.0): weights lookup and loading, and everything
 * that touches pixels, through GEGL and babl only (no libgimp here).
 *
 * Pixel boundary: drawables are read as babl "CIE Lab alpha float" (the
 * format nn/colorize.h takes) and written as linear "RGBA float" in the
 * destination buffer's own colour space, after a gamut mapping that keeps
 * L and lowers chroma until the colour fits that space (so that integer
 * precisions, which clip, keep the source's lightness).
 */
#ifndef COLORIZE_CORE_H
#define COLORIZE_CORE_H

#include <glib.h>
#include <gegl.h>

#include "model.h"
#include "colorize.h"
#include "head.h"

#define COLORIZE_ERROR (colorize_error_quark ())
GQuark colorize_error_quark (void);

/* Environment variable naming the folder of the bundled weights. */
#define COLORIZE_WEIGHTS_ENV "COLORIZE_WEIGHTS_DIR"

/* The folder of the bundled weights: $COLORIZE_WEIGHTS_DIR when set and
 * non-empty, else "weights" beside the plug-in executable `progname`.
 * Newly allocated. */
gchar *colorize_weights_dir (const gchar *progname);

/* Resolves a model argument: "cnn" or "resnet18" name a bundled weights
 * file (<weights dir>/<name>.weights); anything else is a path to a
 * .weights file.  Newly allocated. */
gchar *colorize_weights_path (const gchar *progname, const gchar *model);

/* Loads a weights file.  When expected is a valid architecture, a file of
 * another architecture is refused.  Errors name the file and carry the
 * loader's message. */
nn_model *colorize_model_load (const gchar *path, nn_arch expected,
                               GError **error);

/* Human name of an architecture, for layer names and messages:
 * "CNN", "ResNet18". */
const gchar *colorize_arch_label (nn_arch arch);

/* Vividness: the plug-in's face of the colour-class head's temperature T
 * (nn/head.h; the annealed mean of the class distribution).  The one
 * mapping, used by both hosts, the dialogs and the PDB:
 *
 *     T = 1.0 * (0.2 / 1.0)^v = 0.2^v      v = ln T / ln 0.2
 *
 * log-linear from vividness 0, T = 1.0 (the distribution's mean: dull,
 * safe) to vividness 1, T = 0.2 (near its mode: vivid); the model default
 * 0.38 is vividness 0.60.  COLORIZE_VIVIDNESS_DEFAULT (-1) asks for the
 * model's own temperature (nn_colorize_default_temperature: its metadata key
 * "temperature", else 0.38).  A model without colour classes
 * (head_bins == 0, the a,b regression) ignores the vividness. */
#define COLORIZE_VIVIDNESS_DEFAULT (-1.0)
#define COLORIZE_VIVIDNESS_DULL_TEMPERATURE  1.0 /* at vividness 0 */
#define COLORIZE_VIVIDNESS_VIVID_TEMPERATURE 0.2 /* at vividness 1 */

/* TRUE for COLORIZE_VIVIDNESS_DEFAULT and for 0..1; otherwise FALSE with
 * an error naming the argument. */
gboolean colorize_vividness_check (gdouble vividness, GError **error);

/* The temperature of a vividness in 0..1 (clamped); 0, which
 * colorize_options reads as "the model's default", for a negative one. */
gdouble colorize_vividness_to_temperature (gdouble vividness);

/* The inverse: the vividness of temperature t, clamped to 0..1 (a model's
 * temperature may lie outside 0.2..1). */
gdouble colorize_temperature_to_vividness (gdouble t);

/* The temperature a run with this vividness uses on model m (its default
 * for COLORIZE_VIVIDNESS_DEFAULT); meaningful when m has colour classes. */
gdouble colorize_model_temperature (const nn_model *m, gdouble vividness);

/* Where the dialog's slider starts for model m when the vividness is
 * COLORIZE_VIVIDNESS_DEFAULT: the vividness of the model's default
 * temperature. */
gdouble colorize_model_default_vividness (const nn_model *m);

/* TRUE when the vividness acts on model m: it has a colour-class head. */
gboolean colorize_model_has_vividness (const nn_model *m);

/* Colour hints (nn/hints.h) for one target layer: the painted pixels of a
 * hints layer that lie over it, in its own pixel coordinates.  Owned:
 * colorize_hints_clear frees them. */
typedef struct
{
  nn_hint *hints;
  gsize    n;
} ColorizeHints;

#define COLORIZE_HINTS_NONE ((ColorizeHints) { NULL, 0 })

/* The folder procedure's model value for "no network, hints only". */
#define COLORIZE_MODEL_HINTS_ONLY "hints-only"

/* Reads the hints of a hints layer: `hints` is its buffer (any format;
 * its extent is the layer, its top-left corner at hints_x, hints_y in the
 * image); the target layer is width x height at target_x, target_y.
 * Every pixel of their overlap whose alpha, read as "CIE Lab alpha
 * float", is > 0 becomes one hint at its position in the target (alpha
 * clamped to 1; L ignored).  *out may end up empty (no overlap, nothing
 * painted).  FALSE with error (out of memory) otherwise. */
gboolean colorize_hints_read (GeglBuffer *hints, gint hints_x, gint hints_y,
                              gint target_x, gint target_y, gint width,
                              gint height, ColorizeHints *out,
                              GError **error);

/* The hints of a target width x height scaled to out_w x out_h (the
 * preview's picture): the hints falling into one output pixel become one
 * hint there, with their alpha-weighted mean a,b and their mean alpha. */
void colorize_hints_scale (const ColorizeHints *in, gint width, gint height,
                           gint out_w, gint out_h, ColorizeHints *out);

void colorize_hints_clear (ColorizeHints *hints);

/* The message (g_message) of a run whose hints layer has nothing painted
 * over the target: it colorizes as without hints. */
void colorize_hints_note_empty (const gchar *hints_name,
                                const gchar *target_name);

/* FALSE with an error naming both sizes and the file when a hints file
 * of hw x hh does not match its photo's w x h. */
gboolean colorize_hints_check_size (const gchar *path, gint hw, gint hh,
                                    gint w, gint h, GError **error);

/* Name of a run in layer names and messages: the architecture's label,
 * or "hints only" when no network runs. */
const gchar *colorize_run_label (nn_arch arch, gboolean hints_only);

/* Progress of colorize_compute and colorize_write: fraction 0..1.
 * colorize_compute stops when it returns FALSE (cancel); colorize_write
 * ignores the return value (a write, once started, is finished). */
typedef gboolean (*ColorizeProgressFunc) (gdouble fraction, gpointer data);

/* What step 1 leaves for step 2: src's L (and alpha, when its format
 * has one) at full size, 4 or 8 bytes a pixel, and the network's colour
 * at the working size (nn_colorize_prepare). */
typedef struct _ColorizeResult ColorizeResult;

/* Step 1 of colorizing a drawable: reads the whole of src as
 * "CIE Lab alpha float", keeping L and alpha, and runs the network on L
 * (vividness: see above; checked with colorize_vividness_check).
 * Progress goes from 0 to 0.85.  hints (may be NULL or empty: the plain
 * result, bit for bit) are in src's pixel coordinates; a NULL model means
 * hints only (no network, a grey prior).  Returns the result (free with
 * colorize_result_free) or NULL with error (NN_ERR_CANCELLED, "Colorize
 * was cancelled.", when progress returned FALSE); nothing is written
 * anywhere, so a failure or a cancel leaves the image as it was. */
ColorizeResult *colorize_compute (nn_model            *model,
                                  GeglBuffer          *src,
                                  gint                 working_size,
                                  gdouble              strength,
                                  gdouble              vividness,
                                  const ColorizeHints *hints,
                                  ColorizeProgressFunc progress,
                                  gpointer             progress_data,
                                  GError             **error);

/* Step 2: writes the result into dst (the size of step 1's src; dst may
 * be src) band by band: L and alpha as read, a,b from the network
 * (nn_colorize_apply_rows), gamut-mapped into dst's colour space.
 * Progress from 0.85 to 1.  With COLORIZE_VERBOSE=2 it prints the FNV-1a
 * of the Lab-alpha pixels it wrote (before gamut mapping). */
gboolean colorize_write (const ColorizeResult *result,
                         GeglBuffer           *dst,
                         ColorizeProgressFunc  progress,
                         gpointer              progress_data,
                         GError              **error);

/* Rows [y, y + rows) of the result as "CIE Lab alpha float" pixels into
 * lab (rows x width x 4 floats): the source's L and alpha, the network's
 * a,b, before gamut mapping (what colorize_write writes).  FALSE with
 * error when out of memory. */
gboolean colorize_result_rows (const ColorizeResult *result, gint y,
                               gint rows, gfloat *lab, GError **error);

void colorize_result_free (ColorizeResult *result);

/* Reads src scaled down (never up) so that its longer side is at most
 * max_side, as "CIE Lab alpha float".  Returns a g_malloc'ed array and
 * sets *width, *height; NULL with error on failure. */
gfloat *colorize_read_scaled (GeglBuffer *src, gint max_side,
                              gint *width, gint *height, GError **error);

/* Runs the network on a Lab-alpha array in place (see nn_colorize_image),
 * mapping nn errors to GError.  hints as colorize_compute's, in the
 * array's coordinates; cancel may be NULL. */
gboolean colorize_pixels (nn_model *model, gfloat *lab, gint width,
                          gint height, gint working_size, gdouble strength,
                          gdouble vividness, const ColorizeHints *hints,
                          ColorizeProgressFunc progress, gpointer data,
                          const volatile gint *cancel, GError **error);

/* Gamut-maps n Lab-alpha pixels in place into rgb_format's space (L and
 * alpha kept, chroma lowered until the colour fits) and, when rgba is not
 * NULL, writes them there as rgb_format ("RGBA float" in some space). */
void colorize_gamut_map (const Babl *rgb_format, gfloat *lab, gfloat *rgba,
                         gsize n);

/* Environment variable of the cancel test hook (tests only). */
#define COLORIZE_TEST_CANCEL_ENV "COLORIZE_TEST_CANCEL_FILE"

/* The hook exists only in test builds (compiled with -DCOLORIZE_TEST_HOOKS:
 * make plugin-test, build/plugin-gimp*-test/); in the shipped plug-in the
 * hosts' calls compile to nothing. */
#ifdef COLORIZE_TEST_HOOKS

/* Test hook for cancelling (see "Cancelling a run" in plugin/README.md):
 * the hosts call it with every fraction they report to GIMP's progress.
 * When $COLORIZE_TEST_CANCEL_FILE names a file that holds a number F
 * (read at the first call in the process), the first call with
 * fraction >= F kills this process with SIGKILL, which is what GIMP does
 * when the user cancels a plug-in's progress.  Does nothing otherwise
 * (no variable, no file, or no number in it). */
void colorize_test_cancel_point (gdouble fraction);
#else
static inline void colorize_test_cancel_point (gdouble fraction) { (void) fraction; }
#endif

/* When the environment variable COLORIZE_VERBOSE is set, prints to stderr
 * "colorize: <what> WxH: <phase> X.XXX s ..." for the phases of one run
 * (seconds since start, from g_get_monotonic_time); used by
 * tools/bench-plugin.sh.  (colorize_compute prints, before it, the
 * temperature used when the model has colour classes.) */
void colorize_log_times (const gchar *what, gint width, gint height,
                         gint64 start, gint64 loaded, gint64 computed,
                         gint64 written);

#endif
