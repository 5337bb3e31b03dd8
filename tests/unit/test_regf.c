/*
 * test_regf.c — hive integrity on real samples: log replay against Windows' own recoveries,
 * refusals, the clean base block (checked by hivex, regfinfo and regfexport), the checksum's
 * special cases, Marvin32 on Windows-made log entries, the structural check on every sample,
 * and rp-mklogs' dirty SYSTEM hive with logs.
 */
#include "util/file.h"
#include "regf/regf.h"
#include "test.h"
#include "util/text.h"

#include <hivex.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_regf.XXXXXX";
static const char *build_dir;

/* A whole file; NULL and *len 0 when it cannot be read (an absent log). */
static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *data = NULL;
	if (rp_file_read(path, &data, len, 1, NULL) == 0)
		return data;
	*len = 0;
	return NULL;
}

static int spill(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(data, 1, len, f);
	return fclose(f) == 0 && w == len ? 0 : -1;
}

static uint32_t u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void w32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A hive with its logs: dir/base and dir/base.LOG1/.LOG2 (missing files stay NULL). */
typedef struct sample {
	rp_regf_files f;
	uint8_t *p, *l1, *l2;
} sample;

static void load(sample *s, const char *path)
{
	char *l1 = rp_xasprintf("%s.LOG1", path), *l2 = rp_xasprintf("%s.LOG2", path);
	memset(s, 0, sizeof *s);
	s->p = slurp(path, &s->f.primary_len);
	s->l1 = slurp(l1, &s->f.log1_len);
	s->l2 = slurp(l2, &s->f.log2_len);
	s->f.primary = s->p;
	s->f.log1 = s->l1;
	s->f.log2 = s->l2;
	s->f.name = "TEST";
	free(l1);
	free(l2);
}

static void unload(sample *s)
{
	free(s->p);
	free(s->l1);
	free(s->l2);
}

static char *wm(const char *rel)
{
	return rp_xasprintf("%s/hives/windows-made/%s", test_shared_dir(), rel);
}

static int recover_path(const char *rel, uint8_t **img, size_t *len, rp_regf_recovery *info,
			rp_err *err)
{
	sample s;
	char *path = wm(rel);
	load(&s, path);
	free(path);
	memset(err, 0, sizeof *err);
	int rc = s.p ? rp_regf_recover(&s.f, img, len, info, err) : -1;
	if (s.p) {
		/* The in-place replay (one buffer, what install.c uses) gives the same bytes, the
		 * same recovery record and the same message. */
		size_t ilen = s.f.primary_len;
		uint8_t *in = rp_xmalloc(ilen);
		memcpy(in, s.p, ilen);
		rp_regf_recovery iinfo;
		rp_err ierr = {0};
		int irc = rp_regf_recover_in_place(&in, &ilen, &s.f, &iinfo, &ierr);
		CHECK(irc == rc && strcmp(ierr.msg, err->msg) == 0 &&
			  (rc < 0 ? !in
				  : ilen == *len && memcmp(in, *img, ilen) == 0 &&
					memcmp(&iinfo, info, sizeof iinfo) == 0),
		      "%s: in-place replay gives the same result as the copying one", rel);
		free(in);
		/* So does the replay in a caller's fixed buffer (install.c: a memfd mapping),
		 * the bytes past the primary left uninitialised (0xA5 here). */
		size_t cap = rp_regf_recover_cap(s.f.primary_len, &s.f), blen = s.f.primary_len;
		uint8_t *buf = rp_xmalloc(cap);
		memset(buf, 0xA5, cap);
		memcpy(buf, s.p, blen);
		rp_regf_recovery binfo;
		rp_err berr = {0};
		int brc = rp_regf_recover_in_buffer(buf, cap, &blen, &s.f, &binfo, &berr);
		CHECK(brc == rc && strcmp(berr.msg, err->msg) == 0 &&
			  (rc < 0 || (blen == *len && memcmp(buf, *img, blen) == 0 &&
				      memcmp(&binfo, info, sizeof binfo) == 0)),
		      "%s: replay in a fixed buffer gives the same result as the copying one", rel);
		free(buf);
	}
	unload(&s);
	return rc;
}

static int valid_clean_base(const uint8_t *img, uint32_t seq)
{
	return rp_regf_checksum(img) == u32(img + 508) && u32(img + 4) == seq &&
	       u32(img + 8) == seq && u32(img + 28) == 0;
}

