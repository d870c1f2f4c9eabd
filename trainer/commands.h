/* commands.h - the subcommands of build/colorize-train.  Each takes the
 * arguments after the subcommand name and returns the process exit code
 * (0 success, 1 failure, 2 bad usage), printing its own errors on stderr. */
#ifndef TRAINER_COMMANDS_H
#define TRAINER_COMMANDS_H

int cmd_init (int argc, char **argv);     /* cmd_model.c */
int cmd_info (int argc, char **argv);     /* cmd_model.c */
int cmd_forward (int argc, char **argv);  /* cmd_model.c */
int cmd_bench (int argc, char **argv);    /* bench.c */
int cmd_train (int argc, char **argv);    /* train.c */
int cmd_eval (int argc, char **argv);     /* eval.c */
int cmd_apply (int argc, char **argv);    /* apply.c */
int cmd_pack (int argc, char **argv);     /* cmd_pack.c */
int cmd_pack_info (int argc, char **argv); /* cmd_pack.c: info SET.pack */

#endif
