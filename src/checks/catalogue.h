/*
 * catalogue.h — the check catalogue: every check's entry point and id constant (from
 * catalogue.def, the one list), the table of them, and running a selection.
 */
#ifndef RP_CHECKS_CATALOGUE_H
#define RP_CHECKS_CATALOGUE_H

#include "checks/checks.h"

#include <stddef.h>

typedef struct rp_check {
	const char *id;
	const char *title;    /* `rdprescue --help` */
	const char *looks_at; /* what it reads (README.md's table) */
	int (*run)(rp_scan *scan, rp_err *err);
} rp_check;

/* For each line of catalogue.def: int rp_check_NAME(...) and const char rp_id_NAME[] ("a.b"). */
#define RP_CHECK(name, id, title, looks_at)                                                        \
	int rp_check_##name(rp_scan *scan, rp_err *err);                                           \
	extern const char rp_id_##name[];
#include "checks/catalogue.def"
#undef RP_CHECK

extern const rp_check rp_checks[];
extern const size_t rp_ncheck;

const rp_check *rp_check_find(const char *id);
/* Runs the checks named in ids (comma-separated; NULL = all).  Unknown id: RP_EXIT_USAGE. */
int rp_scan_run(rp_scan *scan, const char *ids, rp_err *err);
/* Validates a --check list without running it. */
int rp_checks_validate(const char *ids, rp_err *err);

#endif
