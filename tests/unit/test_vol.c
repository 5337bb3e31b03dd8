/*
 * test_vol.c — vol/: the ntfs backend on GPT/MBR/VHD images built by tests/lib/mkdisk.sh
 * (reads, case-insensitive lookups, real-case listings, safe replace keeping the SD, SD round
 * trip, hibernation refusal, read-only opens leaving the image byte-identical, checked with
 * ntfsfix -n), the redo journal an interrupted commit leaves (replayed read-write, laid over
 * the disk read-only, dropped when incomplete), the dir backend (symlinks as reparse points, no
 * SD xattr) and target probing.
 */
#include "test.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/text.h"
#include "vol/ntfs_internal.h"
#include "vol/vol.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/rp-test-vol-XXXXXX";

/* O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA), laid out by hand. */
static const uint8_t machinekeys_sd[] = {
    0x01, 0x00, 0x04, 0x94, 20, 0, 0, 0, 32, 0, 0, 0, 0, 0, 0, 0, 44, 0, 0, 0,
    /* owner S-1-5-18 */
    0x01, 0x01, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0,
    /* group S-1-5-18 */
    0x01, 0x01, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0,
    /* DACL: revision 2, size 52, 2 ACEs */
    0x02, 0x00, 52, 0, 2, 0, 0, 0,
    /* allow 0x12019f to S-1-1-0 */
    0x00, 0x00, 20, 0, 0x9f, 0x01, 0x12, 0x00, 0x01, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
    /* allow FA (0x1f01ff) to S-1-5-32-544 */
    0x00, 0x00, 24, 0, 0xff, 0x01, 0x1f, 0x00, 0x01, 0x02, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20,
    0x02, 0, 0};

#include "disk_fixture.h"

static void file_sha(const char *path, char out[65])
{
	uint8_t *buf = NULL;
	size_t n;
	out[0] = 0;
	if (rp_file_read(path, &buf, &n, 1, NULL) == 0)
		rp_sha256_hex(buf, n, out);
	free(buf);
}

/* Partition 2 of a mkdisk image: sector 34816, 94208 sectors for 64 MB. */
#define P2_OFF (34816ull * 512)
#define P2_SIZE (94208ull * 512)

static const uint8_t hive[] = "regf: a stand-in for the SYSTEM hive";

static int put_windows(const char *img, uint64_t off, uint64_t size)
{
	rp_vol *vol;
	rp_err err = {0};
	if (rp_vol_open_ntfs(&vol, img, off, size, 1, &err) < 0) {
		printf("# open: %s\n", err.msg);
		return -1;
	}
	int rc = rp_vol_mkdirs(vol, "Windows/System32/config", &err);
	if (rc == 0)
		rc = rp_vol_write_file(vol, "Windows/System32/config/SYSTEM", hive, sizeof hive,
				       NULL, 0, &err);
	if (rp_vol_close(vol, &err) < 0)
		rc = -1;
	if (rc < 0)
		printf("# put: %s\n", err.msg);
	return rc;
}

struct names {
	char all[1024];
};

static int collect(void *ctx, const char *name, const rp_stat *st)
{
	struct names *n = ctx;
	size_t len = strlen(n->all);
	snprintf(n->all + len, sizeof n->all - len, "%s%s%s", len ? " " : "", name,
		 st->is_dir ? "/" : "");
	return 0;
}

/* rp_vol_walk: each entry read through its handle gives what a read by its path gives. */
struct walked {
	rp_vol *vol;
	const char *d;
	int has_sd;
	int files, same, sd_same, refused;
	char refusal[1024];
};

static int walk_check(void *ctx, const char *name, const rp_stat *st, rp_vol_entry *ent)
{
	struct walked *w = ctx;
	char path[300];
	snprintf(path, sizeof path, "%s/%s", w->d, name);
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	rp_err e = {0};
	w->files++;
	if (rp_vol_entry_read(ent, 1 << 20, &a, &alen, &e) == 0 &&
	    rp_vol_read(w->vol, path, &b, &blen, &e) == 0 && alen == blen && alen == st->size &&
	    !memcmp(a, b, alen))
		w->same++;
	free(a);
	free(b);
	if (w->has_sd) {
		a = b = NULL;
		if (rp_vol_entry_get_sd(ent, &a, &alen, &e) == 0 &&
		    rp_vol_get_sd(w->vol, path, &b, &blen, &e) == 0 && alen == blen &&
		    !memcmp(a, b, alen))
			w->sd_same++;
		free(a);
		free(b);
	}
	rp_err_clear(&e);
	a = NULL;
	if (rp_vol_entry_read(ent, st->size - 1, &a, &alen, &e) < 0 && !a && !alen &&
	    e.exit_code == RP_EXIT_UNUSABLE && strstr(e.msg, path) && strstr(e.msg, "too large"))
		w->refused++;
	snprintf(w->refusal, sizeof w->refusal, "%s", e.msg);
	free(a);
	return 0;
}

static void test_walk(rp_vol *vol, const char *d, const char *backend)
{
	rp_err err = {0};
	struct walked w = {.vol = vol, .d = d, .has_sd = !strcmp(backend, "ntfs")};
	CHECK(rp_vol_walk(vol, d, walk_check, &w, &err) == 0 && w.files == 2,
	      "%s: walk lists a.dat and b.dat (%d): %s", backend, w.files, err.msg);
	CHECK(w.same == 2, "%s: walk: each entry reads as its path does (%d of 2)", backend,
	      w.same);
	CHECK(!w.has_sd || w.sd_same == 2, "%s: walk: each entry's SD is its path's (%d of 2)",
	      backend, w.sd_same);
	CHECK(w.refused == 2, "%s: walk: a file above max is refused, naming its path: %s", backend,
	      w.refusal);
	rp_err_clear(&err);
	CHECK(rp_vol_walk(vol, "nowhere/at-all", walk_check, &w, &err) < 0 &&
		  err.exit_code == RP_EXIT_UNUSABLE,
	      "%s: walk of a missing folder fails: %s", backend, err.msg);
}

/* A file of several megabytes (not a multiple of any piece size) reads back whole with
 * rp_vol_read and in any piece with rp_vol_read_range. */
static void test_read_range(rp_vol *vol, const char *d, const char *backend)
{
	rp_err err = {0};
	char path[256];
	snprintf(path, sizeof path, "%s/pieces.dat", d);
	size_t big = (5u << 19) + 123; /* 2.5 MiB + 123 */
	uint8_t *bytes = rp_xmalloc(big);
	for (size_t i = 0; i < big; i++)
		bytes[i] = (uint8_t)(i * 7 + i / 4093);
	CHECK(rp_vol_write_file(vol, path, bytes, big, NULL, 0, &err) == 0, "%s: %s written: %s",
	      backend, path, err.msg);
	uint8_t *back = NULL;
	size_t len = 0;
	CHECK(rp_vol_read(vol, path, &back, &len, &err) == 0 && len == big &&
		  !memcmp(back, bytes, big),
	      "%s: read whole, %zu bytes (%zu): %s", backend, big, len, err.msg);
	free(back);
	back = rp_xmalloc(big);
	/* rp_vol_read_range: any piece, the last byte, nothing past the end, not a folder. */
	rp_err_clear(&err);
	memset(back, 0, big);
	CHECK(rp_vol_can_read_range(vol, path) &&
		  rp_vol_read_range(vol, path, 1048573, back, 70000, &err) == 0 &&
		  !memcmp(back, bytes + 1048573, 70000) &&
		  rp_vol_read_range(vol, path, big - 1, back, 1, &err) == 0 &&
		  back[0] == bytes[big - 1],
	      "%s: read_range gives the bytes at any offset, up to the last: %s", backend, err.msg);
	rp_err_clear(&err);
	CHECK(rp_vol_read_range(vol, path, big - 10, back, 11, &err) < 0 &&
		  err.exit_code == RP_EXIT_UNUSABLE && strstr(err.msg, "pieces.dat"),
	      "%s: a range past the end fails naming the file: %s", backend, err.msg);
	rp_err_clear(&err);
	CHECK(rp_vol_read_range(vol, d, 0, back, 1, &err) < 0 && err.exit_code == RP_EXIT_UNUSABLE,
	      "%s: a folder is not read: %s", backend, err.msg);
	rp_err_clear(&err);
	CHECK(rp_vol_remove(vol, path, &err) == 0, "%s: %s removed: %s", backend, path, err.msg);
	free(back);
	free(bytes);
}

