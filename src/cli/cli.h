/*
 * cli.h — the command line (the edge): every command parses its own arguments, prints, and
 * returns the exit status of the contract in err.h.  Messages are one line on stderr:
 * "rdprescue: <what is wrong>; <what to do>".
 */
#ifndef RP_CLI_H
#define RP_CLI_H

#include <stdio.h>

int cmd_scan(int argc, char **argv); /* also fix: argv[0] says which */
int cmd_undo(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_acl(int argc, char **argv);
int cmd_hive(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_backups(int argc, char **argv);
int cmd_reg(int argc, char **argv);

/* fleet.c: scan or fix (argv[0]) over argv[first..argc), each target in its own run of this
 * binary with the options argv[1..first), at most jobs at once; each report in one piece, then
 * a table (or with json a last "rdprescue-fleet/1" line).  Returns the worst exit code. */
int cli_fleet(int argc, char **argv, int first, int jobs, int json);

/* Parses the N of --install N (1..64); 0 on success, else prints the usage error, returns 2. */
int cli_install_index(const char *arg, int *out);

/* 0 when dir is NULL or a writable directory, else prints the usage error and returns 2.
 * create: a missing dir whose parent exists is created (mode 0700) first. */
int cli_backup_dir_ok(const char *dir, int create);

/* help.c: 1 when cmd has a help text; 1 when argv (argv[0] the command) asks for help
 * (-h or --help before any "--"); prints cmd's help on out and returns 0, or prints the usage
 * error and returns 2 when there is no such command; one synopsis line per command. */
int cli_has_help(const char *cmd);
int cli_wants_help(int argc, char **argv);
int cli_help(const char *cmd, FILE *out);
void cli_help_commands(FILE *out);

/* devname.c: "Azure data disk, LUN 0", "AWS EBS volume vol-...", "GCP disk, device name X"...
 * for a disk of this machine, from udev's links to it (malloc'd), or NULL. */
char *cli_disk_origin(const char *dev);

/* status.c: shows "rdprescue: WHAT..." on stderr when wanted and stderr is a terminal; what
 * NULL erases it. */
void cli_status(int wanted, const char *what);

/* version.c: the version, the git commit and each linked library's version. */
void cli_version(FILE *out);

/* Prints "rdprescue: msg" on stderr and returns code.  For scan, fix, undo and acl, unless the
 * run already printed its report: also the report of the failed run (with --json one JSON
 * document with "error" on stdout) and the summary line, so that every run keeps the contract. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The run printed its report and summary: cli_fail prints only its message from now on. */
void cli_reported(void);
/* Remembers the command, its TARGET and --json for the report cli_fail prints (scan, fix, undo,
 * acl, backups). */
void cli_run_begin(const char *command, int argc, char **argv);

#endif
