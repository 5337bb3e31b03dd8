/*
 * backup.c — the backup archive (backup.h, docs/backup-format.md): building it in memory as a
 * zstd-compressed pax tar with libarchive, reading it back with every byte checked against
 * manifest.json, and writing it to a host file that is proven byte-identical on disk before
 * the run changes anything.  manifest.json itself is backup_manifest.c.
 */
#include "plan/backup.h"
#include "plan/backup_manifest.h"
#include "util/fault.h"
#include "util/hash.h"
#include "util/text.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_MANIFEST (1ULL << 30)
#define WHY_SIZE 768
#define COMPARE_CHUNK (256u << 10)

rp_backup_entry *rp_backup_add_owned(rp_backup *b, const char *path, rp_backup_action action,
				     uint8_t *data, size_t len, int had_data, const char *sha256,
				     const uint8_t *sd, size_t sd_len)
{
	b->entries = rp_xrealloc(b->entries, (b->nentries + 1) * sizeof *b->entries);
	rp_backup_entry *e = &b->entries[b->nentries++];
	memset(e, 0, sizeof *e);
	e->path = rp_xstrdup(path);
	e->action = action;
	e->had_data = had_data != 0;
	if (had_data) {
		e->data = data ? data : rp_xmalloc(1);
		e->len = len;
		if (sha256 && strlen(sha256) == 64)
			memcpy(e->sha256_before, sha256, 65);
		else
			rp_sha256_hex(e->data, len, e->sha256_before);
	} else {
		free(data);
	}
	if (sd && sd_len) {
		e->sd = rp_xmalloc(sd_len);
		memcpy(e->sd, sd, sd_len);
		e->sd_len = sd_len;
	}
	return e;
}

rp_backup_entry *rp_backup_add(rp_backup *b, const char *path, rp_backup_action action,
			       const uint8_t *data, size_t len, int had_data, const uint8_t *sd,
			       size_t sd_len)
{
	uint8_t *copy = NULL;
	if (had_data) {
		copy = rp_xmalloc(len);
		if (len)
			memcpy(copy, data, len);
	}
	return rp_backup_add_owned(b, path, action, copy, len, had_data, NULL, sd, sd_len);
}

void rp_backup_free(rp_backup *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nentries; i++) {
		rp_backup_entry *e = &b->entries[i];
		free(e->path);
		free(e->data);
		free(e->sd);
		free(e->sddl_before);
		free(e->sddl_after);
	}
	free(b->entries);
	free(b->id);
	free(b->kind);
	free(b->created);
	free(b->tool_version);
	free(b->target);
	free(b->install);
	for (size_t i = 0; i < b->nchecks; i++)
		free(b->checks[i]);
	free(b->checks);
	memset(b, 0, sizeof *b);
}

/* "files/<n>/<basename>" with every byte of the basename outside printable ASCII as '_': member
 * names then mean the same in every locale (libarchive converts non-ASCII names through the
 * locale's charset, and crashes in the C locale); manifest.json holds the real path. */
