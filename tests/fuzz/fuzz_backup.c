/*
 * fuzz_backup.c — libFuzzer harness for rp_backup_parse: any byte string must either parse into a
 * backup whose every entry passes the checks undo relies on, or be refused with a message;
 * never crash, leak or read out of bounds.  An archive that parses must also pass
 * rp_backup_verify against what it parsed into (the check a fix makes before writing).  Seeds:
 * tests/fuzz/corpus/backup/ (small real archives, zstd-compressed and plain; checks.tar has the
 * optional "checks" list).
 */
#include "plan/backup.h"
#include "plan/backup_manifest.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rp_backup b;
	rp_err err = {0};
	if (rp_backup_parse(data, size, &b, &err) == 0) {
		for (size_t i = 0; i < b.nentries; i++) {
			const rp_backup_entry *e = &b.entries[i];
			if (rp_backup_path_ok(e->path, strlen(e->path)) ||
			    (e->had_data && !e->data))
				abort();
		}
		/* checks: absent, or at most RP_BACKUP_MAX_CHECKS well-formed ids. */
		if ((!b.checks && b.nchecks) || b.nchecks > RP_BACKUP_MAX_CHECKS)
			abort();
		for (size_t i = 0; i < b.nchecks; i++)
			if (rp_backup_check_id_ok(b.checks[i], strlen(b.checks[i])))
				abort();
		rp_err verr = {0};
		if (rp_backup_verify(data, size, &b, &verr) != 0)
			abort();
		rp_backup_free(&b);
	} else if (!err.msg[0] || strchr(err.msg, '\n')) {
		abort();
	}
	return 0;
}