/* What an interrupted write_file leaves (see clear_leftovers in vol/ntfs.c and vol/dir.c) does
 * not block the next one: stale temp names go, an orphaned ".rdprescue-old" is the original and
 * gets its name back.  The leftovers are made with write_file itself. */
static void test_leftovers(rp_vol *vol, const char *d, const char *backend)
{
	rp_err err = {0};
	char a[256], b[256], c[256], name[300];
	snprintf(a, sizeof a, "%s/a.dat", d);
	snprintf(b, sizeof b, "%s/b.dat", d);
	snprintf(c, sizeof c, "%s/c.dat", d);
	static const uint8_t v1[] = "version 1", v2[] = "version 2", junk[] = "half a copy";
	int ok = rp_vol_mkdirs(vol, d, &err) == 0 &&
		 rp_vol_write_file(vol, a, v1, sizeof v1, NULL, 0, &err) == 0;
	snprintf(name, sizeof name, "%s.rdprescue-tmp", a);
	ok = ok && rp_vol_write_file(vol, name, junk, sizeof junk, NULL, 0, &err) == 0;
	snprintf(name, sizeof name, "%s.rdprescue-old", a);
	ok = ok && rp_vol_write_file(vol, name, junk, sizeof junk, NULL, 0, &err) == 0;
	CHECK(ok, "%s: a.dat with a stale .rdprescue-tmp and .rdprescue-old: %s", backend, err.msg);
	CHECK(rp_vol_write_file(vol, a, v2, sizeof v2, NULL, 0, &err) == 0,
	      "%s: write_file over the leftovers: %s", backend, err.msg);
	uint8_t *data = NULL;
	size_t len = 0;
	CHECK(rp_vol_read(vol, a, &data, &len, &err) == 0 && len == sizeof v2 &&
		  !memcmp(data, v2, len),
	      "%s: a.dat holds the new version", backend);
	free(data);

	/* b.dat lost its name mid-swap: only b.dat.rdprescue-old (with its own SD) is left. */
	snprintf(name, sizeof name, "%s.rdprescue-old", b);
	ok = rp_vol_write_file(vol, name, v1, sizeof v1, NULL, 0, &err) == 0;
	int has_sd = !strcmp(backend, "ntfs");
	if (has_sd)
		ok = ok &&
		     rp_vol_set_sd(vol, name, machinekeys_sd, sizeof machinekeys_sd, &err) == 0;
	snprintf(name, sizeof name, "%s.rdprescue-tmp", b);
	ok = ok && rp_vol_write_file(vol, name, junk, sizeof junk, NULL, 0, &err) == 0;
	CHECK(ok, "%s: b.dat missing, b.dat.rdprescue-old and -tmp present: %s", backend, err.msg);
	CHECK(rp_vol_write_file(vol, b, v2, sizeof v2, NULL, 0, &err) == 0,
	      "%s: write_file restores the original, then replaces it: %s", backend, err.msg);
	data = NULL;
	CHECK(rp_vol_read(vol, b, &data, &len, &err) == 0 && len == sizeof v2 &&
		  !memcmp(data, v2, len),
	      "%s: b.dat holds the new version", backend);
	free(data);
	if (has_sd) {
		uint8_t *sd = NULL;
		size_t sd_len = 0;
		CHECK(rp_vol_get_sd(vol, b, &sd, &sd_len, &err) == 0 &&
			  sd_len == sizeof machinekeys_sd && !memcmp(sd, machinekeys_sd, sd_len),
		      "%s: b.dat kept the restored original's SD (it was not deleted)", backend);
		free(sd);
	}
	struct names n = {{0}};
	CHECK(rp_vol_list(vol, d, collect, &n, &err) == 0 && strlen(n.all) == 11 &&
		  strstr(n.all, "a.dat") && strstr(n.all, "b.dat"),
	      "%s: a.dat and b.dat, no temp names left (%s)", backend, n.all);

	test_walk(vol, d, backend);

	/* A directory in the way is not something write_file made: refused, left alone. */
	snprintf(name, sizeof name, "%s.rdprescue-tmp", c);
	rp_err_clear(&err);
	CHECK(rp_vol_mkdirs(vol, name, &err) == 0 &&
		  rp_vol_write_file(vol, c, v1, sizeof v1, NULL, 0, &err) < 0 &&
		  err.exit_code == RP_EXIT_PROBLEMS && strstr(err.msg, "not a file"),
	      "%s: a directory named c.dat.rdprescue-tmp is refused: %s", backend, err.msg);
	rp_err_clear(&err);
}