static char *file_member(size_t n, const char *path)
{
	char *name = rp_xasprintf("files/%zu/%s", n, rp_backup_basename(path));
	for (char *p = strrchr(name, '/') + 1; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '_';
	return name;
}

/* ---- writing the archive ---- */

/* Output of archive_write_open: one buffer grown by doubling (hives reach 100 MB). */
typedef struct membuf {
	uint8_t *p;
	size_t len, cap;
} membuf;

static la_ssize_t membuf_write(struct archive *a, void *ud, const void *buf, size_t n)
{
	(void)a;
	membuf *m = ud;
	if (n > m->cap - m->len) {
		size_t cap = m->cap ? m->cap : 1 << 16;
		while (n > cap - m->len)
			cap *= 2;
		m->p = rp_xrealloc(m->p, cap);
		m->cap = cap;
	}
	memcpy(m->p + m->len, buf, n);
	m->len += n;
	return (la_ssize_t)n;
}

/* "2026-11-21T12:34:56Z" (optionally with a fraction before the Z) as seconds since 1970. */
static int iso8601_utc(const char *s, time_t *out)
{
	struct tm tm = {0};
	int used = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
		return -1;
	const char *rest = s + used;
	if (*rest == '.')
		do
			rest++;
		while (*rest >= '0' && *rest <= '9');
	if (strcmp(rest, "Z") || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	return 0;
}

/* One regular member, deterministic: mode 0600, owner 0:0, mtime of the backup. */
static int put_member(struct archive *a, const char *name, const uint8_t *data, size_t len,
		      time_t mtime, rp_err *err)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return rp_fail(err, RP_EXIT_WRITE_FAILED, "backup: out of memory for %s", name);
	archive_entry_set_pathname_utf8(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_size(e, (la_int64_t)len);
	int rc = archive_write_header(a, e);
	archive_entry_free(e);
	if (rc != ARCHIVE_OK)
		return rp_fail(err, RP_EXIT_WRITE_FAILED,
			       "backup: cannot add %s to the archive: %s", name,
			       archive_error_string(a));
	size_t done = 0;
	while (done < len) {
		la_ssize_t n = archive_write_data(a, data + done, len - done);
		if (n <= 0)
			return rp_fail(err, RP_EXIT_WRITE_FAILED,
				       "backup: cannot write %s into the archive: %s", name,
				       archive_error_string(a));
		done += (size_t)n;
	}
	return 0;
}

static int put_all(struct archive *a, const rp_backup *b, const char *manifest, time_t mtime,
		   rp_err *err)
{
	if (put_member(a, "manifest.json", (const uint8_t *)manifest, strlen(manifest), mtime, err))
		return -1;
	for (size_t i = 0; i < b->nentries; i++) {
		const rp_backup_entry *e = &b->entries[i];
		if (!e->had_data)
			continue;
		char *name = file_member(i, e->path);
		int rc = put_member(a, name, e->data, e->len, mtime, err);
		free(name);
		if (rc)
			return -1;
	}
	for (size_t i = 0; i < b->nentries; i++) {
		const rp_backup_entry *e = &b->entries[i];
		if (!e->sd)
			continue;
		char name[64];
		snprintf(name, sizeof name, "sd/%zu.bin", i);
		if (put_member(a, name, e->sd, e->sd_len, mtime, err))
			return -1;
	}
	return 0;
}

int rp_backup_serialize(const rp_backup *b, uint8_t **out, size_t *len, rp_err *err)
{
	char why[WHY_SIZE];
	time_t mtime;
	*out = NULL;
	*len = 0;
	char *manifest = rp_backup_manifest_build(b, why, sizeof why);
	if (!manifest)
		return rp_fail(err, RP_EXIT_WRITE_FAILED, "backup cannot be written: %s", why);
	if (iso8601_utc(b->created, &mtime)) {
		free(manifest);
		return rp_fail(err, RP_EXIT_WRITE_FAILED,
			       "backup cannot be written: created time \"%s\" is not "
			       "YYYY-MM-DDTHH:MM:SSZ",
			       b->created);
	}
	membuf m = {0};
	struct archive *a = archive_write_new();
	int rc = -1;
	if (!a) {
		rp_fail(err, RP_EXIT_WRITE_FAILED, "backup: libarchive cannot start a writer");
	} else if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
		   /* Otherwise libarchive pads the compressed stream with NULs to 10240 bytes,
		    * trailing bytes that zstd and libarchive's own reader reject. */
		   archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
		   /* Level -1 (zstd --fast=1): a 12 MB SYSTEM packs at 775 MB/s into 2.1 MB; the
		    * default level 3 takes three times as long for 1.5 MB (docs/performance.md). */
		   archive_write_set_filter_option(a, "zstd", "compression-level", "-1") !=
		       ARCHIVE_OK ||
		   archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
		   archive_write_open(a, &m, NULL, membuf_write, NULL) != ARCHIVE_OK) {
		rp_fail(err, RP_EXIT_WRITE_FAILED, "backup: cannot set up a pax+zstd archive: %s",
			archive_error_string(a));
	} else if (put_all(a, b, manifest, mtime, err) == 0) {
		if (archive_write_close(a) != ARCHIVE_OK)
			rp_fail(err, RP_EXIT_WRITE_FAILED, "backup: cannot finish the archive: %s",
				archive_error_string(a));
		else
			rc = 0;
	}
	if (a)
		archive_write_free(a);
	free(manifest);
	if (rc) {
		free(m.p);
		return -1;
	}
	*out = m.p;
	*len = m.len;
	return 0;
}

/* ---- reading the archive ---- */

typedef struct reader {
	struct archive *a;
	rp_backup *b;
	const rp_backup *want; /* rp_backup_verify: compare each file with it, keep no bytes */
	uint8_t *chunk;	       /* its buffer, COMPARE_CHUNK bytes, for every member */
	rp_backup_expect *expect;
	uint8_t *seen_file, *seen_sd;
	char why[WHY_SIZE];
} reader;

/* Why reading a member's data failed, in r->why. */
static void read_failed(reader *r, const char *name)
{
	char *shown =
	    rp_escape(archive_error_string(r->a) ? archive_error_string(r->a) : "read error");
	snprintf(r->why, sizeof r->why, "%s is truncated or corrupt (%s)", name, shown);
	free(shown);
}

/* Reads the current member whole, refusing more than cap bytes (the buffer grows with what the
 * archive really holds, so a header claiming gigabytes costs nothing until the bytes come). */
static int read_member(reader *r, const char *name, uint64_t cap, uint8_t **out, size_t *len)
{
	size_t n = 0, size = 0;
	uint8_t *p = NULL;
	for (;;) {
		if (n == size) {
			/* cap + 1 bytes are enough to see that a member is too long. */
			size = size ? size * 2 : 1 << 16;
			if ((uint64_t)size > cap + 1)
				size = (size_t)(cap + 1);
			p = rp_xrealloc(p, size);
		}
		la_ssize_t got = archive_read_data(r->a, p + n, size - n);
		if (got < 0) {
			free(p);
			read_failed(r, name);
			return -1;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if ((uint64_t)n > cap) {
			free(p);
			snprintf(r->why, sizeof r->why, "%s is larger than %llu bytes", name,
				 (unsigned long long)cap);
			return -1;
		}
	}
	*out = p;
	*len = n;
	return 0;
}

/* Parses the decimal index of "files/<n>/..." or "sd/<n>.bin": digits without a leading zero,
 * below nentries.  Returns the first byte after the digits, or NULL. */
static const char *member_index(const char *s, size_t nentries, size_t *idx)
{
	size_t v = 0;
	const char *p = s;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (size_t)(*p - '0');
		if (v >= nentries)
			return NULL;
	}
	*idx = v;
	return p;
}

/* rp_backup_verify: the member's bytes, read exactly as read_member reads them, compared with
 * the wanted entry's chunk by chunk through one small buffer reused for every member: no copy
 * of the file and no second hash (the manifest's hash was computed from those very bytes, and
 * it must match too). */
static int compare_file(reader *r, const char *name, size_t i)
{
	const rp_backup_entry *e = &r->b->entries[i];
	const rp_backup_entry *w = i < r->want->nentries ? &r->want->entries[i] : NULL;
	if (!w || !w->had_data || w->len != e->len ||
	    strcmp(w->sha256_before, e->sha256_before) != 0) {
		snprintf(r->why, sizeof r->why,
			 "%s: manifest.json does not describe the file that was saved", name);
		return -1;
	}
	if (!r->chunk)
		r->chunk = rp_xmalloc(COMPARE_CHUNK);
	size_t at = 0;
	for (;;) {
		la_ssize_t got = archive_read_data(r->a, r->chunk, COMPARE_CHUNK);
		if (got < 0) {
			read_failed(r, name);
			return -1;
		}
		if (got == 0)
			break;
		if ((size_t)got > w->len - at || memcmp(r->chunk, w->data + at, (size_t)got) != 0) {
			snprintf(r->why, sizeof r->why, "%s differs from the file that was saved",
				 name);
			return -1;
		}
		at += (size_t)got;
	}
	if (at != w->len) {
		snprintf(r->why, sizeof r->why, "%s is shorter than the file that was saved", name);
		return -1;
	}
	return 0;
}

static int check_file(reader *r, const char *name, size_t i)
{
	rp_backup_entry *e = &r->b->entries[i];
	if (!e->had_data) {
		snprintf(r->why, sizeof r->why,
			 "%s is present but manifest.json says entry %zu had "
			 "no data",
			 name, i);
		return -1;
	}
	if (r->want)
		return compare_file(r, name, i);
	size_t n;
	if (read_member(r, name, e->len, &e->data, &n))
		return -1;
	char hash[65];
	rp_sha256_hex(e->data, n, hash);
	if (n != e->len || strcmp(hash, e->sha256_before)) {
		snprintf(r->why, sizeof r->why,
			 "%s does not match its size and SHA-256 in manifest.json", name);
		return -1;
	}
	return 0;
}

static int check_sd(reader *r, const char *name, size_t i)
{
	rp_backup_entry *e = &r->b->entries[i];
	if (!r->expect[i].has_sd) {
		snprintf(r->why, sizeof r->why,
			 "%s is present but manifest.json says entry %zu has no SD", name, i);
		return -1;
	}
	if (read_member(r, name, RP_BACKUP_MAX_SD, &e->sd, &e->sd_len))
		return -1;
	char hash[65];
	rp_sha256_hex(e->sd, e->sd_len, hash);
	if (e->sd_len == 0 || strcmp(hash, r->expect[i].sd_sha256)) {
		snprintf(r->why, sizeof r->why, "%s does not match its SHA-256 in manifest.json",
			 name);
		return -1;
	}
	return 0;
}

/* One member after manifest.json: which entry its raw name belongs to, then its bytes checked
 * (messages use name, the escaped form). */
static int check_member(reader *r, const char *raw, const char *name)
{
	size_t i;
	const char *rest;
	if (!strncmp(raw, "files/", 6) && member_index(raw + 6, r->b->nentries, &i)) {
		char *expected = file_member(i, r->b->entries[i].path);
		int match = !strcmp(raw, expected);
		free(expected);
		if (match && r->seen_file[i]++) {
			snprintf(r->why, sizeof r->why, "%s appears twice", name);
			return -1;
		}
		if (match)
			return check_file(r, name, i);
	}
	if (!strncmp(raw, "sd/", 3) && (rest = member_index(raw + 3, r->b->nentries, &i)) &&
	    !strcmp(rest, ".bin")) {
		if (r->seen_sd[i]++) {
			snprintf(r->why, sizeof r->why, "%s appears twice", name);
			return -1;
		}
		return check_sd(r, name, i);
	}
	snprintf(r->why, sizeof r->why, "unexpected member %s", name);
	return -1;
}

/* The member's name as stored ("" when libarchive cannot express it in the locale: ours are
 * ASCII, so such a member is unknown anyway). */
static const char *member_name(struct archive_entry *ae)
{
	const char *name = archive_entry_pathname(ae);
	return name ? name : "";
}

static int read_members(reader *r)
{
	struct archive_entry *ae;
	int first = 1;
	for (;;) {
		int rc = archive_read_next_header(r->a, &ae);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK) {
			char *shown =
			    rp_escape(archive_error_string(r->a) ? archive_error_string(r->a)
								 : "unknown error");
			snprintf(r->why, sizeof r->why,
				 "not a complete zstd-compressed tar archive (%s)", shown);
			free(shown);
			return -1;
		}
		int format = archive_format(r->a) & ARCHIVE_FORMAT_BASE_MASK;
		int filter = archive_filter_code(r->a, 0);
		if (format != ARCHIVE_FORMAT_TAR ||
		    (filter != ARCHIVE_FILTER_ZSTD && filter != ARCHIVE_FILTER_NONE)) {
			snprintf(r->why, sizeof r->why, "not a zstd-compressed tar archive");
			return -1;
		}
		const char *raw = member_name(ae);
		char *name = rp_escape(raw);
		int bad = 0;
		if (archive_entry_filetype(ae) != AE_IFREG || archive_entry_hardlink(ae) ||
		    archive_entry_symlink(ae) ||
		    (archive_entry_size_is_set(ae) && archive_entry_size(ae) < 0) ||
		    (uint64_t)archive_entry_size(ae) > RP_BACKUP_MAX_MEMBER) {
			snprintf(r->why, sizeof r->why,
				 "member %s is not a regular file of at most 4 GiB", name);
			bad = 1;
		} else if (first) {
			uint8_t *json;
			size_t n;
			if (strcmp(raw, "manifest.json")) {
				snprintf(r->why, sizeof r->why,
					 "the first member is %s, not manifest.json", name);
				bad = 1;
			} else if (read_member(r, name, MAX_MANIFEST, &json, &n)) {
				bad = 1;
			} else {
				bad = rp_backup_manifest_read((const char *)json, n, r->b,
							      &r->expect, r->why, sizeof r->why);
				free(json);
				r->seen_file = rp_xcalloc(r->b->nentries, 1);
				r->seen_sd = rp_xcalloc(r->b->nentries, 1);
			}
			first = 0;
		} else {
			bad = check_member(r, raw, name);
		}
		free(name);
		if (bad)
			return -1;
	}
	if (first) {
		snprintf(r->why, sizeof r->why, "the archive is empty (no manifest.json)");
		return -1;
	}
	for (size_t i = 0; i < r->b->nentries; i++) {
		const rp_backup_entry *e = &r->b->entries[i];
		if ((e->had_data && !r->seen_file[i]) || (r->expect[i].has_sd && !r->seen_sd[i])) {
			char *shown = rp_escape(e->path);
			snprintf(r->why, sizeof r->why, "the %s of entry %zu (%s) is missing",
				 e->had_data && !r->seen_file[i] ? "data" : "security descriptor",
				 i, shown);
			free(shown);
			return -1;
		}
	}
	return 0;
}

