/* colorize-dir.h - the file-system side of plug-in-colorize-dir, shared by
 * both hosts (GLib only): which files to colorize, where their outputs go,
 * and the guarantees that the input folder is never written to.
 */
#ifndef COLORIZE_DIR_H
#define COLORIZE_DIR_H

#include <glib.h>

#include "model.h"

/* Checks that in_dir is a readable folder, creates out_dir when missing,
 * refuses when out_dir is in_dir (or a link to it), and returns the sorted
 * names of the regular, non-hidden files of in_dir (not recursive) that
 * look like images ("image/..." MIME types from name and content, PDF,
 * PostScript; the others are named on stderr as skipped), as a
 * NULL-terminated array (g_strfreev).  NULL with error on failure.
 * Removes the stale temporaries of out_dir first
 * (colorize_dir_remove_stale). */
gchar **colorize_dir_prepare (const gchar *in_dir, const gchar *out_dir,
                              GError **error);

/* The start of the temporaries' names: ".colorize-PID-NAME" in the output
 * folder (hidden, so never listed as an input). */
#define COLORIZE_DIR_TMP_PREFIX ".colorize-"

/* Removes the temporaries of out_dir whose process (the PID in their
 * name) no longer exists: what a run killed while saving leaves behind.
 * Each removed file is named on stderr.  colorize_dir_prepare calls it. */
void colorize_dir_remove_stale (const gchar *out_dir);

/* For one input name: its path, the output path (same name in out_dir)
 * and a temporary path in out_dir with the same extension, to be renamed
 * onto the output when the save succeeded.  Refuses when the output path
 * is the input file itself (a link).  FALSE with error otherwise. */
gboolean colorize_dir_paths (const gchar *in_dir, const gchar *out_dir,
                             const gchar *name, gchar **in_path,
                             gchar **out_path, gchar **tmp_path,
                             GError **error);

/* Colours of the palette made for outputs that hold only indexed colour. */
#define COLORIZE_DIR_INDEXED_COLOURS 256

/* Whether the format of an output path holds only indexed colour: GIF
 * (".gif", any case).  Its colorized RGB image is then converted back to
 * indexed colour before saving (a generated palette of
 * COLORIZE_DIR_INDEXED_COLOURS colours, Floyd-Steinberg dithering), since
 * GIMP's GIF export refuses RGB images. */
gboolean colorize_dir_indexed_only (const gchar *path);

/* Whether an output path is a JPEG file (".jpg", ".jpeg", ".jpe", any
 * case): the hosts save it with the input's own quality. */
gboolean colorize_dir_is_jpeg (const gchar *path);

/* The input's JPEG quality (1..100) from the data of the "jpeg-settings"
 * parasite that GIMP's JPEG loader (2.10 and 3.0, plug-ins/file-jpeg/
 * jpeg-settings.c) attaches: byte 0 the JPEG colour space, byte 1 the
 * quality libjpeg's tables match (jpeg_detect_quality; exact for IJG
 * tables, the nearest IJG quality otherwise), byte 2 the number of
 * components, byte 3 the number of quantisation tables stored, then two
 * sampling factors per component and 128 bytes per table.  -1 when data
 * is NULL or not such a parasite, or the quality is unknown (0). */
gint colorize_dir_jpeg_quality (const guint8 *data, gsize size);

/* The quality for a JPEG output when the input's is unknown (a PNG saved
 * as .jpg cannot happen, but a JPEG whose tables GIMP cannot match can):
 * GIMP's own default. */
#define COLORIZE_DIR_JPEG_QUALITY_DEFAULT 90

/* Renames tmp_path onto out_path (errors name both). */
gboolean colorize_dir_commit (const gchar *tmp_path, const gchar *out_path,
                              GError **error);

/* The host's part for one file: colorize in_path (with the model the
 * caller loaded, passed through as data) and save the result to
 * tmp_path.  index counts from 0 among count files (for progress). */
typedef gboolean (*ColorizeDirFileFunc) (const gchar *name, gint index,
                                         gint count, const gchar *in_path,
                                         const gchar *tmp_path,
                                         gpointer data, GError **error);

/* Runs file_func on every name (from colorize_dir_prepare), moving each
 * result onto its output path; carries on past files that fail, naming
 * each on stderr.  FALSE with an error listing the failed files when any
 * failed. */
gboolean colorize_dir_each (const gchar *in_dir, const gchar *out_dir,
                            gchar **names, ColorizeDirFileFunc file_func,
                            gpointer data, GError **error);

/* Colour hints for the folder procedure (plug-in-colorize-dir-hints): a
 * folder holding, for a photo named NAME.EXT, the PNG NAME.png of the
 * photo's size (its pixels with alpha > 0 are the hints).  FALSE with
 * error when hints_dir is not a folder or is the input folder. */
gboolean colorize_dir_check_hints (const gchar *in_dir,
                                   const gchar *hints_dir, GError **error);

/* The hints file of the photo in_path: hints_dir/<base name>.png.  Newly
 * allocated. */
gchar *colorize_dir_hints_path (const gchar *hints_dir,
                                const gchar *in_path);

/* The photo's hints file, when there is one: TRUE with *path set (newly
 * allocated), or TRUE with *path NULL when hints_dir holds none for it
 * (a note on stderr: it is colorized without hints); FALSE with error
 * when there is none and hints_only (nothing else to go by). */
gboolean colorize_dir_find_hints (const gchar *hints_dir,
                                  const gchar *in_path, gboolean hints_only,
                                  gchar **path, GError **error);

/* The folder procedures' model argument: "cnn", "resnet18", the path of a
 * .weights file, or COLORIZE_MODEL_HINTS_ONLY (then *model is NULL and
 * *hints_only TRUE; refused when has_hints_dir is FALSE).  FALSE with
 * error otherwise (no model given, loading failed). */
gboolean colorize_dir_load_model (const gchar *progname,
                                  const gchar *model_arg,
                                  gboolean has_hints_dir, nn_model **model,
                                  gboolean *hints_only, GError **error);

#endif