static void test_ntfs(void)
{
	const char *img = in_dir("gpt.img");
	rp_err err = {0};
	rp_vol *vol = NULL;
	char sha0[65], sha1[65];

	CHECK(sh("mkdisk gpt.img gpt 64") == 0, "mkdisk gpt");
	CHECK(put_windows(img, P2_OFF, P2_SIZE) == 0, "Windows/System32/config/SYSTEM written");

	/* Read-only: reads, then not a byte changed. */
	file_sha(img, sha0);
	CHECK(rp_vol_open_ntfs(&vol, img, P2_OFF, P2_SIZE, 0, &err) == 0, "RO open: %s", err.msg);
	if (!vol)
		return;
	CHECK(!strcmp(rp_vol_backend(vol), "ntfs") && !strcmp(rp_vol_label(vol), "Windows"),
	      "backend ntfs, label Windows (%s)", rp_vol_label(vol));
	const rp_vol_state *vs = rp_vol_get_state(vol);
	CHECK(!vs->hibernated && !vs->log_unclean && !vs->log_v2 && !vs->dirty_flag,
	      "fresh volume: clean state");
	uint8_t *data = NULL;
	size_t len = 0;
	CHECK(rp_vol_read(vol, "windows/system32/CONFIG/system", &data, &len, &err) == 0 &&
		  len == sizeof hive && !memcmp(data, hive, len),
	      "case-insensitive read of windows/system32/CONFIG/system: %s", err.msg);
	free(data);
	rp_stat st;
	CHECK(rp_vol_stat(vol, "/WINDOWS/System32", &st, &err) == 0 && st.exists && st.is_dir &&
		  (st.attributes & 0x10),
	      "stat of a directory");
	CHECK(rp_vol_stat(vol, "Windows/nothing/here", &st, &err) == 0 && !st.exists,
	      "stat of a missing path: exists = 0");
	struct names n = {{0}};
	CHECK(rp_vol_list(vol, "windows", collect, &n, &err) == 0 && !strcmp(n.all, "System32/"),
	      "list returns real-case names (%s)", n.all);
	rp_err_clear(&err);
	CHECK(rp_vol_read(vol, "Windows/missing", &data, &len, &err) < 0 &&
		  err.exit_code == RP_EXIT_UNUSABLE && strstr(err.msg, "Windows/missing"),
	      "missing file: error names the path: %s", err.msg);
	rp_err_clear(&err);
	CHECK(rp_vol_write_file(vol, "x.txt", hive, 3, NULL, 0, &err) < 0 &&
		  strstr(err.msg, "read-only"),
	      "write on a RO volume refused: %s", err.msg);
	rp_err_clear(&err);
	CHECK(rp_vol_close(vol, &err) == 0, "RO close");
	file_sha(img, sha1);
	CHECK(!strcmp(sha0, sha1), "RO open + reads + close: image sha256 unchanged");

	/* Read-write open and close without writes. */
	CHECK(rp_vol_open_ntfs(&vol, img, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		  rp_vol_close(vol, &err) == 0,
	      "RW open + close: %s", err.msg);
	file_sha(img, sha1);
	CHECK(!strcmp(sha0, sha1), "RW open + close without writes: image sha256 unchanged");

	/* SD round trip, then a replace that keeps it. */
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, img, P2_OFF, P2_SIZE, 1, &err) == 0, "RW open: %s", err.msg);
	if (!vol)
		return;
	const char *sys = "Windows/System32/config/SYSTEM";
	uint8_t *sd = NULL, *sd2 = NULL;
	size_t sd_len = 0, sd2_len = 0;
	CHECK(rp_vol_set_sd(vol, sys, machinekeys_sd, sizeof machinekeys_sd, &err) == 0 &&
		  rp_vol_get_sd(vol, sys, &sd, &sd_len, &err) == 0 &&
		  sd_len == sizeof machinekeys_sd && !memcmp(sd, machinekeys_sd, sd_len),
	      "set_sd / get_sd round trip byte-identical: %s", err.msg);
	static const uint8_t next[] = "the replacement hive, a little longer than before";
	CHECK(rp_vol_write_file(vol, "windows/SYSTEM32/config/system", next, sizeof next, NULL, 0,
				&err) == 0,
	      "write_file replaces (case-insensitive path): %s", err.msg);
	CHECK(rp_vol_get_sd(vol, sys, &sd2, &sd2_len, &err) == 0 && sd2_len == sd_len &&
		  !memcmp(sd, sd2, sd_len),
	      "replaced file keeps its SD");
	n.all[0] = 0;
	CHECK(rp_vol_list(vol, "Windows/System32/config", collect, &n, &err) == 0 &&
		  !strcmp(n.all, "SYSTEM"),
	      "one entry, under the original name, no temp names left (%s)", n.all);
	data = NULL;
	CHECK(rp_vol_read(vol, sys, &data, &len, &err) == 0 && len == sizeof next &&
		  !memcmp(data, next, len),
	      "new contents read back");
	free(data);
	free(sd);
	free(sd2);
	rp_err_clear(&err);
	static const uint8_t no_group[] = {0x01, 0, 0x04, 0x80, 20, 0, 0,  0, 0, 0, 0,
					   0,	 0, 0,	  0,	0,  0, 0,  0, 0, 1, 1,
					   0,	 0, 0,	  0,	0,  5, 18, 0, 0, 0};
	CHECK(rp_vol_set_sd(vol, sys, no_group, sizeof no_group, &err) < 0 &&
		  err.exit_code == RP_EXIT_PROBLEMS,
	      "SD without a group refused by libntfs-3g: %s", err.msg);
	rp_err_clear(&err);
	CHECK(rp_vol_write_file(vol, "Windows/System32/config/new.dat", next, 5, NULL, 0, &err) ==
		      0 &&
		  rp_vol_remove(vol, "windows/system32/config/NEW.DAT", &err) == 0,
	      "new file written and removed: %s", err.msg);
	CHECK(rp_vol_stat(vol, "Windows/System32/config/new.dat", &st, &err) == 0 && !st.exists,
	      "removed file is gone");
	rp_err_clear(&err);
	CHECK(rp_vol_remove(vol, "Windows", &err) < 0 && err.exit_code == RP_EXIT_PROBLEMS,
	      "removing a directory refused: %s", err.msg);
	rp_err_clear(&err);
	CHECK(rp_vol_write_file(vol, "Windows/../x", next, 5, NULL, 0, &err) < 0 &&
		  err.exit_code == RP_EXIT_USAGE,
	      "'..' in a path refused: %s", err.msg);
	rp_err_clear(&err);
	test_leftovers(vol, "Windows/Temp", "ntfs");
	test_read_range(vol, "Windows/Temp", "ntfs");
	uint64_t free_bytes = 0;
	rp_err_clear(&err);
	CHECK(rp_vol_free_space(vol, &free_bytes, &err) == 0 && free_bytes > 1000000 &&
		  free_bytes < P2_SIZE,
	      "free space of the 46 MiB volume: %llu bytes", (unsigned long long)free_bytes);
	CHECK(rp_vol_check_room(vol, free_bytes / 2, &err) == 0, "room for half of it: %s",
	      err.msg);
	CHECK(rp_vol_check_room(vol, free_bytes, &err) < 0 && err.exit_code == RP_EXIT_UNUSABLE &&
		  strstr(err.msg, "nothing was written; free up space"),
	      "no room for all of it plus metadata: %s", err.msg);
	rp_err_clear(&err);
	CHECK(rp_vol_close(vol, &err) == 0, "RW close: %s", err.msg);
	CHECK(sh("dd if=gpt.img of=p2.img bs=512 skip=34816 count=94208 status=none && "
		 "ntfsfix -n p2.img >/dev/null 2>&1") == 0,
	      "volume passes ntfsfix -n after the writes");

	CHECK(sh("cp --sparse=always gpt.img jbase.img") == 0, "copy for test_journal");
	/* Hibernation: hiberfil.sys starting with HIBR. */
	static uint8_t hib[8192] = {'H', 'I', 'B', 'R'};
	vol = NULL;
	rp_err_clear(&err);
	CHECK(rp_vol_open_ntfs(&vol, img, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		  rp_vol_write_file(vol, "hiberfil.sys", hib, sizeof hib, NULL, 0, &err) == 0 &&
		  rp_vol_close(vol, &err) == 0,
	      "hiberfil.sys written: %s", err.msg);
	vol = NULL;
	rp_err_clear(&err);
	CHECK(rp_vol_open_ntfs(&vol, img, P2_OFF, P2_SIZE, 1, &err) < 0 && !vol &&
		  err.exit_code == RP_EXIT_UNUSABLE && strstr(err.msg, "hibernated") &&
		  strstr(err.msg, "powercfg /h off"),
	      "hibernated volume: RW open refused: %s", err.msg);
	rp_err_clear(&err);
	CHECK(rp_vol_open_ntfs(&vol, img, P2_OFF, P2_SIZE, 0, &err) == 0 &&
		  rp_vol_get_state(vol)->hibernated,
	      "hibernated volume: RO open works and reports it: %s", err.msg);
	rp_vol_close(vol, NULL);

	rp_err_clear(&err);
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, img, 512, P2_SIZE, 0, &err) < 0 &&
		  strstr(err.msg, "no NTFS file system"),
	      "no NTFS at that offset: %s", err.msg);
}

