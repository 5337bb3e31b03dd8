/*
 * test_backup.c — the backup archive: round trip of real hive bytes, random and NUL-laden data,
 * an SD and a missing file; the archive read by GNU tar and zstd independently; damaged and
 * crafted archives (flipped byte, "../" path, truncation, unknown and duplicate members)
 * refused with the message undo shows; the host file written byte-identical.
 */
#include "plan/backup.h"
#include "plan/backup_manifest.h"
#include "test.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/text.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_backup.XXXXXX";

/* ---- helpers: whole files, shell commands, raw archives ---- */

static uint8_t *read_file(const char *path, size_t *len)
{
	uint8_t *data = NULL;
	return rp_file_read(path, &data, len, 1, NULL) == 0 ? data : NULL;
}

/* First line of a shell command's output (trailing newline removed), malloc'd. */
static char *run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return rp_xstrdup("");
	char *out = rp_xmalloc(1 << 16);
	size_t n = fread(out, 1, (1 << 16) - 1, p);
	out[n] = 0;
	out[strcspn(out, "\n")] = 0;
	pclose(p);
	return out;
}

typedef struct member {
	char *name;
	uint8_t *data;
	size_t len;
} member;

typedef struct members {
	member m[64];
	size_t n;
} members;

static int unpack(const uint8_t *buf, size_t len, members *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	archive_read_support_format_tar(a);
	archive_read_support_filter_zstd(a);
	out->n = 0;
	int rc = archive_read_open_memory(a, buf, len);
	while (rc == ARCHIVE_OK && archive_read_next_header(a, &ae) == ARCHIVE_OK && out->n < 64) {
		member *m = &out->m[out->n++];
		m->name = rp_xstrdup(archive_entry_pathname_utf8(ae));
		m->len = (size_t)archive_entry_size(ae);
		m->data = rp_xmalloc(m->len);
		if (archive_read_data(a, m->data, m->len) != (la_ssize_t)m->len)
			rc = -1;
	}
	archive_read_free(a);
	return rc == ARCHIVE_OK ? 0 : -1;
}

/* Packs members as a pax tar, zstd-compressed unless plain. */
static uint8_t *pack(const members *ms, int plain, size_t *len)
{
	size_t cap = 64 << 20;
	uint8_t *buf = rp_xmalloc(cap);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (!plain)
		archive_write_add_filter_zstd(a);
	archive_write_set_bytes_in_last_block(a, 1);
	archive_write_open_memory(a, buf, cap, len);
	for (size_t i = 0; i < ms->n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname_utf8(e, ms->m[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0600);
		archive_entry_set_size(e, (la_int64_t)ms->m[i].len);
		archive_write_header(a, e);
		archive_write_data(a, ms->m[i].data, ms->m[i].len);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return buf;
}

static void members_free(members *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->m[i].name);
		free(ms->m[i].data);
	}
	ms->n = 0;
}

static member *find(members *ms, const char *name)
{
	for (size_t i = 0; i < ms->n; i++)
		if (!strcmp(ms->m[i].name, name))
			return &ms->m[i];
	return NULL;
}

/* Replaces the first occurrence of from in member m's text by to. */
static int edit(member *m, const char *from, const char *to)
{
	char *text = rp_xmalloc(m->len + 1);
	memcpy(text, m->data, m->len);
	text[m->len] = 0;
	char *at = strstr(text, from);
	if (!at) {
		free(text);
		return -1;
	}
	char *out = rp_xasprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	free(text);
	free(m->data);
	m->data = (uint8_t *)out;
	m->len = strlen(out);
	return 0;
}

/* Parses buf; returns the error message ("" when it parsed). */
static const char *parse_msg(const uint8_t *buf, size_t len)
{
	static rp_err err;
	rp_backup b;
	rp_err_clear(&err);
	if (rp_backup_parse(buf, len, &b, &err) == 0) {
		rp_backup_free(&b);
		return "";
	}
	return err.msg;
}

static uint8_t *random_bytes(size_t len, uint64_t seed)
{
	uint8_t *p = rp_xmalloc(len);
	uint64_t x = seed;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 24);
	}
	return p;
}

static void base_backup(rp_backup *b)
{
	memset(b, 0, sizeof *b);
	b->id = rp_xstrdup("20261121T123456Z-0a1b2c3d");
	b->kind = rp_xstrdup("fix");
	b->created = rp_xstrdup("2026-11-21T12:34:56Z");
	b->tool_version = rp_xstrdup("0.1.0");
	b->target = rp_xstrdup("/dev/sdb");
	b->install = rp_xstrdup("{\"product\":\"Windows 7\",\"build\":7601}");
}