static int parse(const uint8_t *buf, size_t len, rp_backup *b, const rp_backup *want, rp_err *err)
{
	reader r = {.b = b, .want = want};
	memset(b, 0, sizeof *b);
	r.a = archive_read_new();
	if (!r.a)
		return rp_fail(err, RP_EXIT_UNUSABLE, "backup: libarchive cannot start a reader");
	int rc = -1;
	if (archive_read_support_format_tar(r.a) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(r.a) != ARCHIVE_OK) {
		rp_fail(err, RP_EXIT_UNUSABLE, "backup: libarchive lacks tar or zstd support: %s",
			archive_error_string(r.a));
	} else if (archive_read_open_memory(r.a, buf, len) != ARCHIVE_OK) {
		char *shown = rp_escape(archive_error_string(r.a) ? archive_error_string(r.a) : "");
		rp_fail(err, RP_EXIT_UNUSABLE,
			"backup archive is damaged: not a zstd-compressed tar archive (%s); use "
			"another backup (--backup FILE)",
			shown);
		free(shown);
	} else if (read_members(&r) == 0) {
		rc = 0;
	} else {
		char *id = rp_escape(b->id ? b->id : "archive");
		rp_fail(err, RP_EXIT_UNUSABLE,
			"backup %s is damaged: %s; use another backup (--backup FILE)", id, r.why);
		free(id);
	}
	archive_read_free(r.a);
	free(r.expect);
	free(r.seen_file);
	free(r.seen_sd);
	free(r.chunk);
	if (rc)
		rp_backup_free(b);
	return rc;
}