static void test_new_dirty(void)
{
	uint8_t *img;
	size_t len, rlen;
	rp_regf_recovery info;
	rp_err err;
	int rc = recover_path("NewDirtyHive1/NewDirtyHive", &img, &len, &info, &err);
	CHECK(rc == 0, "NewDirtyHive1 replays (%s)", err.msg);
	if (rc)
		return;
	CHECK(info.was_dirty && info.primary_valid && !strcmp(info.log_format, "new"),
	      "NewDirtyHive1 is dirty, primary valid, new-format logs");
	CHECK(info.entries_applied == 4 && info.first_seq == 2 && info.last_seq == 5,
	      "NewDirtyHive1 applies 4 entries, seq 2-5 (got %u, %u-%u)", info.entries_applied,
	      info.first_seq, info.last_seq);
	CHECK(info.max_seq == 5, "NewDirtyHive1 max_seq is 5 (got %u)", info.max_seq);
	CHECK(strstr(info.detail, "LOG1, LOG2") != NULL, "detail names both logs: %s", info.detail);
	CHECK(valid_clean_base(img, 5), "replayed image has a consistent base block at seq 5/5");
	char *rpath = wm("NewDirtyHive1/RecoveredHive_Windows10");
	uint8_t *win = slurp(rpath, &rlen);
	free(rpath);
	CHECK(win && rlen >= len && memcmp(img + 4096, win + 4096, len - 4096) == 0,
	      "NewDirtyHive1 replay equals RecoveredHive_Windows10 in every byte of the bins");
	rp_err cerr = {0};
	CHECK(rp_regf_check(img, len, &cerr) == 0, "replayed NewDirtyHive1 passes the check (%s)",
	      cerr.msg);

	/* finalize with max_seq + 1: what Windows 10 wrote (6/6) */
	size_t flen = len;
	rc = rp_regf_finalize(img, &flen, info.max_seq + 1, &err);
	CHECK(rc == 0 && flen == len && valid_clean_base(img, 6),
	      "finalize writes seq 6/6, type 0, valid checksum");
	CHECK(win && memcmp(img, win, 512) == 0,
	      "finalized base block equals Windows 10's own (first 512 bytes)");

	/* A later replay (Windows at boot) sees a clean hive and ignores the logs. */
	sample s;
	char *path = wm("NewDirtyHive1/NewDirtyHive");
	load(&s, path);
	free(path);
	s.f.primary = img;
	s.f.primary_len = flen;
	uint8_t *again;
	size_t alen;
	rp_regf_recovery info2;
	rc = rp_regf_recover(&s.f, &again, &alen, &info2, &err);
	CHECK(rc == 0 && !info2.was_dirty && alen == flen && !memcmp(again, img, alen),
	      "a later replay of the same logs leaves the finalized hive unchanged");
	if (rc == 0)
		free(again);

	/* Independent readers open the finalized file. */
	char *out = rp_xasprintf("%s/final.hive", tmpdir);
	CHECK(spill(out, img, flen) == 0, "finalized hive written");
	hive_h *h = hivex_open(out, 0);
	int kids = -1;
	if (h) {
		hive_node_h root = hivex_root(h);
		hive_node_h *ch = hivex_node_children(h, root);
		for (kids = 0; ch && ch[kids]; kids++)
			;
		free(ch);
		hivex_close(h);
	}
	CHECK(h != NULL && kids == 1, "hivex opens the finalized hive (root subkeys: %d)", kids);
	char *cmd = rp_xasprintf(
	    "regfinfo %s >/dev/null 2>&1 && regfexport %s 2>&1 | grep -q Key3_1", out, out);
	CHECK(system(cmd) == 0, "regfinfo and regfexport read the finalized hive and see Key3_1");
	free(cmd);
	unlink(out);
	free(out);

	/* Ordering is by sequence number, not by file name. */
	unload(&s);
	path = wm("NewDirtyHive1/NewDirtyHive");
	load(&s, path);
	free(path);
	const uint8_t *t = s.f.log1;
	size_t tl = s.f.log1_len;
	s.f.log1 = s.f.log2;
	s.f.log1_len = s.f.log2_len;
	s.f.log2 = t;
	s.f.log2_len = tl;
	rc = rp_regf_recover(&s.f, &again, &alen, &info2, &err);
	CHECK(rc == 0 && info2.last_seq == 5 && info2.entries_applied == 4 && alen == len &&
		  !memcmp(again + 4096, win + 4096, len - 4096),
	      "swapped LOG1/LOG2 replay the same way");
	if (rc == 0)
		free(again);

	/* Stop rules: a bad hash in LOG2's second entry keeps entries 2-3 only. */
	uint8_t *l2 = rp_xmalloc(s.f.log1_len);
	memcpy(l2, s.l2, s.f.log1_len); /* LOG2 sits in log1 after the swap */
	size_t second = 512 + u32(l2 + 512 + 4);
	l2[second + 100] ^= 0x55;
	s.f.log1 = l2;
	rc = rp_regf_recover(&s.f, &again, &alen, &info2, &err);
	CHECK(rc == 0 && info2.last_seq == 3 && info2.entries_applied == 2,
	      "a damaged entry stops the replay after seq 3 (rc %d, last %u)", rc, info2.last_seq);
	if (rc == 0)
		free(again);
	/* A log cut inside an entry stops before it. */
	s.f.log1 = s.l2;
	s.f.log1_len = second + 512;
	rc = rp_regf_recover(&s.f, &again, &alen, &info2, &err);
	CHECK(rc == 0 && info2.last_seq == 3, "a truncated entry stops the replay (last %u)",
	      info2.last_seq);
	if (rc == 0)
		free(again);
	free(l2);

	/* Dirty with no logs: the primary is all there is. */
	s.f.log1 = s.f.log2 = NULL;
	s.f.log1_len = s.f.log2_len = 0;
	rc = rp_regf_recover(&s.f, &again, &alen, &info2, &err);
	CHECK(rc == 0 && info2.dirty_without_logs && valid_clean_base(again, 3),
	      "dirty hive without logs: proceeds, dirty_without_logs, seq 3/3 (%s)", info2.detail);
	if (rc == 0)
		free(again);
	uint8_t zero = 0;
	s.f.log1 = &zero; /* present but 0 bytes */
	rc = rp_regf_recover(&s.f, &again, &alen, &info2, &err);
	CHECK(rc == 0 && info2.dirty_without_logs && !info2.logs_present,
	      "0-byte logs count as no logs");
	if (rc == 0)
		free(again);
	unload(&s);
	free(win);
	free(img);

	rc = recover_path("NewDirtyHive2/NewDirtyHive", &img, &len, &info, &err);
	CHECK(rc == 0 && info.entries_applied == 3 && info.first_seq == 3 && info.last_seq == 5 &&
		  strstr(info.detail, "LOG1") == NULL,
	      "NewDirtyHive2 skips LOG1 and applies LOG2's 3-5 (%s)", rc ? err.msg : info.detail);
	if (rc == 0)
		free(img);
}