/* ---- the tests ---- */

static int same_entry(const rp_backup_entry *a, const rp_backup_entry *b)
{
	return !strcmp(a->path, b->path) && a->action == b->action && a->had_data == b->had_data &&
	       a->len == b->len && (!a->had_data || !memcmp(a->data, b->data, a->len)) &&
	       a->sd_len == b->sd_len && (!a->sd || !memcmp(a->sd, b->sd, a->sd_len)) &&
	       !strcmp(a->sha256_before, b->sha256_before) &&
	       !strcmp(a->sha256_after, b->sha256_after) &&
	       !strcmp(a->sddl_before ? a->sddl_before : "-",
		       b->sddl_before ? b->sddl_before : "-") &&
	       !strcmp(a->sddl_after ? a->sddl_after : "-", b->sddl_after ? b->sddl_after : "-");
}

static void test_round_trip(void)
{
	char cmd[1024], path[512];
	snprintf(path, sizeof path, "%s/SYSTEM", tmpdir);
	snprintf(cmd, sizeof cmd, "xz -dkc '%s/hives/real/win7-sp1-x86-SYSTEM.xz' > '%s'",
		 test_shared_dir(), path);
	size_t hive_len = 0;
	uint8_t *hive = system(cmd) == 0 ? read_file(path, &hive_len) : NULL;
	CHECK(hive && hive_len > 1000000 && !memcmp(hive, "regf", 4),
	      "real SYSTEM hive decompressed (%zu bytes)", hive_len);
	if (!hive)
		return;

	rp_backup b;
	base_backup(&b);
	static const uint8_t nuls[] = {0, 0, 'r', 'e', 'g', 'f', 0, 0, 0, 0xff, 0, 0};
	static const uint8_t sd[] = {1, 0, 4, 0x80, 0x14, 0, 0, 0, 0, 0, 0, 0,
				     0, 0, 0, 0,    0,	  0, 0, 0, 1, 2, 3, 4};
	size_t big_len = 20u << 20;
	uint8_t *big = random_bytes(big_len, 0x9e3779b97f4a7c15ULL);
	rp_backup_entry *e = rp_backup_add(&b, "Windows/System32/config/SYSTEM", RP_BACKUP_REPLACE,
					   hive, hive_len, 1, sd, sizeof sd);
	memset(e->sha256_after, 'a', 64);
	e->sddl_before = rp_xstrdup("O:SYG:SYD:P(A;;FA;;;SY)(A;;FA;;;BA)");
	e->sddl_after = rp_xstrdup("O:SYG:SYD:P(A;;FA;;;SY)");
	rp_backup_add(&b, "Windows/System32/config/SYSTEM.LOG1", RP_BACKUP_KEEP, nuls, sizeof nuls,
		      1, NULL, 0);
	rp_backup_add(&b, "Windows/System32/Microsoft/Protect/blob", RP_BACKUP_QUARANTINE, big,
		      big_len, 1, NULL, 0);
	e = rp_backup_add(&b, "ProgramData/Microsoft/Crypto/RSA/MachineKeys/f686aace_x",
			  RP_BACKUP_SD, NULL, 0, 0, sd, sizeof sd);
	e->sddl_before = rp_xstrdup("O:BAG:SYD:(A;;FA;;;BA)");
	rp_backup_add(&b, "Windows/System32/GroupPolicy/Machine/Registry.pol", RP_BACKUP_CREATE,
		      NULL, 0, 0, NULL, 0);
	rp_backup_add(&b, "Users/J\xc3\xbcrgen/Zertifikat-\xc3\xbc.cer", RP_BACKUP_QUARANTINE, nuls,
		      3, 1, NULL, 0);
	rp_backup_add(&b, "Windows/empty", RP_BACKUP_KEEP, NULL, 0, 1, NULL, 0);
	snprintf(cmd, sizeof cmd, "sha256sum < '%s' | cut -c1-64", path);
	char *sum = run(cmd);
	CHECK(!strncmp(sum, b.entries[0].sha256_before, 64) && sum[64] == 0,
	      "rp_backup_add's sha256_before matches sha256sum (%.64s)", sum);
	free(sum);

	rp_err err = {0};
	uint8_t *arc = NULL, *arc2 = NULL;
	size_t len = 0, len2 = 0;
	int rc = rp_backup_serialize(&b, &arc, &len, &err);
	CHECK(rc == 0, "serialize 7 entries with a 20 MB one: %s", err.msg);
	if (rc) {
		rp_backup_free(&b);
		free(hive);
		free(big);
		return;
	}
	CHECK(rp_backup_serialize(&b, &arc2, &len2, &err) == 0 && len2 == len &&
		  !memcmp(arc, arc2, len),
	      "serialize is deterministic (%zu bytes twice)", len);
	free(arc2);

	rp_backup r;
	rc = rp_backup_parse(arc, len, &r, &err);
	CHECK(rc == 0, "parse the archive back: %s", err.msg);
	if (rc == 0) {
		CHECK(!strcmp(r.id, b.id) && !strcmp(r.kind, b.kind) &&
			  !strcmp(r.created, b.created) &&
			  !strcmp(r.tool_version, b.tool_version) && !strcmp(r.target, b.target),
		      "id, kind, created, tool_version, target survive");
		CHECK(r.install && !strcmp(r.install, "{\"product\":\"Windows 7\",\"build\":7601}"),
		      "install JSON survives (%s)", r.install ? r.install : "NULL");
		CHECK(r.nentries == b.nentries, "7 entries back (%zu)", r.nentries);
		for (size_t i = 0; i < r.nentries && i < b.nentries; i++)
			CHECK(same_entry(&b.entries[i], &r.entries[i]),
			      "entry %zu (%s) byte-identical with its fields", i,
			      b.entries[i].path);
		CHECK(r.nentries > 4 && r.entries[4].data == NULL && !r.entries[4].had_data &&
			  r.entries[4].sha256_before[0] == 0,
		      "missing-file entry comes back without data");
		rp_backup_free(&r);
	}

	/* rp_backup_verify: what store.c checks before writing, without a copy or a hash. */
	CHECK(rp_backup_verify(arc, len, &b, &err) == 0, "verify: the archive holds the backup: %s",
	      err.msg);
	memset(&err, 0, sizeof err);
	b.entries[2].data[big_len - 1] ^= 0x40;
	CHECK(rp_backup_verify(arc, len, &b, &err) == -1 &&
		  strstr(err.msg, "files/2/blob differs from the file that was saved"),
	      "verify: the last byte of the 20 MB entry differing is caught: %s", err.msg);
	b.entries[2].data[big_len - 1] ^= 0x40;
	memset(&err, 0, sizeof err);
	b.entries[0].sd[21] ^= 1;
	CHECK(rp_backup_verify(arc, len, &b, &err) == -1 &&
		  strstr(err.msg, "does not read back as it was built"),
	      "verify: a differing SD is caught: %s", err.msg);
	b.entries[0].sd[21] ^= 1;
	memset(&err, 0, sizeof err);
	CHECK(rp_backup_verify(arc, len / 2, &b, &err) == -1 && strstr(err.msg, "is damaged"),
	      "verify: a truncated archive is refused: %s", err.msg);
	rp_backup more;
	base_backup(&more);
	for (size_t i = 0; i < b.nentries; i++)
		rp_backup_add(&more, b.entries[i].path, b.entries[i].action, b.entries[i].data,
			      b.entries[i].len, b.entries[i].had_data, b.entries[i].sd,
			      b.entries[i].sd_len);
	memset(&err, 0, sizeof err);
	CHECK(rp_backup_verify(arc, len, &more, &err) == -1,
	      "verify: entries whose sha256_after differs are caught: %s", err.msg);
	uint8_t *own = malloc(hive_len);
	memcpy(own, hive, hive_len);
	e = rp_backup_add_owned(&more, "x/SYSTEM", RP_BACKUP_KEEP, own, hive_len, 1, NULL, NULL, 0);
	CHECK(e->data == own && e->len == hive_len &&
		  !strcmp(e->sha256_before, b.entries[0].sha256_before),
	      "rp_backup_add_owned takes the buffer over and hashes it like rp_backup_add");
	uint8_t *own2 = malloc(3);
	memcpy(own2, "abc", 3);
	e = rp_backup_add_owned(&more, "x/abc", RP_BACKUP_KEEP, own2, 3, 1,
				"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
				NULL, 0);
	CHECK(e->data == own2 && !strcmp(e->sha256_before, "ba7816bf8f01cfea414140de5dae2223b00361a"
							   "396177a9cb410ff61f20015ad"),
	      "rp_backup_add_owned keeps the hash the caller computed");
	rp_backup_free(&more);

	/* GNU tar and zstd read it independently. */
	char arc_path[512];
	snprintf(arc_path, sizeof arc_path, "%s/b.tar.zst", tmpdir);
	FILE *f = fopen(arc_path, "wb");
	CHECK(f && fwrite(arc, 1, len, f) == len && fclose(f) == 0, "archive saved for tar");
	snprintf(cmd, sizeof cmd, "tar --zstd -tf '%s' | tr '\\n' ' '", arc_path);
	char *list = run(cmd);
	CHECK(!strcmp(list, "manifest.json files/0/SYSTEM files/1/SYSTEM.LOG1 files/2/blob "
			    "files/5/Zertifikat-__.cer files/6/empty sd/0.bin sd/3.bin "),
	      "tar --zstd -tf lists the members in order (%s)", list);
	free(list);
	snprintf(cmd, sizeof cmd, "tar --zstd -tvf '%s' | head -1", arc_path);
	list = run(cmd);
	CHECK(!strncmp(list, "-rw------- 0/0", 14) && strstr(list, "2026-11-21"),
	      "members are 0600, owner 0/0, dated at the backup's creation (%s)", list);
	free(list);
	snprintf(cmd, sizeof cmd, "tar --zstd -xOf '%s' files/0/SYSTEM | sha256sum | cut -c1-64",
		 arc_path);
	list = run(cmd);
	CHECK(!strncmp(list, b.entries[0].sha256_before, 64),
	      "tar extracts SYSTEM with the manifest's SHA-256");
	free(list);
	snprintf(
	    cmd, sizeof cmd,
	    "tar --zstd -xOf '%s' manifest.json | grep -c '\"schema\": \"rdprescue-backup/1\"'",
	    arc_path);
	list = run(cmd);
	CHECK(list[0] == '1', "tar -xOf manifest.json shows the schema");
	free(list);

	/* A plain tar (decompressed by hand) is still a backup. */
	snprintf(cmd, sizeof cmd, "zstd -qdc '%s' > '%s/b.tar'", arc_path, tmpdir);
	snprintf(path, sizeof path, "%s/b.tar", tmpdir);
	size_t plain_len = 0;
	uint8_t *plain = system(cmd) == 0 ? read_file(path, &plain_len) : NULL;
	CHECK(plain && !strcmp(parse_msg(plain, plain_len), ""),
	      "archive decompressed by zstd parses");
	free(plain);

	/* The host file. */
	snprintf(path, sizeof path, "%s/out/20261121T123456Z-0a1b2c3d.tar.zst", tmpdir);
	rp_err_clear(&err);
	rc = rp_backup_write_host(arc, len, path, &err);
	CHECK(rc == -1 && err.exit_code == RP_EXIT_USAGE && strstr(err.msg, "backup directory") &&
		  strstr(err.msg, "/out does not exist") && strstr(err.msg, "--backup-dir"),
	      "write_host into a missing directory: %s", err.msg);
	snprintf(cmd, sizeof cmd, "%s/out", tmpdir);
	mkdir(cmd, 0700);
	rp_err_clear(&err);
	rc = rp_backup_write_host(arc, len, path, &err);
	size_t disk_len = 0;
	uint8_t *disk = read_file(path, &disk_len);
	CHECK(rc == 0 && disk && disk_len == len && !memcmp(disk, arc, len),
	      "write_host leaves a byte-identical file: %s", err.msg);
	free(disk);
	snprintf(cmd, sizeof cmd, "ls -A '%s/out' | wc -l", tmpdir);
	list = run(cmd);
	CHECK(!strcmp(list, "1"), "no temporary file left (%s entries)", list);
	free(list);
	rp_err_clear(&err);
	rc = rp_backup_write_host((const uint8_t *)"x", 1, path, &err);
	disk = read_file(path, &disk_len);
	CHECK(rc == -1 && disk && disk_len == len && strstr(err.msg, "already exists: it is kept"),
	      "write_host never replaces an existing backup: %s", err.msg);
	free(disk);

	free(arc);
	rp_backup_free(&b);
	CHECK(b.entries == NULL && b.nentries == 0 && b.id == NULL, "rp_backup_free clears");
	free(hive);
	free(big);
}