int rp_backup_parse(const uint8_t *buf, size_t len, rp_backup *b, rp_err *err)
{
	return parse(buf, len, b, NULL, err);
}

static int same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int rp_backup_verify(const uint8_t *buf, size_t len, const rp_backup *want, rp_err *err)
{
	rp_backup got;
	if (parse(buf, len, &got, want, err) < 0)
		return -1;
	int same = got.nentries == want->nentries && same_text(got.id, want->id) &&
		   same_text(got.kind, want->kind) && same_text(got.created, want->created) &&
		   same_text(got.target, want->target) && got.nchecks == want->nchecks;
	for (size_t i = 0; same && i < got.nchecks; i++)
		same = same_text(got.checks[i], want->checks[i]);
	for (size_t i = 0; same && i < got.nentries; i++) {
		const rp_backup_entry *g = &got.entries[i], *w = &want->entries[i];
		same = same_text(g->path, w->path) && g->action == w->action &&
		       g->had_data == w->had_data && g->len == w->len &&
		       strcmp(g->sha256_before, w->sha256_before) == 0 &&
		       strcmp(g->sha256_after, w->sha256_after) == 0 && g->sd_len == w->sd_len &&
		       (g->sd_len == 0 || memcmp(g->sd, w->sd, g->sd_len) == 0);
	}
	rp_backup_free(&got);
	if (!same)
		return rp_fail(err, RP_EXIT_WRITE_FAILED,
			       "the backup archive does not read back as it was built; nothing was "
			       "changed");
	return 0;
}

