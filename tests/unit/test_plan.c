/*
 * test_plan.c — plan/: a fix that edits a hive and a Registry.pol, sets security descriptors and
 * quarantines files on a real NTFS disk image, then an undo that restores every byte and SD.
 *
 * The changes are planned by hand here (not by a check), so that every change kind and the
 * planner's rules (weakening changes held back, quarantine wins over a new SD, dry run writes
 * nothing) are tested on their own.  The disk is the "healthy" scenario built by
 * tests/lib/scenario.sh; files are put on it with rp-testfs (our vol layer).
 */
#include "util/file.h"
#include "checks/checks.h"
#include "plan/plan.h"
#include "reg/pol.h"
#include "sd/sd.h"
#include "test.h"
#include "util/hash.h"
#include "util/text.h"

#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/rp-test-plan-XXXXXX";
#include "disk_fixture.h"

#define POL "Windows/System32/GroupPolicy/Machine/Registry.pol"
#define KEYS "ProgramData/Microsoft/Crypto/RSA/MachineKeys"
#define TS_POL "Software\\Policies\\Microsoft\\Windows NT\\Terminal Services"
#define FOLDER_SDDL "O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)"
#define BROKEN_SDDL "O:SYG:SYD:PAI(A;;FA;;;BA)"
#define KEY_SDDL "O:SYG:SYD:P(A;;FA;;;SY)(A;;GR;;;NS)"

static char tools[512], repo[512]; /* the tools' folder; the checkout (the cwd) */