static void test_old_dirty(void)
{
	uint8_t *img, *bb_img;
	size_t len, rlen, bb_len;
	rp_regf_recovery info;
	rp_err err;
	int rc = recover_path("OldDirtyHive/OldDirtyHive", &img, &len, &info, &err);
	CHECK(rc == 0 && !strcmp(info.log_format, "old") && info.last_seq == 5 &&
		  info.entries_applied == 64,
	      "OldDirtyHive replays 64 pages from old-format LOG1 (%s)",
	      rc ? err.msg : info.detail);
	if (rc)
		return;
	char *rpath = wm("OldDirtyHive/RecoveredHive_Windows7");
	uint8_t *win = slurp(rpath, &rlen);
	free(rpath);
	/* The documented differences (docs/hive-integrity.md): the first bin's timestamp
	 * (file offsets 4116-4123), which Windows 7 updates when it writes, and key 4500's
	 * largest-value-name-length field (file offset 0x6BDC8), which Windows 7's load-time
	 * check recomputed from the log's stale 24 to 2. */
	size_t other = 0, ts = 0, lvn = 0;
	for (size_t i = 4096; win && i < len && i < rlen; i++) {
		if (img[i] == win[i])
			continue;
		if (i >= 4116 && i < 4124)
			ts++;
		else if (i == 0x6BDC8 && img[i] == 24 && win[i] == 2)
			lvn++;
		else
			other++;
	}
	CHECK(win && ts > 0 && lvn == 1 && other == 0,
	      "OldDirtyHive differs from RecoveredHive_Windows7 only in the documented bytes "
	      "(timestamp %zu, largest value name %zu, other %zu)",
	      ts, lvn, other);
	rp_err cerr = {0};
	CHECK(rp_regf_check(img, len, &cerr) == 0, "replayed OldDirtyHive passes the check (%s)",
	      cerr.msg);
	free(win);

	rc = recover_path("BadBaseBlockHive/BadBaseBlockHive", &bb_img, &bb_len, &info, &err);
	CHECK(rc == 0 && info.base_from_log && !info.primary_valid && info.last_seq == 5,
	      "BadBaseBlockHive recovers from LOG1 with the log's base block (%s)",
	      rc ? err.msg : info.detail);
	if (rc == 0) {
		CHECK(bb_len == len && !memcmp(bb_img + 4096, img + 4096, len - 4096) &&
			  u32(bb_img + 24) == 3,
		      "BadBaseBlockHive's bins equal OldDirtyHive's replay, version 1.3 from the "
		      "log");
		free(bb_img);
	}
	free(img);
}

