/*
 * store.c — the backup store: making a backup (id, originals read from the volume), storing it
 * in --backup-dir and in the volume's rdprescue/backups folder (each copy re-read and compared),
 * finding and loading the stored backups, and putting one entry's original back.  plan.c (fix),
 * acl.c and undo.c all go through it; none of them calls another.
 */
#include "plan/plan_internal.h"
#include "util/file.h"
#include "util/text.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *rp_install_json(const rp_install *inst, const rp_registry *reg)
{
	json_t *o = json_object();
	json_object_set_new(o, "index", json_integer(inst->index));
	json_object_set_new(o, "partition", json_integer(inst->part_number));
	json_object_set_new(o, "offset", json_integer((json_int_t)inst->offset));
	json_object_set_new(o, "size", json_integer((json_int_t)inst->size));
	json_object_set_new(o, "label", json_string(inst->label));
	if (reg) {
		json_object_set_new(o, "product",
				    reg->product ? json_string(reg->product) : json_null());
		json_object_set_new(o, "build", reg->build ? json_string(reg->build) : json_null());
		json_object_set_new(o, "computer_name",
				    reg->computer ? json_string(reg->computer) : json_null());
		json_object_set_new(o, "control_set", json_string(reg->ccs));
	}
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s ? s : rp_xstrdup("{}");
}

static char *new_backup_id(const char *kind)
{
	/* Milliseconds, so that backups made in the same second (a fix, then an acl reset) still
	 * sort by age: undo takes the greatest name. */
	char stamp[32];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
	snprintf(stamp + n, sizeof stamp - n, "%03ldZ", ts.tv_nsec / 1000000);
	uint8_t rnd[4] = {0};
	FILE *f = fopen("/dev/urandom", "rb");
	if (f) {
		if (fread(rnd, 1, sizeof rnd, f) != sizeof rnd)
			memset(rnd, 0, sizeof rnd);
		fclose(f);
	}
	char hex[9];
	rp_hex(rnd, sizeof rnd, hex);
	return rp_xasprintf("%s-%s-%s", stamp, hex, kind);
}

void rp_plan_backup_init(rp_backup *b, const char *kind, const rp_plan_opts *opts,
			 const char *install_json)
{
	memset(b, 0, sizeof *b);
	b->id = new_backup_id(kind);
	b->kind = rp_xstrdup(kind);
	char created[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
	b->created = rp_xstrdup(created);
	b->tool_version = rp_xstrdup(RP_VERSION);
	b->target = rp_xstrdup(opts->target);
	b->install = rp_xstrdup(install_json);
}

int rp_plan_read_original(rp_vol *vol, const char *path, uint8_t **data, size_t *len, uint8_t **sd,
			  size_t *sd_len, rp_err *err)
{
	if (rp_vol_read(vol, path, data, len, err) < 0)
		return -1;
	*sd = NULL;
	*sd_len = 0;
	if (strcmp(rp_vol_backend(vol), "ntfs") == 0) {
		if (rp_vol_get_sd(vol, path, sd, sd_len, err) == 0)
			return 0;
		free(*data);
		*data = NULL;
		return -1;
	}
	rp_err ignored = {0};
	rp_vol_get_sd(vol, path, sd, sd_len, &ignored);
	return 0;
}

int rp_plan_store_backup(rp_vol *vol, const rp_backup *b, const rp_plan_opts *opts,
			 rp_plan_result *res, rp_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	if (rp_backup_serialize(b, &buf, &len, err) < 0)
		return -1;
	int rc = -1;
	char *host = NULL, *on_vol = NULL;
	/* The archive decompresses to exactly what was saved (compared with the originals in
	 * memory); the copies written below are then compared byte for byte with buf. */
	if (rp_backup_verify(buf, len, b, err) < 0)
		goto out;
	/* The result names a backup only once it is complete: the report must not point to
	 * one that failed. */
	char *name = rp_xasprintf("rdprescue-%s.tar.zst", b->id);
	if (opts->backup_dir)
		host = rp_xasprintf("%s/%s", opts->backup_dir, name);
	on_vol = rp_xasprintf("%s/%s", RP_BACKUP_VOL_DIR, name);
	free(name);
	if (host && rp_backup_write_host(buf, len, host, err) < 0)
		goto out;
	uint8_t *back = NULL;
	size_t back_len = 0;
	if (rp_vol_mkdirs(vol, RP_BACKUP_VOL_DIR, err) < 0 ||
	    rp_vol_write_file(vol, on_vol, buf, len, NULL, 0, err) < 0 ||
	    rp_vol_read(vol, on_vol, &back, &back_len, err) < 0) {
		rp_err_prefix(err, "writing the backup onto the volume");
		goto out;
	}
	if (back_len != len || memcmp(back, buf, len) != 0) {
		free(back);
		rp_fail(err, RP_EXIT_WRITE_FAILED,
			"the backup read back from the volume differs from what was written (%s); "
			"nothing was changed",
			on_vol);
		goto out;
	}
	free(back);
	/* undo names the backup it restores first, then the safety backup it stored. */
	free(res->backup_id);
	free(res->backup_host);
	free(res->backup_volume);
	res->backup_id = rp_xstrdup(b->id);
	res->backup_host = host;
	res->backup_volume = on_vol;
	host = on_vol = NULL;
	rc = 0;
out:
	free(host);
	free(on_vol);
	free(buf);
	return rc;
}

int rp_plan_restore_entry(rp_vol *vol, const rp_backup_entry *e, rp_err *err)
{
	switch (e->action) {
	case RP_BACKUP_SD:
		return rp_vol_set_sd(vol, e->path, e->sd, e->sd_len, err);
	case RP_BACKUP_CREATE:
		return rp_vol_remove(vol, e->path, err);
	default:
		return rp_vol_write_file(vol, e->path, e->data, e->len, e->sd, e->sd_len, err);
	}
}

typedef struct store_scan {
	rp_stored *v;
	size_t n;
	int with_undo;
} store_scan;

static int is_backup_name(const char *name, int with_undo)
{
	size_t len = strlen(name);
	const char *suffix = ".tar.zst";
	/* names come from the disk: nothing that could leave the folder */
	if (strncmp(name, "rdprescue-", 10) != 0 || len < 18 || strpbrk(name, "/\\") ||
	    strcmp(name + len - strlen(suffix), suffix) != 0)
		return 0;
	return with_undo || !strstr(name, "-undo.tar.zst");
}

static rp_stored *find_or_add(store_scan *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].name, name))
			return &s->v[i];
	s->v = rp_xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	rp_stored *st = &s->v[s->n++];
	memset(st, 0, sizeof *st);
	st->name = rp_xstrdup(name);
	return st;
}