/* A small archive to damage: two entries, one with an SD. */
static uint8_t *small_archive(size_t *len)
{
	rp_backup b;
	base_backup(&b);
	rp_backup_add(&b, "Windows/System32/config/SYSTEM", RP_BACKUP_REPLACE,
		      (const uint8_t *)"regf\0\0\0\0hive bytes", 19, 1,
		      (const uint8_t *)"\1\0\4\x80", 4);
	rp_backup_add(&b, "aa/bb", RP_BACKUP_KEEP, (const uint8_t *)"log", 3, 1, NULL, 0);
	uint8_t *arc = NULL;
	rp_err err = {0};
	rp_backup_serialize(&b, &arc, len, &err);
	rp_backup_free(&b);
	return arc;
}

static void test_damage(void)
{
	size_t len = 0, n = 0;
	uint8_t *arc = small_archive(&len);
	members ms;
	CHECK(arc && unpack(arc, len, &ms) == 0 && ms.n == 4, "small archive has 4 members");
	if (!arc || ms.n != 4)
		return;
	CHECK(!strcmp(parse_msg(arc, len), ""), "small archive parses");

	member *sys = find(&ms, "files/0/SYSTEM");
	sys->data[9] ^= 1;
	uint8_t *bad = pack(&ms, 0, &n);
	const char *msg = parse_msg(bad, n);
	CHECK(!strcmp(msg, "backup 20261121T123456Z-0a1b2c3d is damaged: files/0/SYSTEM does not "
			   "match its size and SHA-256 in manifest.json; use another backup "
			   "(--backup FILE)"),
	      "flipped byte in files/0/SYSTEM: %s", msg);
	free(bad);
	sys->data[9] ^= 1;

	member *sd = find(&ms, "sd/0.bin");
	sd->data[0] ^= 0x80;
	bad = pack(&ms, 0, &n);
	msg = parse_msg(bad, n);
	CHECK(strstr(msg, "sd/0.bin does not match its SHA-256"), "flipped SD byte: %s", msg);
	free(bad);
	sd->data[0] ^= 0x80;

	member *man = find(&ms, "manifest.json");
	static const char *const evil[] = {"../x",   "aa/../../bb", "/etc/bb",	    "aa\\\\bb",
					   "aa//bb", "./bb",	    "aa/bb\\u0000", ""};
	for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
		member saved = *man;
		man->data = rp_xmalloc(saved.len);
		memcpy(man->data, saved.data, saved.len);
		char *to = rp_xasprintf("\"path\": \"%s\"", evil[i]);
		edit(man, "\"path\": \"aa/bb\"", to);
		free(to);
		bad = pack(&ms, 0, &n);
		msg = parse_msg(bad, n);
		CHECK(strstr(msg, "is damaged") && (strstr(msg, "is not a relative volume path") ||
						    strstr(msg, "not valid JSON")),
		      "manifest path \"%s\" refused: %s", evil[i], msg);
		free(bad);
		free(man->data);
		*man = saved;
	}

	member extra = {rp_xstrdup("files/1/../../etc/passwd"), (uint8_t *)rp_xstrdup("x"), 1};
	ms.m[ms.n++] = extra;
	bad = pack(&ms, 0, &n);
	msg = parse_msg(bad, n);
	CHECK(strstr(msg, "unexpected member files/1/../../etc/passwd"), "unknown member: %s", msg);
	free(bad);
	free(extra.name);
	free(extra.data);
	ms.n--;

	ms.m[ms.n++] = (member){rp_xstrdup("files/1/bb"), (uint8_t *)rp_xstrdup("log"), 3};
	bad = pack(&ms, 0, &n);
	msg = parse_msg(bad, n);
	CHECK(strstr(msg, "files/1/bb appears twice"), "duplicate member: %s", msg);
	free(bad);
	free(ms.m[--ms.n].name);
	free(ms.m[ms.n].data);

	member last = ms.m[--ms.n]; /* sd/0.bin is last: drop it */
	bad = pack(&ms, 0, &n);
	msg = parse_msg(bad, n);
	CHECK(strstr(msg, "the security descriptor of entry 0 (Windows/System32/config/SYSTEM) is "
			  "missing"),
	      "missing SD: %s", msg);
	free(bad);
	ms.m[ms.n++] = last;

	member first = ms.m[0];
	ms.m[0] = ms.m[1];
	ms.m[1] = first;
	bad = pack(&ms, 0, &n);
	msg = parse_msg(bad, n);
	CHECK(strstr(msg, "the first member is files/0/SYSTEM, not manifest.json"),
	      "manifest not first: %s", msg);
	free(bad);
	ms.m[1] = ms.m[0];
	ms.m[0] = first;

	edit(man, "rdprescue-backup/1", "rdprescue-backup/2");
	bad = pack(&ms, 0, &n);
	msg = parse_msg(bad, n);
	CHECK(strstr(msg, "schema \"rdprescue-backup/2\""), "other schema: %s", msg);
	free(bad);
	edit(man, "rdprescue-backup/2", "rdprescue-backup/1");
	edit(man, "\"size\": 3", "\"size\": 4");
	bad = pack(&ms, 0, &n);
	msg = parse_msg(bad, n);
	CHECK(strstr(msg, "files/1/bb does not match its size"), "size mismatch: %s", msg);
	free(bad);
	edit(man, "\"size\": 4", "\"size\": 3");
	edit(man, "\"kind\"", "\"kind\": \"x\", \"extra\"");
	bad = pack(&ms, 0, &n);
	msg = parse_msg(bad, n);
	CHECK(strstr(msg, "unknown or missing field \"extra\""), "unknown field: %s", msg);
	free(bad);

	int all_refused = 1;
	size_t cuts = 0;
	for (size_t cut = 0; cut < len; cut += 1 + len / 97, cuts++)
		if (!strcmp(parse_msg(arc, cut), ""))
			all_refused = 0;
	msg = parse_msg(arc, len - 1);
	CHECK(all_refused && strstr(msg, "is damaged"), "%zu truncations refused: %s", cuts, msg);
	CHECK(strstr(parse_msg((const uint8_t *)"hello", 5), "is damaged"), "non-archive refused");

	members_free(&ms);
	free(arc);
}