static void test_refusals(void)
{
	const char *bad[] = {"BadLogHive1/BadLogHive", "BadLogHive2/BadLogHive",
			     "BadLogHive3/BadLogHive"};
	for (int i = 0; i < 3; i++) {
		uint8_t *img = NULL;
		size_t len;
		rp_regf_recovery info;
		rp_err err;
		int rc = recover_path(bad[i], &img, &len, &info, &err);
		CHECK(rc == -1 && err.exit_code == 3 && strstr(err.msg, "unusable") &&
			  strstr(err.msg, "RegBack") && img == NULL,
		      "%s refused: %s", bad[i], err.msg);
	}
	const char *reject[] = {"TruncatedHive",	 "TruncatedDirtyHive",
				"TruncatedHiveBin",	 "InvalidParentFragment",
				"OldLogWithRemnantData", "GarbageHive",
				"EffectiveSizeHive"};
	for (size_t i = 0; i < sizeof reject / sizeof *reject; i++) {
		uint8_t *img = NULL;
		size_t len;
		rp_regf_recovery info;
		rp_err err;
		int rc = recover_path(reject[i], &img, &len, &info, &err);
		CHECK(rc == -1 && err.exit_code == 3, "%s refused by recover: %s", reject[i],
		      err.msg);
		free(img);
	}
}

static void test_check_samples(void)
{
	const char *corrupt[] = {
	    "DuplicateSubkeysHive", "InvalidParentHive", "WrongOrderHive",	    "BadListHive",
	    "BadSubkeyHive",	    "TruncatedNameHive", "DeletedDataHiveTruncated"};
	for (size_t i = 0; i < sizeof corrupt / sizeof *corrupt; i++) {
		uint8_t *img;
		size_t len;
		rp_regf_recovery info;
		rp_err err;
		int rc = recover_path(corrupt[i], &img, &len, &info, &err);
		if (rc == 0) {
			memset(&err, 0, sizeof err);
			rc = rp_regf_check(img, len, &err);
			free(img);
		}
		CHECK(rc == -1 && err.exit_code == 3 && strstr(err.msg, "0x"), "%s rejected: %s",
		      corrupt[i], err.msg);
	}
	const char *good[] = {"EmptyHive",
			      "OffHive",
			      "BigDataHive",
			      "ManySubkeysHive",
			      "SlackHive",
			      "UnicodeHive",
			      "ExtendedASCIIHive",
			      "CompHive",
			      "UpcaseHive",
			      "PairHive",
			      "TruncatedPairHive",
			      "TruncatedPairHive2",
			      "BogusKeyNamesHive",
			      "NewFlagsHive",
			      "MultiSzHive",
			      "StringValuesHive",
			      "ValuesOrderHive",
			      "TwoOwnersHive",
			      "System_Delta",
			      "HealedHive",
			      "DeletedDataHive",
			      "DeletedTreeHive",
			      "DeletedTreeNoRootFlagHive",
			      "DeletedTreePartialPathHive",
			      "DupNameHive",
			      "ReallocValueHive",
			      "ReallocValueDataHive",
			      "RemnantsHive",
			      "RemnantData"};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		uint8_t *img;
		size_t len;
		rp_regf_recovery info;
		rp_err err;
		int rc = recover_path(good[i], &img, &len, &info, &err);
		if (rc == 0) {
			rc = rp_regf_check(img, len, &err);
			free(img);
		}
		CHECK(rc == 0, "%s accepted (%s)", good[i], rc ? err.msg : "ok");
	}
}