/* Reads a whole file (malloc'd), NULL on failure. */
static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *data = NULL;
	rp_err err = {0};
	return rp_file_read(path, &data, len, RP_EXIT_UNUSABLE, &err) == 0 ? data : NULL;
}

/* Writes a version-2 journal of blocks over the present contents of image a. */
static int journal_over(const char *a, const char *jpath, const struct rp_jr_block *blocks,
			size_t n)
{
	int fd = open(a, O_RDONLY | O_CLOEXEC);
	int rc = fd >= 0 ? rp_jr_write(jpath, fd, P2_OFF, P2_SIZE, blocks, n, NULL, NULL, 0) : -1;
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Counts the files named <jpath>.stale-* and removes them. */
static int count_stale(const char *jpath)
{
	char *pat = rp_xasprintf("%s.stale-*", jpath);
	glob_t g;
	int n = glob(pat, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
	for (int i = 0; i < n; i++)
		unlink(g.gl_pathv[i]);
	if (n)
		globfree(&g);
	free(pat);
	return n;
}

/* The stale-journal guard: a journal whose blocks the volume holds neither before nor after
 * (it changed since) is never used; a mix of both (a kill while writing in place) is replayed;
 * an old version-1 journal is replayed without the check; garbled files are incomplete. */
static void test_journal_guard(const char *a, const char *jpath, struct rp_jr_block *blocks,
			       size_t n, const char *sha_a, const char *sha_b)
{
	rp_err err = {0};
	rp_vol *vol = NULL;
	char sha[65];
	/* Half of the blocks already in place: replayed, the image is the written one. */
	int fd = -1;
	CHECK(sh("cp --sparse=always jbase.img ja.img") == 0 &&
		  journal_over(a, jpath, blocks, n) == 0 &&
		  (fd = open(a, O_RDWR | O_CLOEXEC)) >= 0 &&
		  rp_jr_apply(fd, P2_OFF, P2_SIZE, blocks, (n + 1) / 2) == 0,
	      "guard: a journal, %zu of its %zu blocks already in place", (n + 1) / 2, n);
	if (fd >= 0)
		close(fd);
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		  rp_vol_get_state(vol)->replayed && rp_vol_close(vol, &err) == 0,
	      "guard: ... is replayed: %s", err.msg);
	file_sha(a, sha);
	CHECK(!strcmp(sha, sha_b) && access(jpath, F_OK) != 0 && count_stale(jpath) == 0,
	      "guard: ... the image is byte-identical to the written copy, the journal is gone");

	/* The volume changed since: one journaled block holds something else. */
	CHECK(sh("cp --sparse=always jbase.img ja.img") == 0 &&
		  journal_over(a, jpath, blocks, n) == 0,
	      "guard: a journal over the unchanged image");
	/* ... then, with the journal out of the way, the volume changes (as Windows or chkdsk
	 * would change it): another file in the same directory, through the same MFT and index. */
	char *held = rp_xasprintf("%s.held", jpath);
	static const uint8_t other[] = "written by someone else";
	struct rp_jr_block *got = NULL;
	size_t gn = 0;
	vol = NULL;
	CHECK(
	    rename(jpath, held) == 0 && rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		rp_vol_write_file(vol, "Windows/k.txt", other, sizeof other, NULL, 0, &err) == 0 &&
		rp_vol_close(vol, &err) == 0 && rename(held, jpath) == 0,
	    "guard: the volume changed underneath: %s", err.msg);
	free(held);
	fd = open(a, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && rp_jr_read(jpath, fd, P2_OFF, P2_SIZE, &got, &gn) == -3 && !got,
	      "guard: ... so that a journaled block holds neither its old nor its new contents");
	if (fd >= 0)
		close(fd);
	char sha_c[65];
	file_sha(a, sha_c);
	vol = NULL;
	rp_err_clear(&err);
	CHECK(rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 0, &err) == 0 &&
		  rp_vol_get_state(vol)->journal_stale && !rp_vol_get_state(vol)->journal_pending,
	      "guard: a read-only open does not lay the stale journal over: %s", err.msg);
	rp_vol_close(vol, NULL);
	file_sha(a, sha);
	CHECK(!strcmp(sha, sha_c) && access(jpath, F_OK) == 0 && count_stale(jpath) == 0,
	      "guard: ... writes nothing and leaves the journal where it is");
	vol = NULL;
	rp_err_clear(&err);
	CHECK(rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 1, &err) < 0 && !vol &&
		  err.exit_code == RP_EXIT_UNUSABLE &&
		  strstr(err.msg, "does not match the volume") && strstr(err.msg, ".stale-") &&
		  strstr(err.msg, "chkdsk /f"),
	      "guard: a read-write open refuses: %s", err.msg);
	file_sha(a, sha);
	CHECK(!strcmp(sha, sha_c) && access(jpath, F_OK) != 0 && count_stale(jpath) == 1,
	      "guard: ... replays nothing and renames the journal to .stale-*");
	rp_err_clear(&err);
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		  !rp_vol_get_state(vol)->replayed && !rp_vol_get_state(vol)->journal_stale &&
		  rp_vol_close(vol, &err) == 0,
	      "guard: the next read-write open goes ahead: %s", err.msg);

	/* Version 1 (no pre-image hashes): still replayed, unchecked. */
	rp_err_clear(&err);
	CHECK(sh("cp --sparse=always jbase.img ja.img") == 0 &&
		  rp_jr_write(jpath, -1, P2_OFF, P2_SIZE, blocks, n, NULL, NULL, 0) == 0,
	      "guard: a version-1 journal");
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		  rp_vol_get_state(vol)->replayed && rp_vol_close(vol, &err) == 0,
	      "guard: ... is replayed: %s", err.msg);
	file_sha(a, sha);
	CHECK(!strcmp(sha, sha_b) && access(jpath, F_OK) != 0, "guard: ... completely");

	/* Garbled and truncated files: never used, never a crash (read under ASan too). */
	CHECK(sh("cp --sparse=always jbase.img ja.img") == 0 &&
		  journal_over(a, jpath, blocks, n) == 0,
	      "guard: a journal to garble");
	size_t len = 0;
	uint8_t *good = slurp(jpath, &len);
	fd = open(a, O_RDONLY | O_CLOEXEC);
	int bad = 0, cases = 0;
	uint32_t seed = 12345;
	for (int k = 0; good && fd >= 0 && k < 200; k++, cases++) {
		uint8_t *g = rp_xmalloc(len);
		memcpy(g, good, len);
		size_t cut = len;
		seed = seed * 1103515245u + 12345u;
		if (k % 3 == 0) {
			cut = seed % len; /* truncated */
		} else {
			for (int f = 0; f < 1 + k % 5; f++) { /* a few bytes flipped */
				seed = seed * 1103515245u + 12345u;
				g[(seed >> 4) % (k % 2 ? 48 : len)] ^= (uint8_t)(1 + (seed & 0x7f));
			}
		}
		struct rp_jr_block *got = NULL;
		size_t gn = 0;
		FILE *f = fopen(jpath, "wb");
		int wrote = f && fwrite(g, 1, cut, f) == cut;
		if (f && fclose(f) != 0)
			wrote = 0;
		int rc = wrote ? rp_jr_read(jpath, fd, P2_OFF, P2_SIZE, &got, &gn) : 99;
		if (rc != -2)
			bad++;
		rp_jr_free(got, gn);
		free(g);
	}
	if (fd >= 0)
		close(fd);
	free(good);
	CHECK(cases == 200 && bad == 0,
	      "guard: %d of %d truncated/garbled journals not refused as incomplete", bad, cases);
	unlink(jpath);
	(void)sha_a;
}

