/*
 * catalogue.c — the list of checks and running a selection of them.
 * Each family lives in its own file; catalogue.def is the only place that names them all.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RP_CHECK(name, id, title, looks_at) const char rp_id_##name[] = id;
#include "checks/catalogue.def"
#undef RP_CHECK

const rp_check rp_checks[] = {
#define RP_CHECK(name, id, title, looks_at) {rp_id_##name, title, looks_at, rp_check_##name},
#include "checks/catalogue.def"
#undef RP_CHECK
};
const size_t rp_ncheck = sizeof rp_checks / sizeof rp_checks[0];

const rp_check *rp_check_find(const char *id)
{
	for (size_t i = 0; i < rp_ncheck; i++)
		if (strcasecmp(rp_checks[i].id, id) == 0)
			return &rp_checks[i];
	return NULL;
}

/* Edit distance (insert, delete, substitute one character) between two short ids,
 * case-insensitive; ids longer than 31 characters count as far from everything. */
static size_t id_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[32];
	if (la > 31 || lb > 31)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t sub = diag + (tolower((unsigned char)a[i - 1]) !=
					     tolower((unsigned char)b[j - 1]));
			size_t best = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
			row[j] = sub < best ? sub : best;
			diag = up;
		}
	}
	return row[lb];
}

/* The one place --check names are matched: an id, case-insensitive, or a glob ("rdp.*"). */
static int id_matches(const char *pattern, const char *id)
{
	return fnmatch(pattern, id, FNM_CASEFOLD) == 0;
}

/* Runs (scan != NULL) or only validates each id or glob of a comma-separated list, every
 * check once, in the order the list names them; stops at the first name matching nothing,
 * suggesting the nearest id. */
static int for_each_id(const char *ids, rp_scan *scan, rp_err *err)
{
	char *list = rp_xstrdup(ids), *save = NULL;
	unsigned char *done = rp_xcalloc(rp_ncheck, 1);
	int rc = 0;
	for (char *id = strtok_r(list, ",", &save); id && !rc; id = strtok_r(NULL, ",", &save)) {
		int matched = 0;
		for (size_t i = 0; i < rp_ncheck && !rc; i++) {
			if (!id_matches(id, rp_checks[i].id))
				continue;
			matched = 1;
			if (done[i]++)
				continue;
			if (scan && rp_checks[i].run(scan, err) < 0)
				rc = -1;
		}
		if (matched || rc)
			continue;
		size_t best = 0;
		for (size_t i = 1; i < rp_ncheck; i++)
			if (id_distance(id, rp_checks[i].id) < id_distance(id, rp_checks[best].id))
				best = i;
		char *shown = rp_escape(id);
		if (id_distance(id, rp_checks[best].id) <= 3)
			rc =
			    rp_fail(err, RP_EXIT_USAGE,
				    "unknown check '%s': did you mean %s? 'rdprescue --help' lists "
				    "the checks",
				    shown, rp_checks[best].id);
		else
			rc = rp_fail(err, RP_EXIT_USAGE,
				     "unknown check '%s': 'rdprescue --help' lists the checks",
				     shown);
		free(shown);
	}
	free(done);
	free(list);
	return rc;
}

int rp_checks_selects(const char *ids, const char *id)
{
	if (!ids)
		return 1;
	char *list = rp_xstrdup(ids), *save = NULL;
	int found = 0;
	for (char *p = strtok_r(list, ",", &save); p && !found; p = strtok_r(NULL, ",", &save))
		found = id_matches(p, id);
	free(list);
	return found;
}

int rp_checks_validate(const char *ids, rp_err *err)
{
	return ids ? for_each_id(ids, NULL, err) : 0;
}

int rp_scan_run(rp_scan *scan, const char *ids, rp_err *err)
{
	if (ids) {
		if (for_each_id(ids, scan, err) < 0)
			return -1;
	} else {
		for (size_t i = 0; i < rp_ncheck; i++)
			if (rp_checks[i].run(scan, err) < 0)
				return -1;
	}
	rp_events_cite(scan);
	return 0;
}