static void test_real_system(void)
{
	char *sys = rp_xasprintf("%s/SYSTEM", tmpdir), *bad = rp_xasprintf("%s/corrupted", tmpdir);
	char *cmd = rp_xasprintf("xz -dkc %s/hives/real/win7-sp1-x86-SYSTEM.xz > %s && xz -dkc "
				 "%s/hives/real/corrupted-SYSTEM.xz > %s",
				 test_shared_dir(), sys, test_shared_dir(), bad);
	CHECK(system(cmd) == 0, "real SYSTEM samples decompressed");
	free(cmd);
	sample s;
	load(&s, sys);
	uint8_t *img;
	size_t len;
	rp_regf_recovery info;
	rp_err err = {0};
	int rc = rp_regf_recover(&s.f, &img, &len, &info, &err);
	CHECK(rc == 0 && !info.was_dirty && len == 4096 + 0xB39000 && info.max_seq == 13983,
	      "real Win7 SYSTEM is clean, 0xB39000 of bins, max_seq 13983");
	if (rc == 0) {
		CHECK(rp_regf_check(img, len, &err) == 0, "real Win7 SYSTEM passes the check (%s)",
		      err.msg);
		free(img);
	}
	unload(&s);
	load(&s, bad);
	memset(&err, 0, sizeof err);
	rc = rp_regf_recover(&s.f, &img, &len, &info, &err);
	CHECK(rc == -1 && err.exit_code == 3 && strstr(err.msg, "0x1a000"),
	      "corrupted-SYSTEM refused: %s", err.msg);
	unload(&s);

	/* rp-mklogs: a dirty SYSTEM with new-format logs made from SYSTEM and a copy with a few
	 * hundred keys merged in by hivexregedit; the replay must give NEW's bins exactly. */
	char *reg = rp_xasprintf("%s/add.reg", tmpdir), *newh = rp_xasprintf("%s/NEW", tmpdir);
	FILE *f = fopen(reg, "w");
	fprintf(f, "Windows Registry Editor Version 5.00\r\n\r\n");
	for (int i = 0; i < 300; i++)
		fprintf(f,
			"[\\ControlSet001\\Services\\RpTest%04d]\r\n\"Value\"=dword:%08x\r\n\r\n",
			i, i);
	fclose(f);
	cmd = rp_xasprintf("cp %s %s && hivexregedit --merge %s --prefix "
			   "'HKEY_LOCAL_MACHINE\\SYSTEM' %s",
			   sys, newh, newh, reg);
	CHECK(system(cmd) == 0, "hivexregedit merged 300 keys into a copy of SYSTEM");
	free(cmd);
	sample n;
	load(&n, newh);
	uint8_t *nimg;
	size_t nlen;
	rc = rp_regf_recover(&n.f, &nimg, &nlen, &info, &err);
	unload(&n);
	CHECK(rc == 0, "NEW loads (%s)", err.msg);
	for (int split = 0; rc == 0 && split < 2; split++) {
		cmd = rp_xasprintf("%s/tests/rp-mklogs %s %s %s DIRTY%d %s >/dev/null", build_dir,
				   sys, newh, tmpdir, split, split ? "--split" : "");
		CHECK(system(cmd) == 0, "rp-mklogs %s", split ? "--split" : "(one log)");
		free(cmd);
		char *d = rp_xasprintf("%s/DIRTY%d", tmpdir, split);
		load(&s, d);
		memset(&err, 0, sizeof err);
		int r2 = rp_regf_recover(&s.f, &img, &len, &info, &err);
		CHECK(r2 == 0 && info.was_dirty && info.first_seq == 13983 &&
			  info.entries_applied >= 2 && len == nlen &&
			  !memcmp(img + 4096, nimg + 4096, nlen - 4096),
		      "replaying rp-mklogs' logs (%s) gives NEW's bins exactly: %s",
		      split ? "LOG1+LOG2" : "LOG1", r2 ? err.msg : info.detail);
		if (r2 == 0) {
			CHECK(rp_regf_check(img, len, &err) == 0,
			      "replayed SYSTEM passes the check");
			size_t flen = len;
			uint8_t *again;
			size_t alen;
			rp_regf_recovery i2;
			CHECK(rp_regf_finalize(img, &flen, info.max_seq + 1, &err) == 0,
			      "finalize the replayed SYSTEM");
			s.f.primary = img;
			s.f.primary_len = flen;
			r2 = rp_regf_recover(&s.f, &again, &alen, &i2, &err);
			CHECK(r2 == 0 && !i2.was_dirty && alen == flen && !memcmp(again, img, alen),
			      "a later boot-time replay leaves the finalized SYSTEM unchanged");
			if (r2 == 0)
				free(again);
			free(img);
		}
		unload(&s);
		free(d);
	}
	if (rc == 0)
		free(nimg);
	free(reg);
	free(newh);
	free(sys);
	free(bad);
}