/* The journal of a commit that was killed after the journal was complete, made by hand from
 * the blocks in which a copy of the image differs after one write_file. */
static void test_journal(void)
{
	const char *a = in_dir("ja.img"), *b = in_dir("jb.img");
	rp_err err = {0};
	rp_vol *vol = NULL;
	static const uint8_t text[] = "written through the journal";
	CHECK(sh("cp --sparse=always jbase.img ja.img && cp --sparse=always jbase.img jb.img") == 0,
	      "journal: two copies of the image");
	CHECK(rp_vol_open_ntfs(&vol, b, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		  rp_vol_write_file(vol, "Windows/j.txt", text, sizeof text, NULL, 0, &err) == 0 &&
		  rp_vol_close(vol, &err) == 0,
	      "journal: a file written on the second copy: %s", err.msg);
	char *jpath = rp_xasprintf("%s@%llu%s", a, P2_OFF, RP_VOL_JOURNAL_SUFFIX);
	size_t alen = 0, blen = 0;
	uint8_t *da = slurp(a, &alen), *db = slurp(b, &blen);
	struct rp_jr_block *blocks = NULL;
	size_t n = 0;
	for (uint64_t off = 0; da && db && alen == blen && off < P2_SIZE; off += RP_JR_BLOCK)
		if (memcmp(da + P2_OFF + off, db + P2_OFF + off, RP_JR_BLOCK) != 0) {
			blocks = realloc(blocks, (n + 1) * sizeof *blocks);
			blocks[n++] = (struct rp_jr_block){off / RP_JR_BLOCK, db + P2_OFF + off};
		}
	int fda = open(a, O_RDONLY | O_CLOEXEC);
	CHECK(n > 0 && fda >= 0 &&
		  rp_jr_write(jpath, fda, P2_OFF, P2_SIZE, blocks, n, NULL, NULL, 0) == 0,
	      "journal: %zu changed blocks written to %s", n, jpath);
	close(fda);
	char sha_a[65], sha_b[65], sha[65];
	file_sha(a, sha_a);
	file_sha(b, sha_b);

	/* Read-only: the change is seen, the image is left alone, the journal stays. */
	uint8_t *data = NULL;
	size_t len = 0;
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 0, &err) == 0 &&
		  rp_vol_get_state(vol)->journal_pending && rp_vol_interrupted(vol) &&
		  rp_vol_read(vol, "Windows/j.txt", &data, &len, &err) == 0 && len == sizeof text &&
		  !memcmp(data, text, len),
	      "journal: a read-only open sees the journaled file: %s", err.msg);
	free(data);
	rp_vol_close(vol, NULL);
	file_sha(a, sha);
	CHECK(!strcmp(sha, sha_a) && access(jpath, F_OK) == 0,
	      "journal: ... without writing a byte, and the journal stays");

	/* Read-write: replayed, then gone; the image is what the undisturbed write made. */
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		  rp_vol_get_state(vol)->replayed && rp_vol_close(vol, &err) == 0,
	      "journal: a read-write open replays it: %s", err.msg);
	file_sha(a, sha);
	CHECK(!strcmp(sha, sha_b) && access(jpath, F_OK) != 0,
	      "journal: the image is byte-identical to the written copy, the journal is gone");

	test_journal_guard(a, jpath, blocks, n, sha_a, sha_b);

	/* Incomplete (the kill came while it was being written): dropped, nothing applied. */
	CHECK(sh("cp --sparse=always jbase.img ja.img") == 0 &&
		  rp_jr_write(jpath, -1, P2_OFF, P2_SIZE, blocks, n, NULL, NULL, 0) == 0 &&
		  truncate(jpath, (off_t)(40 + n * (8 + RP_JR_BLOCK))) == 0,
	      "journal: an incomplete journal (no tail)");
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		  rp_vol_get_state(vol)->journal_dropped && !rp_vol_get_state(vol)->replayed &&
		  rp_vol_close(vol, &err) == 0,
	      "journal: an incomplete journal is dropped: %s", err.msg);
	file_sha(a, sha);
	CHECK(!strcmp(sha, sha_a) && access(jpath, F_OK) != 0,
	      "journal: ... the image is unchanged and the journal is gone");

	/* A journal for another partition is not applied. */
	CHECK(sh("cp --sparse=always jbase.img ja.img") == 0 &&
		  rp_jr_write(jpath, -1, P2_OFF, P2_SIZE - RP_JR_BLOCK, blocks, n, NULL, NULL, 0) ==
		      0,
	      "journal: one written for another partition size");
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 0, &err) == 0 &&
		  !rp_vol_get_state(vol)->journal_pending && rp_vol_get_state(vol)->journal_dropped,
	      "journal: ... is not laid over the volume: %s", err.msg);
	rp_vol_close(vol, NULL);
	unlink(jpath);
	free(blocks);
	free(da);
	free(db);
	free(jpath);
}

/* Ordered blocks (journal version 3): a new file's data, in clusters that were free, is
 * written in place before the journal, which holds only the data's hashes.  Made by hand from
 * the blocks in which a copy differs after one write_file of a 256 KiB file: the blocks that
 * hold the file's bytes (each begins with a marker) are the ordered ones, the rest (MFT
 * record, index, bitmap) journaled. */
