/*
 * test_hive_lazy.c — a clean hive read in place (regf/reader.c, reg/hive_lazy.c) answers as
 * hivex does: every real and Windows-made hive of ../shared that recovers is walked both ways
 * (subkeys, names, times, values with their types and data, security descriptors, key counts)
 * and must agree handle for handle; a damaged bin chain or cell is refused with recovery's
 * message; an edit makes the hive resident with the very bytes of the file; a detached hive
 * fails its reads instead of touching a closed volume; a cell another writer changed after the
 * open is refused before anything is allocated for it.
 */
#include "reg/reg_internal.h"
#include "regf/regf.h"
#include "test.h"
#include "util/file.h"
#include "vol/vol.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[4096];

typedef struct tally {
	size_t keys, values, finds, mismatches;
	char first[512];
} tally;

static void mismatch(tally *t, const char *what, hive_node_h node)
{
	if (!t->mismatches++)
		snprintf(t->first, sizeof t->first, "%s at node 0x%zx", what, (size_t)node);
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* name with the case of its ASCII letters swapped (malloc'd). */
static char *swap_case(const char *name)
{
	char *s = strdup(name);
	for (char *p = s; *p; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			*p ^= 32;
	return s;
}

/* Finding name (and its case swapped) as a subkey or value of node gives the same answer both
 * ways: lazy finds compare ASCII names without decoding them. */
static void compare_find(rp_hive *hx, rp_hive *lz, hive_node_h node, const char *name, int values,
			 tally *t)
{
	char *swapped = swap_case(name);
	const char *q[] = {name, swapped, "no such name \xc3\xa9"};
	for (int k = 0; k < 3; k++) {
		errno = 0;
		hive_node_h a =
		    values ? reg_get_value(hx, node, q[k]) : reg_get_child(hx, node, q[k]);
		int ea = errno;
		errno = 0;
		hive_node_h b =
		    values ? reg_get_value(lz, node, q[k]) : reg_get_child(lz, node, q[k]);
		if (a != b || (!a && !ea != !errno))
			mismatch(t, values ? "value found by name" : "subkey found by name", node);
	}
	free(swapped);
	t->finds++;
}

static void compare_values(rp_hive *hx, rp_hive *lz, hive_node_h node, tally *t)
{
	hive_value_h *a = hx->ops->values(hx, node), *b = lz->ops->values(lz, node);
	if (!a || !b) {
		if (!a != !b)
			mismatch(t, "value list", node);
		free(a);
		free(b);
		return;
	}
	size_t i = 0;
	for (; a[i] && b[i]; i++) {
		if (a[i] != b[i]) {
			mismatch(t, "value handle", node);
			break;
		}
		char *ka = hx->ops->value_key(hx, a[i]), *kb = lz->ops->value_key(lz, b[i]);
		if (!same_str(ka, kb))
			mismatch(t, "value name", node);
		if (ka && i < 4)
			compare_find(hx, lz, node, ka, 1, t);
		hive_type ta = 0, tb = 0;
		size_t la = 0, lb = 0;
		char *da = hx->ops->value_value(hx, a[i], &ta, &la);
		char *db = lz->ops->value_value(lz, b[i], &tb, &lb);
		if (!da != !db || ta != tb || la != lb || (da && la && memcmp(da, db, la) != 0))
			mismatch(t, "value data", node);
		free(ka);
		free(kb);
		free(da);
		free(db);
		t->values++;
	}
	if (a[i] || b[i])
		mismatch(t, "value count", node);
	free(a);
	free(b);
}

/* Depth-first over both, from the root. */
static void compare_tree(rp_hive *hx, rp_hive *lz, tally *t)
{
	size_t cap = 64, top = 0;
	hive_node_h *stack = malloc(cap * sizeof *stack);
	hive_node_h root = hx->ops->root(hx);
	if (root != lz->ops->root(lz))
		mismatch(t, "root", root);
	stack[top++] = root;
	while (top && t->keys < 2000000) {
		hive_node_h node = stack[--top];
		t->keys++;
		char *na = hx->ops->node_name(hx, node), *nb = lz->ops->node_name(lz, node);
		if (!same_str(na, nb))
			mismatch(t, "key name", node);
		free(na);
		free(nb);
		if (hx->ops->node_timestamp(hx, node) != lz->ops->node_timestamp(lz, node))
			mismatch(t, "last-write time", node);
		if (hx->ops->node_nr_values(hx, node) != lz->ops->node_nr_values(lz, node))
			mismatch(t, "value count", node);
		compare_values(hx, lz, node, t);
		hive_node_h *a = hx->ops->children(hx, node), *b = lz->ops->children(lz, node);
		if (!a != !b)
			mismatch(t, "subkey list", node);
		for (size_t i = 0; a && b && (a[i] || b[i]); i++) {
			if (a[i] != b[i]) {
				mismatch(t, "subkey handle", node);
				break;
			}
			if (i < 4) {
				char *cn = hx->ops->node_name(hx, a[i]);
				if (cn)
					compare_find(hx, lz, node, cn, 0, t);
				free(cn);
			}
			if (top + 1 >= cap)
				stack = realloc(stack, (cap *= 2) * sizeof *stack);
			stack[top++] = a[i];
		}
		free(a);
		free(b);
	}
	free(stack);
}

/* image (consistent) written as tmpdir/name, opened both ways; 0 when both opened. */
static int open_both(const char *name, const uint8_t *image, size_t len, rp_vol **vol, rp_hive **hx,
		     rp_hive **lz, rp_err *err)
{
	char path[8192];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(image, 1, len, f) != len || fclose(f) != 0)
		return rp_fail(err, 3, "cannot write %s", path);
	*vol = NULL;
	*hx = *lz = NULL;
	if (rp_vol_open_dir(vol, tmpdir, 0, err) < 0)
		return -1;
	rp_regf_files files = {0};
	rp_regf_recovery info;
	if (rp_regf_recover_clean(image, len, &files, &info, err) != 1)
		return rp_fail(err, 3, "%s: not judged clean (%s)", name, err->msg);
	if (reg_hive_open_lazy(lz, name, *vol, name, image, err) < 0)
		return -1;
	return rp_hive_open(hx, name, image, len, err);
}

static void close_both(rp_vol *vol, rp_hive *hx, rp_hive *lz)
{
	rp_hive_close(hx);
	rp_hive_close(lz);
	if (vol)
		rp_vol_close(vol, NULL);
}

static void compare_hive(const char *name, const uint8_t *image, size_t len)
{
	rp_vol *vol;
	rp_hive *hx, *lz;
	rp_err err = {0};
	if (open_both(name, image, len, &vol, &hx, &lz, &err) < 0) {
		CHECK(0, "%s: opened with hivex and in place (%s)", name, err.msg);
		close_both(vol, hx, lz);
		return;
	}
	tally t = {0};
	compare_tree(hx, lz, &t);
	CHECK(t.keys > 0 && (t.finds > 0 || t.keys == 1) && t.mismatches == 0,
	      "%s: %zu keys and %zu values read in place as hivex reads them, %zu found by name "
	      "(%zu differences; first: %s)",
	      name, t.keys, t.values, t.finds, t.mismatches, t.first);
	size_t ka = 0, va = 0, kb = 0, vb = 0;
	rp_err e1 = {0}, e2 = {0};
	int ca = rp_hive_count_keys(hx, &ka, &va, &e1), cb = rp_hive_count_keys(lz, &kb, &vb, &e2);
	CHECK(ca == cb && ka == kb && va == vb, "%s: key counts agree (%zu/%zu keys)", name, ka,
	      kb);
	uint8_t *sa = NULL, *sb = NULL;
	size_t la = 0, lb = 0;
	int ga = rp_hive_key_sd(hx, "", &sa, &la, &e1), gb = rp_hive_key_sd(lz, "", &sb, &lb, &e2);
	CHECK(ga == gb && la == lb && (!la || memcmp(sa, sb, la) == 0),
	      "%s: the root key's security descriptor agrees (%zu bytes)", name, la);
	free(sa);
	free(sb);
	/* An edit copies the image: the file's bytes, read whole. */
	rp_err e3 = {0};
	uint8_t *copy = NULL;
	int copied = reg_hive_read_image(lz, &copy, &e3) == 0 && lz->len == len &&
		     memcmp(copy, image, len) == 0;
	CHECK(copied, "%s: copied, it holds the file's %zu bytes (%s)", name, len, e3.msg);
	free(copy);
	copy = NULL;
	/* The same image held in memory (a replayed hive, a small hive, an edit being
	 * verified) reads the same way, and copies to the same bytes. */
	rp_hive *mem = NULL;
	tally m = {0};
	int opened = reg_hive_open_image(&mem, name, (uint8_t *)image, len, 0) == 1 &&
		     mem->ops == &reg_lazy_backend;
	if (opened)
		compare_tree(hx, mem, &m);
	CHECK(opened && m.keys == t.keys && m.values == t.values && m.mismatches == 0,
	      "%s: held in memory, %zu keys and %zu values read as hivex reads them (%zu "
	      "differences; first: %s)",
	      name, m.keys, m.values, m.mismatches, m.first);
	CHECK(mem && reg_hive_read_image(mem, &copy, &e3) == 0 && mem->len == len &&
		  !memcmp(copy, image, len),
	      "%s: held in memory, it copies to the same %zu bytes", name, len);
	free(copy);
	rp_hive_close(mem);
	close_both(vol, hx, lz);
}

static uint8_t *load(const char *rel, size_t *len)
{
	char path[4096], cmd[16384];
	snprintf(path, sizeof path, "%s/hives/%s", test_shared_dir(), rel);
	uint8_t *data = NULL;
	if (strstr(rel, ".xz")) {
		char out[4200];
		snprintf(out, sizeof out, "%s/unpacked", tmpdir);
		snprintf(cmd, sizeof cmd, "xz -dkc '%s' > '%s'", path, out);
		if (system(cmd) != 0)
			return NULL;
		int rc = rp_file_read(out, &data, len, 1, NULL);
		unlink(out);
		return rc == 0 ? data : NULL;
	}
	return rp_file_read(path, &data, len, 1, NULL) == 0 ? data : NULL;
}

/* The consistent image of a hive of ../shared (logs beside it replayed), or NULL. */
static uint8_t *recovered(const char *rel, size_t *len)
{
	size_t plen, l1 = 0, l2 = 0;
	uint8_t *pri = load(rel, &plen);
	if (!pri)
		return NULL;
	char log[8192];
	snprintf(log, sizeof log, "%s.LOG1", rel);
	uint8_t *log1 = strstr(rel, ".xz") ? NULL : load(log, &l1);
	snprintf(log, sizeof log, "%s.LOG2", rel);
	uint8_t *log2 = strstr(rel, ".xz") ? NULL : load(log, &l2);
	rp_regf_files f = {.primary = pri,
			   .primary_len = plen,
			   .log1 = log1,
			   .log1_len = l1,
			   .log2 = log2,
			   .log2_len = l2,
			   .name = "hive"};
	uint8_t *image = NULL;
	rp_regf_recovery info;
	rp_err err = {0};
	if (rp_regf_recover(&f, &image, len, &info, &err) < 0)
		image = NULL;
	free(pri);
	free(log1);
	free(log2);
	return image;
}

static void test_real_hives(void)
{
	static const char *const hives[] = {
	    "real/win7-sp1-x86-SYSTEM.xz",
	    "real/SAM.xz",
	    "real/SECURITY.xz",
	    "real/BCD.xz",
	};
	for (size_t i = 0; i < sizeof hives / sizeof *hives; i++) {
		size_t len;
		uint8_t *image = recovered(hives[i], &len);
		CHECK(image != NULL, "%s recovers", hives[i]);
		if (image)
			compare_hive(strrchr(hives[i], '/') + 1, image, len);
		free(image);
	}
}

/* Every Windows-made hive that recovers (the others are refused before any reader sees them). */
static void test_windows_made(void)
{
	char dir[8192];
	snprintf(dir, sizeof dir, "%s/hives/windows-made", test_shared_dir());
	static const char *const hives[] = {
	    "BigDataHive",  "CompHive",		 "DeletedDataHive",   "DeletedTreeHive",
	    "DupNameHive",  "EffectiveSizeHive", "EmptyHive",	      "ExtendedASCIIHive",
	    "HealedHive",   "ManySubkeysHive",	 "MultiSzHive",	      "NewDirtyHive1",
	    "NewFlagsHive", "OffHive",		 "OldDirtyHive",      "RemnantsHive",
	    "SlackHive",    "StringValuesHive",	 "BogusKeyNamesHive", "ReallocValueHive",
	};
	size_t done = 0;
	for (size_t i = 0; i < sizeof hives / sizeof *hives; i++) {
		char rel[256];
		snprintf(rel, sizeof rel, "windows-made/%s", hives[i]);
		size_t len;
		uint8_t *image = recovered(rel, &len);
		if (!image)
			continue;
		compare_hive(hives[i], image, len);
		free(image);
		done++;
	}
	CHECK(done >= 15, "%zu Windows-made hives compared", done);
}

/* A broken chain is refused with rp_regf_recover's own message; a bad cell size is refused. */
static void test_damage(void)
{
	size_t len;
	uint8_t *image = recovered("real/win7-sp1-x86-SYSTEM.xz", &len);
	if (!image) {
		CHECK(0, "SYSTEM recovers");
		return;
	}
	/* The second hive bin's signature. */
	size_t second = 4096 + (size_t)(image[4096 + 8] | image[4096 + 9] << 8 |
					image[4096 + 10] << 16 | (size_t)image[4096 + 11] << 24);
	uint8_t *broken = malloc(len);
	memcpy(broken, image, len);
	broken[second] = 'X';
	rp_vol *vol;
	rp_hive *hx, *lz;
	rp_err err = {0}, want = {0};
	rp_regf_files f = {.primary = broken, .primary_len = len};
	uint8_t *out = NULL;
	size_t out_len;
	rp_regf_recovery info;
	CHECK(rp_regf_recover(&f, &out, &out_len, &info, &want) < 0,
	      "recovery refuses a broken chain");
	free(out);
	int rc = open_both("SYSTEM", broken, len, &vol, &hx, &lz, &err);
	CHECK(rc < 0 && strcmp(err.msg, want.msg) == 0 && err.exit_code == want.exit_code,
	      "in place: the same refusal (\"%s\" / \"%s\")", err.msg, want.msg);
	close_both(vol, hx, lz);

	/* The first cell of the first bin: size 3. */
	memcpy(broken, image, len);
	broken[4096 + 32] = 3;
	broken[4096 + 33] = broken[4096 + 34] = broken[4096 + 35] = 0;
	rp_err e2 = {0};
	rc = open_both("SYSTEM", broken, len, &vol, &hx, &lz, &e2);
	CHECK(rc < 0 && strstr(e2.msg, "the hive is corrupt: a cell of bad size 3") &&
		  e2.exit_code == RP_EXIT_UNUSABLE,
	      "in place: a cell of size 3 is refused (%s)", e2.msg);
	close_both(vol, hx, lz);
	free(broken);

	/* Detached from its volume, a read fails instead of touching it: counting every key reads
	 * far more than the 2 MiB cache holds. */
	rp_err e3 = {0}, e4 = {0};
	if (open_both("SYSTEM", image, len, &vol, &hx, &lz, &e3) == 0) {
		reg_hive_rebind(lz, NULL);
		size_t keys = 0;
		CHECK(rp_hive_count_keys(lz, &keys, NULL, &e4) < 0 &&
			  e4.exit_code == RP_EXIT_UNUSABLE &&
			  strstr(e4.msg, "(Input/output error); the volume could not be read"),
		      "detached: a read fails and says the volume could not be read (%s)", e4.msg);
		reg_hive_rebind(lz, vol);
		rp_err e5 = {0};
		CHECK(rp_hive_count_keys(lz, &keys, NULL, &e5) == 0 && keys > 1000,
		      "rebound: every key reads again (%zu)", keys);
	} else {
		CHECK(0, "open SYSTEM in place (%s)", e3.msg);
	}
	close_both(vol, hx, lz);

	/* Another writer changes the file after the open: the root key's cell now claims 1 GB.
	 * The read is refused before anything is allocated for it. */
	rp_err e6 = {0}, e7 = {0};
	if (open_both("SYSTEM", image, len, &vol, &hx, &lz, &e6) == 0) {
		char path[8192];
		snprintf(path, sizeof path, "%s/SYSTEM", tmpdir);
		size_t root = 4096 + (size_t)(image[36] | image[37] << 8 | image[38] << 16 |
					      (size_t)image[39] << 24);
		static const uint8_t huge[4] = {0x00, 0x00, 0x00, 0xc0}; /* -1 GiB: allocated */
		FILE *f = fopen(path, "r+b");
		int changed =
		    f && fseek(f, (long)root, SEEK_SET) == 0 && fwrite(huge, 1, 4, f) == 4;
		if (f)
			fclose(f);
		CHECK(changed && rp_hive_key_exists(lz, "Select", &e7) < 0 &&
			  strstr(e7.msg, "the volume could not be read"),
		      "changed under the reader: a cell that no longer fits is refused (%s)",
		      e7.msg);
	} else {
		CHECK(0, "open SYSTEM in place (%s)", e6.msg);
	}
	close_both(vol, hx, lz);
	free(image);
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/test_hive_lazy.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		CHECK(0, "create a scratch directory");
		TEST_DONE();
	}
	test_real_hives();
	test_windows_made();
	test_damage();
	char cmd[8300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		CHECK(0, "remove %s", tmpdir);
	TEST_DONE();
}