/* ---- the host file ---- */

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		if (rp_fault("backup:write"))
			return -1;
		ssize_t n = write(fd, buf, len > (1 << 20) ? (1 << 20) : len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads path back and compares it with buf. */
static int same_as(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	uint8_t chunk[1 << 16];
	size_t at = 0;
	int same = 1;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			same = 0;
			break;
		}
		if (n == 0)
			break;
		if ((size_t)n > len - at || memcmp(chunk, buf + at, (size_t)n)) {
			same = 0;
			break;
		}
		at += (size_t)n;
	}
	close(fd);
	return same && at == len ? 0 : -1;
}

/* Moves tmp to path without replacing an existing file (an older backup is never lost);
 * filesystems without RENAME_NOREPLACE (some FUSE/vfat) get a check then a plain rename. */
static int publish(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	struct stat st;
	if (lstat(path, &st) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(tmp, path);
}

int rp_backup_write_host(const uint8_t *buf, size_t len, const char *path, rp_err *err)
{
	char *dir = rp_xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
	struct stat st;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		rp_fail(err, RP_EXIT_USAGE,
			"backup directory %s does not exist: create it or choose another with "
			"--backup-dir",
			dir);
		free(dir);
		return -1;
	}
	char *tmp = rp_xasprintf("%s.tmp-XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	int rc = -1;
	if (fd < 0) {
		rp_fail(err, RP_EXIT_WRITE_FAILED, "cannot create backup file %s: %s", tmp,
			strerror(errno));
	} else if (write_all(fd, buf, len)) {
		rp_fail(err, RP_EXIT_WRITE_FAILED, "cannot write backup file %s: %s", tmp,
			strerror(errno));
	} else if (rp_fault("backup:sync") || fsync(fd)) {
		rp_fail(err, RP_EXIT_WRITE_FAILED, "cannot sync backup file %s: %s", tmp,
			strerror(errno));
	} else {
		/* Drop the cached pages so the re-read below comes from the disk, not memory; only
		 * advice, so its failure changes nothing. */
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		rc = 0;
	}
	if (fd >= 0 && close(fd) && rc == 0)
		rc = rp_fail(err, RP_EXIT_WRITE_FAILED, "cannot close backup file %s: %s", tmp,
			     strerror(errno));
	if (rc == 0 && publish(tmp, path))
		rc = errno == EEXIST
			 ? rp_fail(err, RP_EXIT_WRITE_FAILED,
				   "backup file %s already exists: it is kept; choose "
				   "another --backup-dir",
				   path)
			 : rp_fail(err, RP_EXIT_WRITE_FAILED, "cannot rename %s to %s: %s", tmp,
				   path, strerror(errno));
	if (rc && fd >= 0)
		unlink(tmp);
	if (rc == 0) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || rp_fault("backup:sync") || fsync(dfd))
			rc = rp_fail(err, RP_EXIT_WRITE_FAILED,
				     "cannot sync backup directory %s: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
	}
	if (rc == 0 && same_as(path, buf, len)) {
		unlink(path);
		rc = rp_fail(err, RP_EXIT_WRITE_FAILED,
			     "backup file %s reads back different from what was written: the "
			     "disk is failing; choose another --backup-dir",
			     path);
	}
	free(tmp);
	free(dir);
	return rc;
}