static void test_journal_ordered(void)
{
	const char *a = in_dir("oa.img"), *b = in_dir("ob.img");
	static const char mark[] = "rp-ordered-block";
	size_t flen = (size_t)64 * RP_JR_BLOCK;
	uint8_t *file = rp_xmalloc(flen);
	for (size_t k = 0; k < flen / RP_JR_BLOCK; k++) {
		memset(file + k * RP_JR_BLOCK, (int)(0x40 + k), RP_JR_BLOCK);
		memcpy(file + k * RP_JR_BLOCK, mark, sizeof mark);
	}
	rp_err err = {0};
	rp_vol *vol = NULL;
	CHECK(sh("cp --sparse=always jbase.img ob.img") == 0 &&
		  rp_vol_open_ntfs(&vol, b, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		  rp_vol_write_file(vol, "Windows/o.bin", file, flen, NULL, 0, &err) == 0 &&
		  rp_vol_close(vol, &err) == 0,
	      "ordered: a 256 KiB file written on a copy: %s", err.msg);
	size_t alen = 0, blen = 0;
	uint8_t *da = slurp(in_dir("jbase.img"), &alen), *db = slurp(b, &blen);
	struct rp_jr_block *meta = NULL, *ord = NULL;
	size_t nmeta = 0, nord = 0;
	for (uint64_t off = 0; da && db && alen == blen && off < P2_SIZE; off += RP_JR_BLOCK) {
		uint8_t *now = db + P2_OFF + off;
		if (!memcmp(da + P2_OFF + off, now, RP_JR_BLOCK))
			continue;
		int data = !memcmp(now, mark, sizeof mark);
		struct rp_jr_block **v = data ? &ord : &meta;
		size_t *n = data ? &nord : &nmeta;
		*v = rp_xrealloc(*v, (*n + 1) * sizeof **v);
		(*v)[(*n)++] = (struct rp_jr_block){off / RP_JR_BLOCK, now};
	}
	CHECK(nord == flen / RP_JR_BLOCK && nmeta > 0,
	      "ordered: %zu data blocks (want %zu) and %zu others changed", nord,
	      flen / RP_JR_BLOCK, nmeta);
	char *jpath = rp_xasprintf("%s@%llu%s", a, P2_OFF, RP_VOL_JOURNAL_SUFFIX);
	char sha_b[65], sha[65];
	file_sha(b, sha_b);

	/* The data in place and synced, then the journal (the data's hashes taken beforehand, as
	 * a commit takes them while the data goes out): replayed to the written copy. */
	int fd = -1;
	char(*hashes)[65] = rp_xmalloc((nord ? nord : 1) * sizeof *hashes);
	rp_jr_hash(ord, nord, P2_SIZE, hashes);
	CHECK(sh("cp --sparse=always jbase.img oa.img") == 0 &&
		  (fd = open(a, O_RDWR | O_CLOEXEC)) >= 0 &&
		  rp_jr_apply(fd, P2_OFF, P2_SIZE, ord, nord) == 0 &&
		  rp_jr_write(jpath, fd, P2_OFF, P2_SIZE, meta, nmeta, ord,
			      (const char(*)[65])hashes, nord) == 0,
	      "ordered: the data in place, then a journal of the rest");
	free(hashes);
	if (fd >= 0)
		close(fd);
	size_t jlen = 0;
	uint8_t *j = slurp(jpath, &jlen);
	CHECK(j && jlen >= 8 && !memcmp(j, "RPJRNL03", 8) &&
		  jlen < (nmeta + 1) * (RP_JR_BLOCK + 72) + nord * 72 + 200,
	      "ordered: ... a version-3 journal of %zu bytes: the data's hashes, not its bytes",
	      jlen);
	uint8_t *data = NULL;
	size_t len = 0;
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 0, &err) == 0 &&
		  rp_vol_get_state(vol)->journal_pending &&
		  rp_vol_read(vol, "Windows/o.bin", &data, &len, &err) == 0 && len == flen &&
		  !memcmp(data, file, flen),
	      "ordered: a read-only open sees the file whole: %s", err.msg);
	free(data);
	rp_vol_close(vol, NULL);
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		  rp_vol_get_state(vol)->replayed && rp_vol_close(vol, &err) == 0,
	      "ordered: a read-write open replays it: %s", err.msg);
	file_sha(a, sha);
	CHECK(!strcmp(sha, sha_b) && access(jpath, F_OK) != 0,
	      "ordered: ... the image is byte-identical to the written copy, the journal is gone");

	/* The data never reached the disk (or was lost): stale, never replayed. */
	struct rp_jr_block *got = NULL;
	size_t gn = 0;
	CHECK(sh("cp --sparse=always jbase.img oa.img") == 0 &&
		  (fd = open(a, O_RDONLY | O_CLOEXEC)) >= 0 &&
		  rp_jr_write(jpath, fd, P2_OFF, P2_SIZE, meta, nmeta, ord, NULL, nord) == 0 &&
		  rp_jr_read(jpath, fd, P2_OFF, P2_SIZE, &got, &gn) == -3 && !got,
	      "ordered: a journal whose data is not on the disk is stale");
	if (fd >= 0)
		close(fd);
	/* The data in place, then one of its blocks overwritten (something wrote into what
	 * the volume still shows as free): stale. */
	uint8_t other[RP_JR_BLOCK];
	memset(other, 0x5a, sizeof other);
	CHECK(sh("cp --sparse=always jbase.img oa.img") == 0 &&
		  (fd = open(a, O_RDWR | O_CLOEXEC)) >= 0 &&
		  rp_jr_apply(fd, P2_OFF, P2_SIZE, ord, nord) == 0 &&
		  rp_jr_write(jpath, fd, P2_OFF, P2_SIZE, meta, nmeta, ord, NULL, nord) == 0 &&
		  rp_pwrite_all(fd, other, sizeof other, P2_OFF + ord[nord / 2].no * RP_JR_BLOCK) ==
		      0 &&
		  rp_jr_read(jpath, fd, P2_OFF, P2_SIZE, &got, &gn) == -3 && !got,
	      "ordered: a journal whose data was overwritten since is stale");
	if (fd >= 0)
		close(fd);
	vol = NULL;
	rp_err_clear(&err);
	file_sha(a, sha_b);
	CHECK(rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 1, &err) < 0 && !vol &&
		  strstr(err.msg, "does not match the volume") && count_stale(jpath) == 1,
	      "ordered: ... a read-write open refuses it and sets it aside: %s", err.msg);
	file_sha(a, sha);
	CHECK(!strcmp(sha, sha_b), "ordered: ... and writes nothing");

	/* Bytes flipped in the ordered records or the head, or cut short: incomplete. */
	CHECK(sh("cp --sparse=always jbase.img oa.img") == 0 &&
		  (fd = open(a, O_RDWR | O_CLOEXEC)) >= 0 &&
		  rp_jr_apply(fd, P2_OFF, P2_SIZE, ord, nord) == 0 &&
		  rp_jr_write(jpath, fd, P2_OFF, P2_SIZE, meta, nmeta, ord, NULL, nord) == 0,
	      "ordered: a journal to garble");
	free(j);
	j = slurp(jpath, &jlen);
	int bad = 0, cases = 0;
	size_t records = jlen - 72 - nord * 72; /* where the ordered records begin */
	for (int k = 0; j && fd >= 0 && k < 60; k++, cases++) {
		uint8_t *g = rp_xmalloc(jlen);
		memcpy(g, j, jlen);
		size_t cut = jlen;
		if (k % 3 == 0)
			cut = records + (size_t)k * 97 % (jlen - records); /* in the ordered part */
		else if (k % 3 == 1)
			g[records + (size_t)k * 131 % (nord * 72)] ^= 0x21;
		else
			g[40 + k % 8] ^= (uint8_t)(1 + k); /* the number of ordered blocks */
		FILE *f = fopen(jpath, "wb");
		int wrote = f && fwrite(g, 1, cut, f) == cut;
		if (f && fclose(f) != 0)
			wrote = 0;
		got = NULL;
		gn = 0;
		if (!wrote || rp_jr_read(jpath, fd, P2_OFF, P2_SIZE, &got, &gn) != -2)
			bad++;
		rp_jr_free(got, gn);
		free(g);
	}
	if (fd >= 0)
		close(fd);
	CHECK(cases == 60 && bad == 0,
	      "ordered: %d of %d truncated/garbled version-3 journals not refused as incomplete",
	      bad, cases);
	unlink(jpath);
	errno = 0;
	CHECK(rp_jr_write(jpath, -1, P2_OFF, P2_SIZE, meta, nmeta, ord, NULL, nord) < 0 &&
		  errno == EINVAL && access(jpath, F_OK) != 0,
	      "ordered: a version-1 journal cannot hold ordered blocks");

	/* A real commit: the journal cannot be made (a directory holds its name) after the
	 * data went in place.  The write fails, the volume does not show the file, and its
	 * bytes lie in clusters the volume still counts as free: the data was ordered. */
	static const uint8_t small[] = "first";
	vol = NULL;
	rp_err_clear(&err);
	CHECK(sh("cp --sparse=always jbase.img oa.img") == 0 &&
		  rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		  rp_vol_write_file(vol, "Windows/first.txt", small, sizeof small, NULL, 0, &err) ==
		      0 &&
		  mkdir(jpath, 0700) == 0,
	      "ordered: a first write, then a directory where the journal goes: %s", err.msg);
	rp_err_clear(&err);
	int wrote = vol ? rp_vol_write_file(vol, "Windows/o.bin", file, flen, NULL, 0, &err) : 0;
	CHECK(vol && wrote < 0 && err.exit_code == RP_EXIT_WRITE_FAILED,
	      "ordered: ... the big write fails: %s", err.msg);
	rmdir(jpath);
	rp_err_clear(&err);
	CHECK(vol && rp_vol_close(vol, &err) == 0, "ordered: ... the volume closes: %s", err.msg);
	rp_stat st = {0};
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, a, P2_OFF, P2_SIZE, 0, &err) == 0 &&
		  rp_vol_stat(vol, "Windows/o.bin", &st, &err) == 0 && !st.exists &&
		  rp_vol_read(vol, "Windows/first.txt", &data, &len, &err) == 0 &&
		  len == sizeof small,
	      "ordered: ... the volume holds the first file and not the second: %s", err.msg);
	free(data);
	data = NULL;
	rp_vol_close(vol, NULL);
	free(da);
	da = slurp(a, &alen);
	size_t found = 0;
	for (uint64_t off = 0; da && off + RP_JR_BLOCK <= P2_SIZE; off += RP_JR_BLOCK)
		found += !memcmp(da + P2_OFF + off, mark, sizeof mark);
	CHECK(found == flen / RP_JR_BLOCK,
	      "ordered: ... %zu of its %zu blocks were already on the disk, in free clusters",
	      found, flen / RP_JR_BLOCK);
	free(j);
	free(meta);
	free(ord);
	free(da);
	free(db);
	free(file);
	free(jpath);
}