/* Serializes b and parses it back: the parsed backup (0) or -1. */
static int round_trip(const rp_backup *b, rp_backup *out, char **manifest)
{
	rp_err err = {0};
	uint8_t *arc = NULL;
	size_t len = 0;
	members ms = {.n = 0};
	*manifest = NULL;
	if (rp_backup_serialize(b, &arc, &len, &err) < 0)
		return -1;
	if (unpack(arc, len, &ms) == 0 && ms.n > 0) {
		*manifest = rp_xmalloc(ms.m[0].len + 1);
		memcpy(*manifest, ms.m[0].data, ms.m[0].len);
		(*manifest)[ms.m[0].len] = 0;
	}
	members_free(&ms);
	int rc = rp_backup_parse(arc, len, out, &err);
	free(arc);
	return rc;
}

/* The optional "checks": written for a fix, absent in older archives, strictly checked. */
static void test_checks(void)
{
	static const uint8_t hive[] = "regf-not-really";
	rp_backup b, got;
	char *man = NULL;
	base_backup(&b);
	rp_backup_add(&b, "Windows/System32/config/SYSTEM", RP_BACKUP_REPLACE, hive, sizeof hive, 1,
		      NULL, 0);
	memset(b.entries[0].sha256_after, 'b', 64);

	/* Without: no "checks" key at all (what archives before the field look like). */
	int rc = round_trip(&b, &got, &man);
	CHECK(rc == 0 && man && !strstr(man, "\"checks\"") && got.checks == NULL &&
		  got.nchecks == 0,
	      "a backup without checks has no \"checks\" key and parses with checks NULL");
	if (rc == 0)
		rp_backup_free(&got);
	free(man);

	/* With: the ids, in order. */
	b.checks = rp_xcalloc(2, sizeof *b.checks);
	b.checks[0] = rp_xstrdup("rdp.services");
	b.checks[1] = rp_xstrdup("tls.schannel");
	b.nchecks = 2;
	rc = round_trip(&b, &got, &man);
	CHECK(rc == 0 && man && strstr(man, "\"checks\": [") && got.nchecks == 2 &&
		  !strcmp(got.checks[0], "rdp.services") && !strcmp(got.checks[1], "tls.schannel"),
	      "checks [rdp.services, tls.schannel] round-trip in order");
	if (rc == 0)
		rp_backup_free(&got);

	/* An empty list is kept apart from "not recorded". */
	free(b.checks[0]);
	free(b.checks[1]);
	b.nchecks = 0;
	char *empty = NULL;
	rc = round_trip(&b, &got, &empty);
	CHECK(rc == 0 && got.checks != NULL && got.nchecks == 0,
	      "checks [] parses as an empty list");
	if (rc == 0)
		rp_backup_free(&got);
	free(empty);

	/* Edited manifests: every deviation is refused. */
	uint8_t *arc = NULL;
	size_t len = 0, n = 0;
	rp_err err = {0};
	b.checks[0] = rp_xstrdup("rdp.services");
	b.nchecks = 1;
	members ms = {.n = 0};
	CHECK(rp_backup_serialize(&b, &arc, &len, &err) == 0 && unpack(arc, len, &ms) == 0,
	      "serialized with one check");
	member *mj = find(&ms, "manifest.json");
	char *big = rp_xstrdup("[");
	for (int i = 0; i <= RP_BACKUP_MAX_CHECKS; i++) {
		char *next = rp_xasprintf("%s%s\"c%d\"", big, i ? "," : "", i);
		free(big);
		big = next;
	}
	char *bigger = rp_xasprintf("%s]", big);
	free(big);
	static const char *const bad[] = {
	    "\"rdp.services\", \"../x\"",
	    "\"rdp.services\", \"RDP\"",
	    "\"rdp.services\", \"\"",
	    "\"rdp.services\", 7",
	    "\"rdp.services\", \"rdp.services\"",
	    "\"rdp.services\", "
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
	    "\"rdp.services\", \"r\\u00e9seau\""};
	for (size_t i = 0; mj && i < sizeof bad / sizeof bad[0]; i++) {
		member saved = *mj;
		mj->data = rp_xmalloc(saved.len);
		memcpy(mj->data, saved.data, saved.len);
		edit(mj, "\"rdp.services\"", bad[i]);
		uint8_t *bent = pack(&ms, 0, &n);
		const char *msg = parse_msg(bent, n);
		CHECK(strstr(msg, "is damaged") && strstr(msg, "checks"), "checks [%s] refused: %s",
		      bad[i], msg);
		free(bent);
		free(mj->data);
		*mj = saved;
	}
	static const char *const not_array[] = {"\"checks\": \"rdp.services\"", "\"checks\": null",
						"\"checks\": {}"};
	for (size_t i = 0; mj && i < sizeof not_array / sizeof not_array[0] + 1; i++) {
		member saved = *mj;
		mj->data = rp_xmalloc(saved.len);
		memcpy(mj->data, saved.data, saved.len);
		char *to = i < sizeof not_array / sizeof not_array[0]
			       ? rp_xstrdup(not_array[i])
			       : rp_xasprintf("\"checks\": %s", bigger);
		char *from = NULL;
		/* Replace the whole array. */
		char *text = rp_xmalloc(mj->len + 1);
		memcpy(text, mj->data, mj->len);
		text[mj->len] = 0;
		char *at = strstr(text, "\"checks\"");
		char *end = at ? strchr(at, ']') : NULL;
		if (at && end)
			from = rp_xasprintf("%.*s", (int)(end + 1 - at), at);
		free(text);
		CHECK(from && edit(mj, from, to) == 0, "manifest edited to %.40s", to);
		uint8_t *bent = pack(&ms, 0, &n);
		const char *msg = parse_msg(bent, n);
		CHECK(strstr(msg, "is damaged") && strstr(msg, "checks is not an array"),
		      "%.40s refused: %s", to, msg);
		free(bent);
		free(from);
		free(to);
		free(mj->data);
		*mj = saved;
	}
	free(bigger);
	members_free(&ms);
	free(arc);
	free(man);
	rp_backup_free(&b);
}

