/*
 * acl.c — one security descriptor replaced, the way fix writes: the original SD (and, for a
 * file, its bytes, which undo compares to tell whether the file changed since) goes into a
 * verified backup first, then the new SD is set and read back.  `rdprescue acl reset` uses it;
 * `rdprescue undo` restores the original from the backup (entry action "sd").
 */
#include "plan/plan.h"
#include "sd/sd.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

static void add_file(rp_plan_result *res, const char *path)
{
	res->files = rp_xrealloc(res->files, (res->nfiles + 1) * sizeof *res->files);
	res->files[res->nfiles++] = rp_xstrdup(path);
}

/* The SD the volume holds now equals what was set (as bytes, or as parsed structures when
 * the file system stored an equivalent encoding). */
static int reads_back(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	if (got_len == want_len && memcmp(got, want, want_len) == 0)
		return 1;
	rp_sd a, b;
	if (rp_sd_parse(got, got_len, &a, NULL) < 0)
		return 0;
	int same = rp_sd_parse(want, want_len, &b, NULL) == 0 && rp_sd_equal(&a, &b);
	if (same)
		rp_sd_free(&b);
	rp_sd_free(&a);
	return same;
}

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
	if (rp_target_open(t, opts->install_index, 1, &vol, &inst, err) < 0)
		return -1;
	int rc = -1;
	uint8_t *data = NULL, *old_sd = NULL, *now = NULL;
	size_t data_len = 0, old_len = 0, now_len = 0;
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
	/* A folder has no bytes: its entry holds none, and undo compares nothing but the SD. */
	if (!st.is_dir && rp_vol_read(vol, path, &data, &data_len, err) < 0)
		goto out;
	if (rp_vol_get_sd(vol, path, &old_sd, &old_len, err) < 0)
		goto out;
	rp_backup_entry *e =
	    rp_backup_add(&b, path, RP_BACKUP_SD, data, data_len, 1, old_sd, old_len);
	memcpy(e->sha256_after, e->sha256_before, sizeof e->sha256_after);
	rp_sd parsed;
	if (rp_sd_parse(old_sd, old_len, &parsed, NULL) == 0) {
		e->sddl_before = rp_sd_to_sddl(&parsed);
		rp_sd_free(&parsed);
	}
	if (rp_sd_parse(sd, len, &parsed, NULL) == 0) {
		e->sddl_after = rp_sd_to_sddl(&parsed);
		rp_sd_free(&parsed);
	}
	if (rp_plan_store_backup(vol, &b, opts, res, err) < 0)
		goto out;
	if (rp_vol_set_sd(vol, path, sd, len, err) < 0)
		goto out;
	if (rp_vol_get_sd(vol, path, &now, &now_len, err) < 0)
		goto out;
	if (!reads_back(now, now_len, sd, len)) {
		char *shown = rp_escape(path);
		rp_fail(err, RP_EXIT_WRITE_FAILED,
			"%s does not read back the security descriptor that was set; restore it "
			"with 'rdprescue undo'",
			shown);
		free(shown);
		goto out;
	}
	add_file(res, path);
	res->files_written = 1;
	res->changes = 1;
	rc = 0;
out:
	if (rp_vol_close(vol, rc == 0 ? err : NULL) < 0)
		rc = -1;
	rp_backup_free(&b);
	free(data);
	free(old_sd);
	free(now);
	return rc;
}