/* An index entry with no file behind it, as an older rdprescue killed while creating its
 * temporary file left one: write_file refuses, naming the damage, and writes nothing. */
static void test_damaged_index(void)
{
	const char *img = in_dir("jd.img");
	rp_err err = {0};
	rp_vol *vol = NULL;
	static const uint8_t text[] = "a file";
	CHECK(sh("cp --sparse=always jbase.img jd.img") == 0 &&
		  rp_vol_open_ntfs(&vol, img, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		  rp_vol_write_file(vol, "Windows/e.txt", text, sizeof text, NULL, 0, &err) == 0 &&
		  rp_vol_write_file(vol, "Windows/e.txt.rdprescue-tmp", text, sizeof text, NULL, 0,
				    &err) == 0,
	      "damaged index: e.txt and e.txt.rdprescue-tmp written: %s", err.msg);
	if (!vol)
		return;
	/* The record of e.txt.rdprescue-tmp is freed under its index entry. */
	ntfs_inode *ni =
	    ntfs_pathname_to_inode(rpn_np(vol)->nv, NULL, "/Windows/e.txt.rdprescue-tmp");
	int freed = 0;
	if (ni) {
		ni->mrec->flags &= ~MFT_RECORD_IN_USE;
		ntfs_inode_mark_dirty(ni);
		freed = ntfs_inode_close(ni) == 0 &&
			rpn_end_op(vol, 0, "freeing", "e.txt.rdprescue-tmp", &err) == 0;
	}
	CHECK(freed && rp_vol_close(vol, &err) == 0, "damaged index: the record freed: %s",
	      err.msg);
	vol = NULL;
	rp_err_clear(&err);
	CHECK(rp_vol_open_ntfs(&vol, img, P2_OFF, P2_SIZE, 1, &err) == 0 &&
		  rp_vol_write_file(vol, "Windows/e.txt", text, 3, NULL, 0, &err) < 0 &&
		  err.exit_code == RP_EXIT_UNUSABLE && strstr(err.msg, "no file behind") &&
		  strstr(err.msg, "e.txt.rdprescue-tmp") && strstr(err.msg, "chkdsk /f"),
	      "damaged index: write_file refuses, saying what and how to clear it: %s", err.msg);
	rp_vol_close(vol, NULL);
	/* Refused before the dirty flag: e.txt is the old one, no mark, the flag is clear. */
	uint8_t *data = NULL;
	size_t len = 0;
	char *mark = rp_xasprintf("%s@%llu%s", img, P2_OFF, RP_VOL_DIRTY_SUFFIX);
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, img, P2_OFF, P2_SIZE, 0, &err) == 0 &&
		  !rp_vol_get_state(vol)->dirty_flag && !rp_vol_interrupted(vol) &&
		  access(mark, F_OK) != 0 &&
		  rp_vol_read(vol, "Windows/e.txt", &data, &len, &err) == 0 && len == sizeof text &&
		  !memcmp(data, text, len),
	      "damaged index: nothing was written: %s", err.msg);
	rp_vol_close(vol, NULL);
	free(data);
	free(mark);
}