static void test_checksum_and_marvin(void)
{
	uint8_t bb[4096] = {0};
	memcpy(bb, "regf", 4);
	w32(bb + 12, u32((const uint8_t *)"regf")); /* XOR of the first 508 bytes: 0 */
	CHECK(rp_regf_checksum(bb) == 1, "XOR 0 is stored as 1");
	w32(bb + 12, u32((const uint8_t *)"regf") ^ 0xFFFFFFFFu);
	CHECK(rp_regf_checksum(bb) == 0xFFFFFFFEu, "XOR 0xFFFFFFFF is stored as 0xFFFFFFFE");
	w32(bb + 12, 0x1234);
	CHECK(rp_regf_checksum(bb) == (0x1234u ^ u32((const uint8_t *)"regf")),
	      "ordinary XOR is stored as is");

	/* A real hive whose XOR is 0: valid with 1 stored, dirty with the raw 0 (hivex's bug). */
	char *path = wm("EmptyHive");
	size_t len;
	uint8_t *h = slurp(path, &len);
	free(path);
	w32(h + 12, 0);
	uint32_t x = 0;
	for (int off = 0; off < 508; off += 4)
		x ^= u32(h + off);
	w32(h + 12, x);
	w32(h + 508, 1);
	rp_regf_files f = {.primary = h, .primary_len = len};
	uint8_t *img;
	size_t ilen;
	rp_regf_recovery info;
	rp_err err = {0};
	int rc = rp_regf_recover(&f, &img, &ilen, &info, &err);
	CHECK(rc == 0 && !info.was_dirty, "EmptyHive with XOR 0 and checksum 1 is clean");
	if (rc == 0)
		free(img);
	w32(h + 508, 0);
	rc = rp_regf_recover(&f, &img, &ilen, &info, &err);
	CHECK(rc == -1, "the raw XOR 0 stored as checksum is a bad base block (refused: %s)",
	      err.msg);
	free(h);

	/* Marvin32 against the hashes Windows stored in its log entries. */
	path = wm("NewDirtyHive1/NewDirtyHive.LOG2");
	uint8_t *log = slurp(path, &len);
	free(path);
	int entries = 0, good = 0;
	for (size_t pos = 512; log && pos + 40 <= len && !memcmp(log + pos, "HvLE", 4);) {
		uint32_t size = u32(log + pos + 4);
		if (size < 512 || size > len - pos)
			break;
		uint64_t h1 = (uint64_t)u32(log + pos + 28) << 32 | u32(log + pos + 24);
		uint64_t h2 = (uint64_t)u32(log + pos + 36) << 32 | u32(log + pos + 32);
		entries++;
		good += rp_regf_marvin32(log + pos + 40, size - 40) == h1 &&
			rp_regf_marvin32(log + pos, 32) == h2;
		pos += size;
	}
	CHECK(entries == 3 && good == 3, "Marvin32 matches both hashes of LOG2's %d entries",
	      entries);
	free(log);
	rp_regf_log_info li;
	path = wm("BadLogHive3/BadLogHive.LOG2");
	log = slurp(path, &len);
	free(path);
	rp_regf_describe_log(log, len, &li);
	CHECK(!li.base_valid && strstr(li.problem, "checksum"),
	      "describe_log: BadLogHive3's LOG2 base block is invalid (%s)", li.problem);
	free(log);
}

int main(int argc, char **argv)
{
	(void)argc;
	build_dir = getenv("BUILD") ? getenv("BUILD") : "build";
	(void)argv;
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_checksum_and_marvin();
	test_new_dirty();
	test_old_dirty();
	test_refusals();
	test_check_samples();
	test_real_system();
	char *cmd = rp_xasprintf("rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	free(cmd);
	TEST_DONE();
}
