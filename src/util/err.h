/*
 * err.h — errors as values.
 *
 * Every function that can fail returns -1 (or NULL) and fills an rp_err with a one-line
 * message that says what is wrong and, where there is one, what to do, plus the exit code
 * the command should end with.  Only the edge (src/cli/) prints messages.
 */
#ifndef RP_ERR_H
#define RP_ERR_H

/* The exit status contract (DESIGN.md, docs/rdprescue.1.md). */
enum rp_exit {
	RP_EXIT_OK = 0,		  /* healthy, or everything fixed */
	RP_EXIT_PROBLEMS = 1,	  /* problems remain */
	RP_EXIT_USAGE = 2,	  /* bad command line */
	RP_EXIT_UNUSABLE = 3,	  /* target unusable: no Windows, BitLocker, hibernated, corrupt */
	RP_EXIT_WRITE_FAILED = 4, /* a write failed and was rolled back */
};

typedef struct rp_err {
	int exit_code;
	char msg[1024];
} rp_err;

/* Fills err (when err is not NULL and holds no message yet) and returns -1. */
int rp_fail(rp_err *err, int exit_code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Puts context in front of an existing message: "reading SYSTEM: <old message>". */
void rp_err_prefix(rp_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends to an existing message, e.g. "; <what to do>" (cut at the message's size). */
void rp_err_suffix(rp_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void rp_err_clear(rp_err *err);

#endif