static int add_volume_copy(void *ctx, const char *name, const rp_stat *st)
{
	store_scan *s = ctx;
	if (!st->is_dir && is_backup_name(name, s->with_undo))
		find_or_add(s, name)->volume_path = rp_xasprintf("%s/%s", RP_BACKUP_VOL_DIR, name);
	return 0;
}

static int newest_first(const void *a, const void *b)
{
	return -strcmp(((const rp_stored *)a)->name, ((const rp_stored *)b)->name);
}

int rp_store_list(rp_vol *vol, const char *backup_dir, int with_undo, rp_stored **out, size_t *n,
		  rp_err *err)
{
	store_scan s = {.with_undo = with_undo};
	rp_stat st;
	*out = NULL;
	*n = 0;
	if (rp_vol_stat(vol, RP_BACKUP_VOL_DIR, &st, err) < 0)
		return -1;
	if (st.exists && st.is_dir && !st.is_reparse &&
	    rp_vol_list(vol, RP_BACKUP_VOL_DIR, add_volume_copy, &s, err) < 0) {
		rp_store_free(s.v, s.n);
		return -1;
	}
	DIR *dh = backup_dir ? opendir(backup_dir) : NULL;
	struct dirent *de;
	while (dh && (de = readdir(dh)) != NULL)
		if (is_backup_name(de->d_name, with_undo))
			find_or_add(&s, de->d_name)->host_path =
			    rp_xasprintf("%s/%s", backup_dir, de->d_name);
	if (dh)
		closedir(dh);
	if (s.n)
		qsort(s.v, s.n, sizeof *s.v, newest_first);
	*out = s.v;
	*n = s.n;
	return 0;
}

int rp_store_load(rp_vol *vol, const rp_stored *s, rp_backup *b, rp_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = s->volume_path ? rp_vol_read(vol, s->volume_path, &buf, &len, err)
				: rp_file_read(s->host_path, &buf, &len, RP_EXIT_UNUSABLE, err);
	if (rc == 0)
		rc = rp_backup_parse(buf, len, b, err);
	free(buf);
	if (rc < 0) {
		char *shown = rp_escape(s->volume_path ? s->volume_path : s->host_path);
		rp_err_prefix(err, "backup %s", shown);
		free(shown);
	}
	return rc;
}

void rp_store_free(rp_stored *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].volume_path);
		free(v[i].host_path);
	}
	free(v);
}