static void test_paths_and_limits(void)
{
	CHECK(rp_backup_path_ok("Windows/System32/config/SYSTEM", 30) == 0, "volume path ok");
	CHECK(rp_backup_path_ok("a/..b/c..", 9) == 0, "dots inside names ok");
	CHECK(rp_backup_path_ok("a/../b", 6) && rp_backup_path_ok("..", 2) &&
		  rp_backup_path_ok("/a", 2) && rp_backup_path_ok("a/", 2) &&
		  rp_backup_path_ok("a\\b", 3) && rp_backup_path_ok("a\0b", 3) &&
		  rp_backup_path_ok("", 0) && rp_backup_path_ok("a/./b", 5),
	      "climbing, absolute, empty, backslash and NUL paths refused");

	rp_backup b;
	base_backup(&b);
	rp_backup_add(&b, "../outside", RP_BACKUP_REPLACE, (const uint8_t *)"x", 1, 1, NULL, 0);
	uint8_t *arc = NULL;
	size_t len = 0;
	rp_err err = {0};
	CHECK(rp_backup_serialize(&b, &arc, &len, &err) == -1 && strstr(err.msg, "../outside") &&
		  arc == NULL,
	      "serialize refuses a path it could not read back: %s", err.msg);
	rp_backup_free(&b);

	base_backup(&b);
	free(b.created);
	b.created = rp_xstrdup("yesterday");
	rp_err_clear(&err);
	CHECK(rp_backup_serialize(&b, &arc, &len, &err) == -1 && strstr(err.msg, "yesterday"),
	      "serialize refuses a created time that is not ISO 8601: %s", err.msg);
	free(b.install);
	b.install = rp_xstrdup("[1]");
	free(b.created);
	b.created = rp_xstrdup("2026-11-21T12:34:56.123Z");
	rp_err_clear(&err);
	CHECK(rp_backup_serialize(&b, &arc, &len, &err) == -1 && strstr(err.msg, "JSON object"),
	      "serialize refuses install that is not a JSON object: %s", err.msg);
	free(b.install);
	b.install = NULL;
	rp_err_clear(&err);
	rp_backup r;
	CHECK(rp_backup_serialize(&b, &arc, &len, &err) == 0 &&
		  rp_backup_parse(arc, len, &r, &err) == 0 && r.install == NULL && r.nentries == 0,
	      "empty backup without install round-trips: %s", err.msg);
	if (!err.msg[0])
		rp_backup_free(&r);
	free(arc);
	rp_backup_free(&b);
}

