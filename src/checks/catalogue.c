/*
 * catalogue.c — the list of checks and running a selection of them.
 * Each family lives in its own file; catalogue.def is the only place that names them all.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

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
		if (strcmp(rp_checks[i].id, id) == 0)
			return &rp_checks[i];
	return NULL;
}

/* Calls fn for each id of a comma-separated list; stops at the first unknown one. */
static int for_each_id(const char *ids, rp_scan *scan, rp_err *err)
{
	char *list = rp_xstrdup(ids), *save = NULL;
	int rc = 0;
	for (char *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
		const rp_check *c = rp_check_find(id);
		if (!c) {
			char *shown = rp_escape(id);
			rc = rp_fail(err, RP_EXIT_USAGE,
				     "unknown check '%s': see 'rdprescue scan --help' for the list",
				     shown);
			free(shown);
			break;
		}
		if (scan && c->run(scan, err) < 0) {
			rc = -1;
			break;
		}
	}
	free(list);
	return rc;
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