static int write_local(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int sd_from(const char *sddl, uint8_t **buf, size_t *len)
{
	rp_sd sd;
	if (rp_sd_from_sddl(sddl, &sd, NULL) < 0)
		return -1;
	int rc = rp_sd_build(&sd, buf, len, NULL);
	rp_sd_free(&sd);
	return rc;
}

static int put_sd(const char *vpath, const char *sddl)
{
	uint8_t *sd = NULL;
	size_t len = 0;
	if (sd_from(sddl, &sd, &len) < 0 || write_local(in_dir("sd.bin"), sd, len) < 0)
		return -1;
	free(sd);
	return sh("'%s/rp-testfs' disk.img setsd '%s' sd.bin", tools, vpath);
}

static int make_disk(void)
{
	rp_pol pol = {.version = 1};
	uint8_t one[4] = {1, 0, 0, 0}, two[4] = {2, 0, 0, 0};
	rp_pol_set(&pol, TS_POL, "fDenyTSConnections", RP_REG_DWORD, one, 4);
	rp_pol_set(&pol, TS_POL, "SecurityLayer", RP_REG_DWORD, two, 4);
	rp_pol_set(&pol, "Software\\Policies\\Other", "Kept", RP_REG_SZ, (const uint8_t *)"x\0\0",
		   4);
	uint8_t *buf;
	size_t len;
	rp_pol_serialize(&pol, &buf, &len);
	rp_pol_free(&pol);
	int rc = write_local(in_dir("Registry.pol"), buf, len);
	free(buf);
	uint8_t key[100], zero[64] = {0};
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	if (rc < 0 || write_local(in_dir("sound"), key, sizeof key) < 0 ||
	    write_local(in_dir("empty"), key, 0) < 0 ||
	    write_local(in_dir("zeros"), zero, sizeof zero) < 0)
		return -1;
	const char *cwd = repo;
	if (sh("T='%s' TOOLS='%s' SHARED='%s' HIVE_DIR='%s/hive' && . '%s/tests/lib/scenario.sh' "
	       "&& "
	       "scenario_disk healthy gpt disk.img >log 2>&1",
	       dir, tools, test_shared_dir(), cwd, cwd) != 0)
		return -1;
	if (sh("for f in sound empty zeros; do '%s/rp-testfs' disk.img put $f '%s/'$f || exit 1; "
	       "done && '%s/rp-testfs' disk.img put Registry.pol '%s'",
	       tools, KEYS, tools, POL) != 0)
		return -1;
	return put_sd(KEYS, BROKEN_SDDL) < 0 || put_sd(KEYS "/sound", KEY_SDDL) < 0 ? -1 : 0;
}

static void image_sha(char out[65])
{
	uint8_t *b = NULL;
	size_t n;
	out[0] = 0;
	if (rp_file_read(in_dir("disk.img"), &b, &n, 1, NULL) == 0)
		rp_sha256_hex(b, n, out);
	free(b);
}

typedef struct state {
	char pol[65], software[65], system[65], sound[65], empty[65], zeros[65];
	char keys_sd[65], sound_sd[65];
} state;

static void file_sha(rp_vol *vol, const char *path, char out[65], int sd)
{
	uint8_t *d = NULL;
	size_t n = 0;
	strcpy(out, "missing");
	if ((sd ? rp_vol_get_sd(vol, path, &d, &n, NULL) : rp_vol_read(vol, path, &d, &n, NULL)) ==
	    0)
		rp_sha256_hex(d, n, out);
	free(d);
}

static int read_state(rp_target *t, state *s)
{
	rp_vol *vol;
	const rp_install *inst;
	if (rp_target_open(t, 0, 0, &vol, &inst, NULL) < 0)
		return -1;
	file_sha(vol, POL, s->pol, 0);
	file_sha(vol, "Windows/System32/config/SOFTWARE", s->software, 0);
	file_sha(vol, "Windows/System32/config/SYSTEM", s->system, 0);
	file_sha(vol, KEYS "/sound", s->sound, 0);
	file_sha(vol, KEYS "/empty", s->empty, 0);
	file_sha(vol, KEYS "/zeros", s->zeros, 0);
	file_sha(vol, KEYS, s->keys_sd, 1);
	file_sha(vol, KEYS "/sound", s->sound_sd, 1);
	return rp_vol_close(vol, NULL);
}

/* The scan a check would have made: one problem finding carrying every kind of change. */
static int plan_changes(rp_target *t, rp_scan *scan, rp_registry *reg)
{
	const rp_install *inst;
	memset(scan, 0, sizeof *scan);
	memset(reg, 0, sizeof *reg);
	if (rp_target_open(t, 0, 0, &scan->vol, &inst, NULL) < 0 ||
	    rp_registry_load(scan->vol, reg, NULL) < 0)
		return -1;
	scan->reg = reg;
	rp_finding *f = rp_finding_add(scan, "test", RP_PROBLEM, RP_ERROR, "test", NULL);
	rp_change_pol_dword(f, POL, TS_POL, "fDenyTSConnections", 0, 0, "pol set");
	rp_change_pol_delete(f, POL, TS_POL, "SecurityLayer", "pol delete");
	rp_change_dword(f, "SOFTWARE", "Policies\\Microsoft\\Windows NT\\Terminal Services",
			"fDenyTSConnections", 0, 0, "reg set");
	uint8_t *sd;
	size_t len;
	if (sd_from(FOLDER_SDDL, &sd, &len) < 0)
		return -1;
	rp_change_file_sd(f, KEYS, sd, len, "folder sd");
	rp_change_file_sd(f, KEYS "/zeros", sd, len, "sd of a file also quarantined");
	free(sd);
	rp_change_quarantine(f, KEYS "/empty", "quarantine empty");
	rp_change_quarantine(f, KEYS "/zeros", "quarantine zeros");
	rp_change_pol_dword(f, POL, TS_POL, "UserAuthentication", 0, 1, "weakening: held back");
	rp_finding_add(scan, "test", RP_OK, RP_INFO, "healthy", NULL);
	rp_change_quarantine(&scan->findings[1], KEYS "/sound", "on an OK finding: never applied");
	return 0;
}

static void check_pol_after(rp_target *t)
{
	rp_vol *vol;
	const rp_install *inst;
	uint8_t *buf = NULL;
	size_t len = 0;
	rp_pol pol = {0};
	int ok = rp_target_open(t, 0, 0, &vol, &inst, NULL) == 0 &&
		 rp_vol_read(vol, POL, &buf, &len, NULL) == 0 &&
		 rp_pol_parse(buf, len, &pol, NULL) == 0;
	CHECK(ok, "the new Registry.pol parses");
	const rp_pol_entry *deny = ok ? rp_pol_find(&pol, TS_POL, "fDenyTSConnections") : NULL;
	CHECK(deny && deny->type == RP_REG_DWORD && deny->len == 4 && deny->data[0] == 0,
	      "Registry.pol: fDenyTSConnections set to 0");
	CHECK(ok && !rp_pol_find(&pol, TS_POL, "SecurityLayer"),
	      "Registry.pol: SecurityLayer gone");
	CHECK(ok && !rp_pol_find(&pol, TS_POL, "UserAuthentication"),
	      "Registry.pol: the weakening change was held back");
	CHECK(ok && rp_pol_find(&pol, "Software\\Policies\\Other", "Kept") && pol.nentries == 2,
	      "Registry.pol: the unrelated entry is kept");
	rp_value v = {0};
	rp_registry reg = {0};
	uint32_t d = 1;
	CHECK(ok && rp_registry_load(vol, &reg, NULL) == 0 &&
		  rp_hive_get(reg.software.hive,
			      "Policies\\Microsoft\\Windows NT\\Terminal Services",
			      "fDenyTSConnections", &v, NULL) == 1 &&
		  rp_value_dword(&v, &d) == 0 && d == 0,
	      "SOFTWARE policy value set in the same run");
	rp_value_free(&v);
	rp_registry_free(&reg);
	rp_pol_free(&pol);
	free(buf);
	rp_vol_close(vol, NULL);
}

/* The rescan after a fix: the hive the fix did not write (SYSTEM) is taken over, the written
 * one (SOFTWARE) read again and shows the change; the old registry keeps its strings. */
static void check_reload(rp_target *t, rp_registry *reg, const rp_plan_result *res)
{
	rp_vol *vol = NULL;
	const rp_install *inst;
	rp_registry again = {0};
	rp_hive *system = reg->system.hive;
	rp_err err = {0};
	int ok = rp_target_open(t, 0, 0, &vol, &inst, &err) == 0 &&
		 rp_registry_reload(vol, reg, (const char *const *)res->files, res->nfiles, &again,
				    &err) == 0;
	CHECK(ok, "reload after the fix: %s", err.msg);
	CHECK(ok && again.system.hive == system && !reg->system.hive && reg->system.path &&
		  strcmp(again.system.path, reg->system.path) == 0,
	      "reload: the unwritten SYSTEM is taken over, not read again");
	rp_value v = {0};
	uint32_t d = 1;
	CHECK(ok && !reg->software.hive && again.software.hive &&
		  rp_hive_get(again.software.hive,
			      "Policies\\Microsoft\\Windows NT\\Terminal Services",
			      "fDenyTSConnections", &v, NULL) == 1 &&
		  rp_value_dword(&v, &d) == 0 && d == 0,
	      "reload: the written SOFTWARE is read again and holds the change");
	rp_value_free(&v);
	CHECK(ok && reg->product && again.product && strcmp(reg->product, again.product) == 0 &&
		  strcmp(reg->ccs, again.ccs) == 0,
	      "reload: the old registry keeps its strings, the new one has the same");
	rp_registry_free(&again);
	rp_vol_close(vol, NULL);
}

int main(int argc, char **argv)
{
	(void)argc;
	char *self = rp_xstrdup(argv[0]);
	char *abs = realpath(dirname(self), NULL);
	snprintf(tools, sizeof tools, "%s", abs ? abs : ".");
	free(abs);
	free(self);
	if (!getcwd(repo, sizeof repo))
		repo[0] = 0;
	if (fixture_begin() < 0)
		return 1;
	CHECK(make_disk() == 0, "scenario disk with a Registry.pol and MachineKeys built");
	rp_target t = {0};
	CHECK(rp_target_probe(&t, in_dir("disk.img"), NULL) == 0, "disk probed");
	state before, after, undone;
	CHECK(read_state(&t, &before) == 0, "original state read");

	/* Dry run: computes everything, writes nothing. */
	char sha0[65], sha1[65];
	image_sha(sha0);
	rp_scan scan;
	rp_registry reg;
	rp_plan_opts opts = {.target = in_dir("disk.img"), .dry_run = 1};
	rp_plan_result res = {0};
	rp_err err = {0};
	CHECK(plan_changes(&t, &scan, &reg) == 0, "changes planned");
	CHECK(rp_plan_fix(&t, &scan, &opts, &res, &err) == 0, "dry run: %s", err.msg);
	CHECK(scan.vol == NULL, "fix closed the scan's volume");
	CHECK(res.changes == 6 && res.nfiles == 0, "dry run: 6 changes, no file written (%zu, %zu)",
	      res.changes, res.nfiles);
	image_sha(sha1);
	CHECK(strcmp(sha0, sha1) == 0, "dry run: the disk image is unchanged");
	rp_plan_result_free(&res);
	rp_scan_free(&scan);
	rp_registry_free(&reg);

	/* The fix, handing the read-back mount over for a re-scan. */
	opts.dry_run = 0;
	opts.keep_vol = 1;
	CHECK(plan_changes(&t, &scan, &reg) == 0, "changes planned again");
	CHECK(rp_plan_fix(&t, &scan, &opts, &res, &err) == 0, "fix: %s", err.msg);
	opts.keep_vol = 0;
	rp_stat gone = {.exists = 1};
	uint8_t *pol_now = NULL;
	size_t pol_len = 0;
	CHECK(scan.vol && rp_vol_stat(scan.vol, KEYS "/empty", &gone, &err) == 0 && !gone.exists &&
		  rp_vol_read(scan.vol, POL, &pol_now, &pol_len, &err) == 0 && pol_len > 0,
	      "keep_vol: fix hands over a read-only mount that holds the disk as written (%s)",
	      err.msg);
	free(pol_now);
	rp_vol_close(scan.vol, NULL);
	scan.vol = NULL;
	CHECK(res.nfiles == 5, "fix: SOFTWARE, Registry.pol, folder SD, 2 quarantined (%zu)",
	      res.nfiles);
	int noted = 0;
	for (size_t i = 0; i < res.nnotes; i++)
		noted |= strstr(res.notes[i], "zeros is quarantined") != NULL;
	CHECK(noted, "fix: a note says the quarantined file's SD change was dropped");
	check_reload(&t, &reg, &res);
	rp_plan_result_free(&res);
	rp_scan_free(&scan);
	rp_registry_free(&reg);
	CHECK(read_state(&t, &after) == 0, "state after the fix read");
	CHECK(strcmp(after.pol, before.pol) != 0, "Registry.pol replaced");
	CHECK(strcmp(after.software, before.software) != 0, "SOFTWARE replaced");
	CHECK(strcmp(after.system, before.system) == 0, "SYSTEM untouched");
	CHECK(strcmp(after.empty, "missing") == 0 && strcmp(after.zeros, "missing") == 0,
	      "both broken files quarantined");
	CHECK(strcmp(after.sound, before.sound) == 0 &&
		  strcmp(after.sound_sd, before.sound_sd) == 0,
	      "the sound key's bytes and SD untouched");
	uint8_t *want;
	size_t want_len;
	char want_sha[65];
	sd_from(FOLDER_SDDL, &want, &want_len);
	rp_sha256_hex(want, want_len, want_sha);
	free(want);
	CHECK(strcmp(after.keys_sd, want_sha) == 0, "folder SD is exactly the planned one");
	check_pol_after(&t);
	CHECK(sh("'%s/rp-testfs' disk.img ls rdprescue/backups | grep -q 'fix.tar.zst'", tools) ==
		  0,
	      "the backup is on the volume");

	/* Undo: every byte and SD back. */
	CHECK(rp_plan_undo(&t, &opts, &res, &err) == 0, "undo: %s", err.msg);
	rp_plan_result_free(&res);
	CHECK(read_state(&t, &undone) == 0, "state after undo read");
	CHECK(memcmp(&undone, &before, sizeof before) == 0,
	      "undo restored Registry.pol, SOFTWARE, SYSTEM, the quarantined files and both SDs");
	CHECK(rp_plan_undo(&t, &opts, &res, &err) == 0 && res.nfiles == 0,
	      "undo again: nothing left to restore (%s)", err.msg);
	rp_plan_result_free(&res);
	CHECK(sh("T='%s' . '%s/tests/lib/scenario.sh' && ntfs_check disk.img 2", dir, repo) == 0,
	      "ntfsfix -n finds the volume consistent");
	rp_target_free(&t);
	fixture_end();
	TEST_DONE();
}