#ifdef RP_FAULTS
/* Number of fault points reached so far (last line of the RP_FAULT_LOG file). */
static long faults_so_far(const char *log)
{
	FILE *f = fopen(log, "r");
	long count = 0, n;
	char point[64];
	while (f && fscanf(f, "%ld %63s", &n, point) == 2)
		count = n;
	if (f)
		fclose(f);
	return count;
}

/* Every write point of rp_backup_write_host failing in turn: an error with exit code 4, and no
 * temporary file left behind. */
static void test_faults(void)
{
	size_t len = 0;
	uint8_t *arc = small_archive(&len);
	char log[512], path[512], cmd[1024];
	snprintf(log, sizeof log, "%s/faults.log", tmpdir);
	snprintf(path, sizeof path, "%s/faults", tmpdir);
	mkdir(path, 0700);
	rp_err err = {0};
	long before = faults_so_far(log);
	snprintf(path, sizeof path, "%s/faults/ok.tar.zst", tmpdir);
	CHECK(rp_backup_write_host(arc, len, path, &err) == 0, "write_host without faults: %s",
	      err.msg);
	long points = faults_so_far(log) - before;
	CHECK(points >= 3, "write_host passes %ld fault points (write, sync, directory sync)",
	      points);
	for (long j = 1; j <= points; j++) {
		char at[32];
		snprintf(at, sizeof at, "%ld", faults_so_far(log) + j);
		setenv("RP_FAULT_AT", at, 1);
		snprintf(path, sizeof path, "%s/faults/f%ld.tar.zst", tmpdir, j);
		rp_err_clear(&err);
		int rc = rp_backup_write_host(arc, len, path, &err);
		snprintf(cmd, sizeof cmd, "ls '%s/faults' | grep -c tmp-", tmpdir);
		char *tmps = run(cmd);
		CHECK(rc == -1 && err.exit_code == RP_EXIT_WRITE_FAILED && !strcmp(tmps, "0"),
		      "fault at point %ld of write_host: %s", j, err.msg);
		free(tmps);
	}
	unsetenv("RP_FAULT_AT");
	unsetenv("RP_FAULT_LOG");
	free(arc);
}
#endif

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		CHECK(0, "mkdtemp");
		TEST_DONE();
	}
#ifdef RP_FAULTS
	/* Logged from the start: the fault counter counts every point the process reaches. */
	char log[512];
	snprintf(log, sizeof log, "%s/faults.log", tmpdir);
	setenv("RP_FAULT_LOG", log, 1);
	unsetenv("RP_FAULT_AT");
#endif
	test_paths_and_limits();
	test_checks();
	test_damage();
	test_round_trip();
#ifdef RP_FAULTS
	test_faults();
#endif
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	CHECK(system(cmd) == 0, "temporary directory removed");
	TEST_DONE();
}
