/*
 * acl.c — one security descriptor replaced, the way fix writes: the original SD goes into a
 * verified backup first (an "sd" entry, as fix makes), then the new SD is set and read back.
 * `rdprescue acl reset` uses it; `rdprescue undo` restores the original from the backup (entry
 * action "sd").
 */
#include "plan/interrupt.h"
#include "plan/jobs.h"
#include "plan/plan_internal.h"
#include "sd/sd.h"
#include "util/hash.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

int rp_plan_set_sd(const rp_target *t, const rp_plan_opts *opts, const char *path,
		   const uint8_t *sd, size_t len, rp_plan_result *res, rp_err *err)
{
	memset(res, 0, sizeof *res);
	rp_sd check;
	if (rp_sd_parse(sd, len, &check, err) < 0) {
		rp_err_prefix(err, "the new security descriptor is not valid; nothing was written");
		return -1;
	}
	rp_sd_free(&check);
	if (opts->dry_run)
		return 0;
	rp_vol *vol = NULL;
	const rp_install *inst = NULL;
	/* Read-write from here: SIGINT/SIGTERM/SIGHUP wait until the run is done. */
	rp_plan_guard guard = {0};
	rp_plan_guard_begin(&guard);
	if (rp_target_open(t, opts->install_index, 1, &vol, &inst, err) < 0) {
		rp_plan_guard_end(&guard, res);
		return -1;
	}
	rp_plan_note_volume(res, rp_vol_get_state(vol));
	int rc = -1;
	uint8_t *old_sd = NULL, *now = NULL;
	size_t old_len = 0, now_len = 0;
	rp_backup b;
	char *install_json = rp_install_json(inst, NULL);
	rp_plan_backup_init(&b, "acl", opts, install_json);
	free(install_json);
	rp_stat st;
	if (rp_vol_stat(vol, path, &st, err) < 0)
		goto out;
	if (!st.exists) {
		char *shown = rp_escape(path);
		rp_fail(err, RP_EXIT_USAGE, "%s does not exist on the volume; check the path",
			shown);
		free(shown);
		goto out;
	}
	if (rp_vol_get_sd(vol, path, &old_sd, &old_len, err) < 0)
		goto out;
	/* As fix records an SD change: the original SD, no bytes, and the hash of the new SD
	 * (undo restores only when the SD is still the one set here, unless --force). */
	rp_backup_entry *e = rp_backup_add(&b, path, RP_BACKUP_SD, NULL, 0, 0, old_sd, old_len);
	rp_sha256_hex(sd, len, e->sha256_after);
	e->sddl_before = rp_sd_bytes_to_sddl(old_sd, old_len);
	e->sddl_after = rp_sd_bytes_to_sddl(sd, len);
	if (rp_plan_store_backup(vol, &b, opts, res, err) < 0)
		goto out;
	if (rp_vol_set_sd(vol, path, sd, len, err) < 0)
		goto out;
	if (rp_vol_get_sd(vol, path, &now, &now_len, err) < 0)
		goto out;
	if (now_len != len || memcmp(now, sd, len) != 0) {
		char *shown = rp_escape(path);
		rp_fail(err, RP_EXIT_WRITE_FAILED,
			"%s does not read back the security descriptor that was set; restore it "
			"with 'rdprescue undo'",
			shown);
		free(shown);
		goto out;
	}
	rp_plan_add_file(res, path);
	res->files_written = 1;
	res->changes = 1;
	rc = 0;
out:
	if (rp_vol_close(vol, rc == 0 ? err : NULL) < 0)
		rc = -1;
	rp_plan_guard_end(&guard, res);
	rp_backup_free(&b);
	free(old_sd);
	free(now);
	return rc;
}