static void test_targets(void)
{
	rp_target t;
	rp_err err = {0};
	const char *img = in_dir("mbr.img");

	CHECK(sh("mkdisk mbr.img mbr 64") == 0, "mkdisk mbr");
	CHECK(rp_target_probe(&t, img, &err) < 0 && err.exit_code == RP_EXIT_UNUSABLE &&
		  strstr(err.msg, "no Windows installation found") &&
		  strstr(err.msg, "2 NTFS partitions looked at"),
	      "no Windows: %s", err.msg);
	CHECK(put_windows(img, P2_OFF, P2_SIZE) == 0, "Windows put on MBR partition 2");
	rp_err_clear(&err);
	CHECK(rp_target_probe(&t, img, &err) == 0 && t.ninstalls == 1 &&
		  t.installs[0].part_number == 2 && t.installs[0].index == 1 &&
		  !strcmp(t.installs[0].label, "Windows"),
	      "MBR: one install on partition 2: %s", err.msg);
	rp_vol *vol = NULL;
	const rp_install *in = NULL;
	CHECK(rp_target_open(&t, 0, 0, &vol, &in, &err) == 0 && in == &t.installs[0],
	      "open the only install: %s", err.msg);
	CHECK(t.held && !t.held[0], "the first read-only open took the probe's volume");
	rp_vol_close(vol, NULL);
	vol = NULL;
	CHECK(rp_target_open(&t, 0, 0, &vol, &in, &err) == 0 && vol, "a second one mounts anew: %s",
	      err.msg);
	rp_vol_close(vol, NULL);
	rp_target_free(&t);

	/* A writable open closes what the probe holds: no read lock in its way, nothing stale. */
	static const uint8_t text[] = "written after the probe";
	uint8_t *data = NULL;
	size_t len = 0;
	vol = NULL;
	CHECK(rp_target_probe(&t, img, &err) == 0 && t.held && t.held[0],
	      "the probe holds the installation's volume: %s", err.msg);
	CHECK(rp_target_check_write(&t, 1, "fix", &err) == 0 && t.held[0],
	      "check_write reads the held volume's state and leaves it held: %s", err.msg);
	CHECK(rp_target_open(&t, 1, 1, &vol, &in, &err) == 0 && !t.held[0] &&
		  rp_vol_write_file(vol, "Windows/after-probe.txt", text, sizeof text, NULL, 0,
				    &err) == 0 &&
		  rp_vol_close(vol, &err) == 0,
	      "a writable open after the probe writes: %s", err.msg);
	vol = NULL;
	CHECK(rp_target_open(&t, 1, 0, &vol, &in, &err) == 0 &&
		  rp_vol_read(vol, "Windows/after-probe.txt", &data, &len, &err) == 0 &&
		  len == sizeof text && !memcmp(data, text, len),
	      "a read-only open after it sees the write: %s", err.msg);
	free(data);
	rp_vol_close(vol, NULL);
	rp_target_free(&t);

	CHECK(sh("qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on mbr.img "
		 "mbr.vhd") == 0,
	      "fixed VHD made");
	rp_err_clear(&err);
	CHECK(rp_target_probe(&t, in_dir("mbr.vhd"), &err) == 0 && t.ninstalls == 1 &&
		  t.installs[0].part_number == 2,
	      "fixed VHD: the same install: %s", err.msg);
	rp_target_free(&t);

	/* Windows on both partitions: the caller has to choose. */
	CHECK(put_windows(img, 2048 * 512ull, 16ull << 20) == 0, "Windows put on partition 1");
	rp_err_clear(&err);
	CHECK(rp_target_probe(&t, img, &err) == 0 && t.ninstalls == 2 &&
		  t.installs[0].part_number == 1 && t.installs[1].index == 2,
	      "two installs numbered in partition order");
	rp_err_clear(&err);
	CHECK(rp_target_open(&t, 0, 0, &vol, &in, &err) < 0 && err.exit_code == RP_EXIT_USAGE &&
		  strstr(err.msg, "2 Windows installations found: choose one with --install N"),
	      "several installs: index 0 refused: %s", err.msg);
	rp_err_clear(&err);
	CHECK(rp_target_open(&t, 2, 0, &vol, &in, &err) == 0 && in->part_number == 2,
	      "install 2 opens partition 2");
	rp_vol_close(vol, NULL);
	rp_target_free(&t);

	CHECK(sh("mkdisk gptbl.img gpt 64 && printf -- '-FVE-FS-' | dd of=gptbl.img bs=1 "
		 "seek=$((34816 * 512 + 3)) conv=notrunc status=none") == 0,
	      "BitLocker partition 2");
	rp_err_clear(&err);
	CHECK(rp_target_probe(&t, in_dir("gptbl.img"), &err) < 0 &&
		  err.exit_code == RP_EXIT_UNUSABLE && strstr(err.msg, "BitLocker") &&
		  strstr(err.msg, "dislocker"),
	      "BitLocker: %s", err.msg);
	rp_err_clear(&err);
	vol = NULL;
	CHECK(rp_vol_open_ntfs(&vol, in_dir("gptbl.img"), P2_OFF, P2_SIZE, 0, &err) < 0 &&
		  strstr(err.msg, "BitLocker"),
	      "BitLocker volume open refused: %s", err.msg);
}

static void test_dir(void)
{
	rp_err err = {0};
	rp_vol *vol = NULL;
	CHECK(sh("mkdir -p mnt/Windows/System32/config mnt/Users/real && printf hive > "
		 "mnt/Windows/System32/config/SYSTEM && ln -s real mnt/Users/link && ln -s "
		 "/tmp mnt/Junction") == 0,
	      "a directory tree with symlinks");
	rp_target t;
	CHECK(rp_target_probe(&t, in_dir("mnt"), &err) == 0 && t.is_dir && t.ninstalls == 1 &&
		  t.installs[0].part_number == 0,
	      "directory target: one install: %s", err.msg);
	CHECK(rp_target_open(&t, 1, 1, &vol, NULL, &err) == 0 &&
		  !strcmp(rp_vol_backend(vol), "dir"),
	      "dir backend opened RW: %s", err.msg);
	rp_target_free(&t);
	if (!vol)
		return;
	uint8_t *data = NULL;
	size_t len = 0;
	CHECK(rp_vol_read(vol, "windows/SYSTEM32/config/system", &data, &len, &err) == 0 &&
		  len == 4 && !memcmp(data, "hive", 4),
	      "case-insensitive read: %s", err.msg);
	free(data);
	rp_stat st;
	CHECK(rp_vol_stat(vol, "users/LINK", &st, &err) == 0 && st.exists && st.is_reparse,
	      "a symlink counts as a reparse point");
	rp_err_clear(&err);
	CHECK(rp_vol_write_file(vol, "Users/link/evil.txt", (const uint8_t *)"x", 1, NULL, 0,
				&err) < 0 &&
		  err.exit_code == RP_EXIT_PROBLEMS && strstr(err.msg, "reparse point"),
	      "write through a symlinked directory refused: %s", err.msg);
	rp_err_clear(&err);
	CHECK(rp_vol_mkdirs(vol, "junction/a/b", &err) < 0 && strstr(err.msg, "reparse point"),
	      "mkdirs through a symlink refused: %s", err.msg);
	CHECK(access(in_dir("mnt/Users/real/evil.txt"), F_OK) != 0,
	      "nothing written behind the symlink");
	rp_err_clear(&err);
	CHECK(rp_vol_write_file(vol, "WINDOWS/system32/config/system", (const uint8_t *)"new!", 4,
				NULL, 0, &err) == 0,
	      "write_file replaces: %s", err.msg);
	struct names n = {{0}};
	CHECK(rp_vol_list(vol, "Windows/System32/config", collect, &n, &err) == 0 &&
		  !strcmp(n.all, "SYSTEM"),
	      "replaced under its real name, no temp left (%s)", n.all);
	data = NULL;
	CHECK(rp_vol_read(vol, "Windows/System32/config/SYSTEM", &data, &len, &err) == 0 &&
		  len == 4 && !memcmp(data, "new!", 4),
	      "new contents");
	free(data);
	CHECK(rp_vol_mkdirs(vol, "ProgramData/Microsoft/Crypto", &err) == 0 &&
		  rp_vol_stat(vol, "programdata/microsoft/crypto", &st, &err) == 0 && st.is_dir,
	      "mkdirs: %s", err.msg);
	rp_err_clear(&err);
	uint8_t *sd = NULL;
	CHECK(rp_vol_get_sd(vol, "Windows", &sd, &len, &err) < 0 &&
		  err.exit_code == RP_EXIT_PROBLEMS && strstr(err.msg, "need the ntfs backend"),
	      "no system.ntfs_acl: clear message: %s", err.msg);
	rp_err_clear(&err);
	test_leftovers(vol, "Temp", "dir");
	test_read_range(vol, "Temp", "dir");
	CHECK(rp_vol_close(vol, &err) == 0, "dir close: %s", err.msg);
}

int main(void)
{
	if (fixture_begin() < 0)
		return 1;
	test_ntfs();
	test_journal();
	test_journal_ordered();
	test_damaged_index();
	test_targets();
	test_dir();
	fixture_end();
	TEST_DONE();
}
