/* tmpfile.h - temporaries left behind by killed runs.
 *
 * Every file the trainer writes whole (weights, checkpoints, images) goes
 * to a temporary first and is renamed over its name when complete
 * (nn_temp_path: ".colorize-PID-NAME" beside it), so a run killed at any
 * moment leaves either the old file or the new one, never a part.  What
 * a SIGKILL can leave is the temporary itself; the next run that writes
 * into that folder removes it.
 */
#ifndef TRAINER_TMPFILE_H
#define TRAINER_TMPFILE_H

/* Removes the temporaries (nn_temp_path's names) in the folder of path
 * whose process is gone, naming each on stderr after `who`; a live
 * process's temporary (a run still writing, or this one) is kept.
 * Returns how many were removed. */
int tmpfile_remove_stale (const char *path, const char *who);

/* Whether name (a file name, no folder) is such a stale temporary. */
int tmpfile_is_stale (const char *name);

#endif
