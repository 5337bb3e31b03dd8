/*
 * test_reg.c — src/reg/ on real hives: reads of the Windows 7 SYSTEM sample, in-place and hivex
 * edits read back through a fresh open and through libregf's regfexport (an independent reader),
 * the big-data refusal, value order, keys built from .reg text, .reg parsing of every form and
 * of bad lines, and an export / parse round trip.
 */
#include "reg/reg.h"
#include "regf/regf.h"
#include "test.h"
#include "util/file.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[4096];

static uint8_t *read_file(const char *path, size_t *len)
{
	uint8_t *data = NULL;
	return rp_file_read(path, &data, len, 1, NULL) == 0 ? data : NULL;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static uint8_t *load_sample(const char *rel, size_t *len)
{
	char path[8192];
	snprintf(path, sizeof path, "%s/hives/%s", test_shared_dir(), rel);
	return read_file(path, len);
}

/* The Windows 7 SYSTEM sample, decompressed into the scratch directory. */
static uint8_t *load_system(size_t *len)
{
	char cmd[16384], out[8192];
	snprintf(out, sizeof out, "%s/SYSTEM", tmpdir);
	snprintf(cmd, sizeof cmd, "xz -dkc '%s/hives/real/win7-sp1-x86-SYSTEM.xz' > '%s'",
		 test_shared_dir(), out);
	if (system(cmd) != 0)
		return NULL;
	uint8_t *img = read_file(out, len);
	unlink(out);
	return img;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The sequence number the tests seal their edits with. */
#define SEQ 7

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A clean base block, as rp_regf_finalize writes it (hive-format.md §3, §8): equal
 * sequence numbers, the hive-bins size, and the checksum with its two fixups. */
static void finalize(uint8_t *img, size_t len)
{
	uint32_t seq = le32(img + 4) > le32(img + 8) ? le32(img + 4) : le32(img + 8);
	put32(img + 4, seq + 1);
	put32(img + 8, seq + 1);
	put32(img + 40, (uint32_t)(len - 4096));
	uint32_t sum = 0;
	for (int i = 0; i < 508; i += 4)
		sum ^= le32(img + i);
	if (sum == 0xFFFFFFFF)
		sum = 0xFFFFFFFE;
	if (sum == 0)
		sum = 1;
	put32(img + 508, sum);
}

/* regfexport's "Data:" line for value of key in the hive image (written finalized to a temp
 * file), "<no key>" or "<no value>"; malloc'd. */
static char *regf_data(const uint8_t *image, size_t len, const char *key, const char *value)
{
	char path[8192], cmd[16384], line[4096], want[1024];
	snprintf(path, sizeof path, "%s/edited", tmpdir);
	uint8_t *copy = malloc(len);
	memcpy(copy, image, len);
	finalize(copy, len);
	int wrote = write_file(path, copy, len);
	free(copy);
	if (wrote < 0)
		return strdup("<write failed>");
	snprintf(cmd, sizeof cmd, "regfexport -K '%s' '%s' 2>&1", key, path);
	FILE *p = popen(cmd, "r");
	char *result = NULL;
	int in_value = 0, in_key = 1;
	while (p && fgets(line, sizeof line, p)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "No key with path", 16))
			result = result ? result : strdup("<no key>");
		if (!strncmp(line, "Key path:", 9) && in_key++ > 1)
			break; /* a subkey: stop */
		if (!strncmp(line, "Value: ", 7)) {
			const char *name = strchr(line + 7, ' ');
			in_value = name && !strcmp(name + 1, value);
		}
		if (in_value && !strncmp(line, "Data:", 5) && !result)
			result = strdup(line[5] == ' ' ? line + 6 : line + 5);
	}
	if (p)
		pclose(p);
	unlink(path);
	(void)want;
	return result ? result : strdup("<no value>");
}

static int get_dword(rp_hive *h, const char *key, const char *value, uint32_t *out)
{
	rp_err err = {0};
	rp_value v = {0};
	int found = rp_hive_get(h, key, value, &v, &err);
	int rc = found == 1 ? rp_value_dword(&v, out) : -1;
	rp_value_free(&v);
	return rc;
}

/* Keys and values in the subtree of key (the key included). */
static void count_subtree(rp_hive *h, const char *key, size_t *keys, size_t *values)
{
	rp_err err = {0};
	char **names;
	size_t n;
	(*keys)++;
	if (rp_hive_values(h, key, &names, &n, &err) == 0) {
		*values += n;
		rp_names_free(names, n);
	}
	if (rp_hive_subkeys(h, key, &names, &n, &err) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		char *child = malloc(strlen(key) + strlen(names[i]) + 2);
		sprintf(child, "%s\\%s", key, names[i]);
		count_subtree(h, child, keys, values);
		free(child);
	}
	rp_names_free(names, n);
}

#define TS "ControlSet001\\Control\\Terminal Server"
#define RDPTCP TS "\\WinStations\\RDP-Tcp"

static void test_system_reads(rp_hive *h)
{
	rp_err err = {0};
	uint32_t d = 99;
	CHECK(get_dword(h, "Select", "Current", &d) == 0 && d == 1, "SYSTEM Select\\Current = 1");
	d = 99;
	CHECK(get_dword(h, TS, "fDenyTSConnections", &d) == 0 && d == 0,
	      "SYSTEM fDenyTSConnections = 0");
	CHECK(get_dword(h, RDPTCP, "PortNumber", &d) == 0 && d == 3389,
	      "SYSTEM RDP-Tcp PortNumber = 3389");
	d = 99;
	CHECK(get_dword(h, "controlset001\\CONTROL\\terminal SERVER", "FDENYTSCONNECTIONS", &d) ==
		      0 &&
		  d == 0,
	      "case-insensitive key and value lookup");
	CHECK(rp_hive_key_exists(h, "\\ControlSet001\\\\Control\\Terminal Server\\", &err) == 1,
	      "empty components and a trailing backslash are ignored");
	CHECK(rp_hive_key_exists(h, "", &err) == 1, "\"\" is the root");
	CHECK(rp_hive_key_exists(h, "ControlSet001\\NoSuchKey", &err) == 0, "absent key: 0");
	rp_value v = {0};
	CHECK(rp_hive_get(h, TS, "NoSuchValue", &v, &err) == 0, "absent value: 0");
	CHECK(rp_hive_get(h, "NoSuchKey", "x", &v, &err) == 0, "value of an absent key: 0");
	CHECK(!err.msg[0], "no error for absent things (%s)", err.msg);

	CHECK(rp_hive_get(h, "ControlSet001\\Control\\ComputerName\\ComputerName", "ComputerName",
			  &v, &err) == 1,
	      "read ComputerName");
	char *s = rp_value_string(&v);
	CHECK(s && !strcmp(s, "WKS-WIN732BITA"), "ComputerName = WKS-WIN732BITA (%s)", s);
	char *shown = rp_value_format(&v);
	CHECK(!strcmp(shown, "\"WKS-WIN732BITA\""), "format of a REG_SZ (%s)", shown);
	uint32_t unused;
	CHECK(rp_value_dword(&v, &unused) < 0, "a REG_SZ is not a DWORD");
	free(shown);
	free(s);
	rp_value_free(&v);

	size_t keys = 0, values = 0;
	CHECK(rp_hive_count_keys(h, &keys, &values, &err) == 0 && keys == 30756,
	      "SYSTEM has 30,756 keys (%zu, %zu values)", keys, values);
	char **names;
	size_t n;
	CHECK(rp_hive_values(h, RDPTCP, &names, &n, &err) == 0 && n == 82,
	      "RDP-Tcp has 82 values (%zu)", n);
	rp_names_free(names, n);
	int found_cs = 0, found_select = 0;
	CHECK(rp_hive_subkeys(h, "", &names, &n, &err) == 0, "root subkeys listed");
	for (size_t i = 0; i < n; i++) {
		found_cs |= !strcmp(names[i], "ControlSet001");
		found_select |= !strcmp(names[i], "Select");
	}
	rp_names_free(names, n);
	CHECK(found_cs && found_select, "root subkeys include ControlSet001 and Select");
	rp_err_clear(&err);
	CHECK(rp_hive_subkeys(h, "NoSuchKey", &names, &n, &err) < 0 && strstr(err.msg, "NoSuchKey"),
	      "subkeys of an absent key: error naming it (%s)", err.msg);
}

static void test_value_format(void)
{
	uint8_t dw[4] = {1, 0, 0, 0}, big[100], q[8] = {0xff, 0, 0, 0, 0, 0, 0, 0};
	uint8_t ctl[] = {'a', 0, 0x1b, 0, '[', 0, 0, 0}, odd[] = {'h', 0, 'i', 0, '!'};
	uint8_t multi[] = {'a', 0, 0, 0, 'b', 0, 'c', 0, 0, 0, 0, 0};
	for (int i = 0; i < 100; i++)
		big[i] = (uint8_t)i;
	struct {
		rp_value v;
		const char *want;
	} cases[] = {
	    {{RP_REG_DWORD, dw, 4}, "0x00000001 (1)"},
	    {{RP_REG_QWORD, q, 8}, "0x00000000000000ff (255)"},
	    {{RP_REG_SZ, ctl, sizeof ctl}, "\"a\\x1b[\""},
	    {{RP_REG_SZ, odd, sizeof odd}, "\"hi\""},
	    {{RP_REG_MULTI_SZ, multi, sizeof multi}, "[\"a\", \"bc\"]"},
	    {{RP_REG_DWORD, dw, 3}, "hex(4):01,00,00"},
	    {{RP_REG_BINARY, big, 3}, "hex:00,01,02"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *s = rp_value_format(&cases[i].v);
		CHECK(!strcmp(s, cases[i].want), "format %s (got %s)", cases[i].want, s);
		free(s);
	}
	rp_value v = {RP_REG_BINARY, big, sizeof big};
	char *s = rp_value_format(&v);
	CHECK(strstr(s, ",3f... (100 bytes)") && !strstr(s, ",40"),
	      "binary over 64 bytes shows 64 and the size (%s)", s);
	free(s);
	char *str = rp_value_string(&(rp_value){RP_REG_EXPAND_SZ, odd, sizeof odd});
	CHECK(str && !strcmp(str, "hi"), "EXPAND_SZ with an odd length reads \"hi\"");
	free(str);
	CHECK(rp_value_string(&(rp_value){RP_REG_BINARY, odd, sizeof odd}) == NULL,
	      "no string from REG_BINARY");
	uint32_t d;
	CHECK(rp_value_dword(&(rp_value){RP_REG_DWORD_BE, dw, 4}, &d) < 0,
	      "REG_DWORD_BE is not read as a DWORD");
}

/* Sets key\value to the DWORD new_value alone and checks that only its 4 data bytes change. */
static void check_inplace(rp_hive *h, const char *key, const char *value, uint32_t new_value,
			  const char *regf_want)
{
	rp_err err = {0};
	size_t len;
	const uint8_t *orig = rp_hive_image(h, &len);
	uint8_t data[4];
	put32(data, new_value);
	rp_edit e = {RP_EDIT_SET, key, value, RP_REG_DWORD, data, 4};
	uint8_t *out = NULL;
	size_t out_len = 0;
	CHECK(rp_hive_apply(h, &e, 1, SEQ, &out, &out_len, NULL, &err) == 0,
	      "in-place set of %s (%s)", value, err.msg);
	if (!out)
		return;
	/* The base block is sealed (test_system_sealed); the hive bins are compared here. */
	size_t first = 0, last = 0, diff = 0;
	for (size_t i = 4096; out_len == len && i < len; i++)
		if (orig[i] != out[i]) {
			first = diff++ ? first : i;
			last = i;
		}
	/* The first changed byte lies in the data field: find the vk record (its data field is
	 * 8 bytes after "vk") that holds it. */
	size_t field = 0;
	for (size_t f = first; diff && f + 3 >= first && f >= 12 && !field; f--)
		if (!memcmp(out + f - 8, "vk", 2) && le32(out + f - 4) == 0x80000004)
			field = f;
	CHECK(out_len == len && diff >= 1 && diff <= 4 && field && last < field + 4 &&
		  !memcmp(out + field, data, 4),
	      "%s: only the 4 data bytes of its vk change (%zu bytes differ)", value, diff);
	rp_hive *edited;
	uint32_t d = 0;
	CHECK(rp_hive_open(&edited, "SYSTEM", out, out_len, &err) == 0 &&
		  get_dword(edited, key, value, &d) == 0 && d == new_value,
	      "%s reads %u after reopening", value, new_value);
	rp_hive_close(edited);
	char *shown = regf_data(out, out_len, key, value);
	CHECK(!strcmp(shown, regf_want), "regfexport reads %s = %s (%s)", value, regf_want, shown);
	free(shown);
	free(out);
}

static void test_system_inplace(rp_hive *h)
{
	check_inplace(h, TS, "fDenyTSConnections", 1, "1");
	/* 3389 -> 0x12345678 changes all four bytes */
	check_inplace(h, RDPTCP, "PortNumber", 0x12345678, "305419896");
	uint32_t d = 99;
	CHECK(get_dword(h, TS, "fDenyTSConnections", &d) == 0 && d == 0,
	      "the opened hive is unchanged");
}

/* rp_hive_apply returns its result sealed: a clean base block with the sequence number given
 * (sealing it again with that number changes nothing), and a reopened hive that holds those
 * bytes and reads every edit back: for an in-place edit alone and for a batch through hivex. */
static void check_sealed(rp_hive *h, const rp_edit *edits, size_t n, const char *what)
{
	rp_err err = {0};
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	rp_hive *check = NULL;
	const uint32_t seq = 0x1234;
	CHECK(rp_hive_apply(h, edits, n, seq, &sealed, &sealed_len, &check, &err) == 0 && check,
	      "%s: apply (%s)", what, err.msg);
	if (!sealed)
		return;
	uint32_t sum = 0;
	for (size_t i = 0; i < 508; i += 4)
		sum ^= le32(sealed + i);
	CHECK(le32(sealed + 4) == seq && le32(sealed + 8) == seq && le32(sealed + 508) == sum &&
		  le32(sealed + 40) == sealed_len - 4096,
	      "%s: a clean base block (sequence numbers %u, checksum, hive-bins size)", what, seq);
	uint8_t *again = malloc(sealed_len);
	size_t again_len = sealed_len;
	memcpy(again, sealed, sealed_len);
	CHECK(rp_regf_finalize(again, &again_len, seq, &err) == 0 && again_len == sealed_len &&
		  !memcmp(again, sealed, sealed_len),
	      "%s: sealing it again with %u changes no byte", what, seq);
	free(again);
	int back = 1;
	for (size_t i = 0; check && i < n; i++) {
		rp_value v = {0};
		back &= rp_hive_get(check, edits[i].key, edits[i].value, &v, &err) == 1 &&
			v.type == edits[i].type && v.len == edits[i].len &&
			!memcmp(v.data, edits[i].data, v.len);
		rp_value_free(&v);
	}
	size_t check_len = 0;
	CHECK(check && back && rp_hive_image(check, &check_len) && check_len == sealed_len &&
		  !memcmp(rp_hive_image(check, &check_len), sealed, sealed_len),
	      "%s: the hive handed back holds those bytes and reads every edit back", what);
	if (check)
		rp_hive_close(check);
	free(sealed);
}

static void test_system_sealed(rp_hive *h)
{
	uint8_t zero[4] = {0}, text[] = {'o', 0, 'k', 0, 0, 0};
	rp_edit inplace[] = {{RP_EDIT_SET, TS, "fDenyTSConnections", RP_REG_DWORD, zero, 4}};
	rp_edit batch[] = {
	    {RP_EDIT_SET, TS, "fDenyTSConnections", RP_REG_DWORD, zero, 4},
	    {RP_EDIT_SET, TS, "RdpRescueNote", RP_REG_SZ, text, sizeof text},
	};
	check_sealed(h, inplace, 1, "in place");
	check_sealed(h, batch, 2, "through hivex");
}

static void test_system_batch(rp_hive *h)
{
	rp_err err = {0};
	size_t keys0, values0, del_keys = 0, del_values = 0;
	rp_hive_count_keys(h, &keys0, &values0, &err);
	const char *doomed = "ControlSet002\\Control\\Terminal Server";
	count_subtree(h, doomed, &del_keys, &del_values);
	uint8_t one[4] = {1, 0, 0, 0}, seven[4] = {7, 0, 0, 0};
	uint8_t text[] = {'o', 0, 'k', 0, 0, 0};
	rp_edit edits[] = {
	    {RP_EDIT_SET, TS, "fDenyTSConnections", RP_REG_DWORD, one, 4},
	    {RP_EDIT_SET, TS, "RdpRescueNote", RP_REG_SZ, text, sizeof text},
	    {RP_EDIT_SET, "ControlSet001\\Services\\RdpRescueTest\\Sub", "V", RP_REG_DWORD, seven,
	     4},
	    {RP_EDIT_DELETE_VALUE, RDPTCP, "UserAuthentication", 0, NULL, 0},
	    {RP_EDIT_DELETE_VALUE, RDPTCP, "NoSuchValue", 0, NULL, 0},
	    {RP_EDIT_DELETE_KEY, doomed, NULL, 0, NULL, 0},
	    {RP_EDIT_DELETE_KEY, "ControlSet001\\NoSuchKey", NULL, 0, NULL, 0},
	};
	size_t n = sizeof edits / sizeof edits[0];
	uint8_t *out = NULL;
	size_t out_len = 0;
	CHECK(rp_hive_apply(h, edits, n, SEQ, &out, &out_len, NULL, &err) == 0,
	      "batch of hivex edits (%s)", err.msg);
	if (!out)
		return;
	CHECK(out_len == 4096 + le32(out + 40), "result is 4096 + hive-bins size (%zu)", out_len);
	rp_hive *e;
	if (rp_hive_open(&e, "SYSTEM", out, out_len, &err) < 0) {
		CHECK(0, "the edited hive reopens (%s)", err.msg);
		free(out);
		return;
	}
	uint32_t d = 0;
	CHECK(get_dword(e, TS, "fDenyTSConnections", &d) == 0 && d == 1,
	      "batch: fDenyTSConnections = 1");
	rp_value v = {0};
	CHECK(rp_hive_get(e, TS, "RdpRescueNote", &v, &err) == 1 && v.type == RP_REG_SZ &&
		  v.len == sizeof text && !memcmp(v.data, text, sizeof text),
	      "batch: new REG_SZ value reads back");
	rp_value_free(&v);
	CHECK(get_dword(e, "ControlSet001\\Services\\RdpRescueTest\\Sub", "V", &d) == 0 && d == 7,
	      "batch: value under a new key path reads back");
	CHECK(rp_hive_get(e, RDPTCP, "UserAuthentication", &v, &err) == 0,
	      "batch: deleted value is gone");
	CHECK(get_dword(e, RDPTCP, "PortNumber", &d) == 0 && d == 3389,
	      "batch: sibling value PortNumber kept");
	CHECK(rp_hive_key_exists(e, doomed, &err) == 0, "batch: deleted key is gone");
	CHECK(rp_hive_key_exists(e, "ControlSet002\\Control", &err) == 1,
	      "batch: parent of the deleted key kept");
	size_t keys1, values1;
	CHECK(rp_hive_count_keys(e, &keys1, &values1, &err) == 0 && keys1 == keys0 + 2 - del_keys &&
		  values1 == values0 + 2 - 1 - del_values,
	      "batch: key and value counts change only by the edits (%zu -> %zu keys, %zu -> %zu "
	      "values)",
	      keys0, keys1, values0, values1);
	rp_hive_close(e);

	char *s = regf_data(out, out_len, TS, "fDenyTSConnections");
	CHECK(!strcmp(s, "1"), "regfexport: fDenyTSConnections = 1 (%s)", s);
	free(s);
	s = regf_data(out, out_len, TS, "RdpRescueNote");
	CHECK(!strcmp(s, "ok"), "regfexport: RdpRescueNote = ok (%s)", s);
	free(s);
	s = regf_data(out, out_len, "ControlSet001\\Services\\RdpRescueTest\\Sub", "V");
	CHECK(!strcmp(s, "7"), "regfexport: new key's V = 7 (%s)", s);
	free(s);
	s = regf_data(out, out_len, RDPTCP, "UserAuthentication");
	CHECK(!strcmp(s, "<no value>"), "regfexport: UserAuthentication gone (%s)", s);
	free(s);
	s = regf_data(out, out_len, RDPTCP, "PortNumber");
	CHECK(!strcmp(s, "3389"), "regfexport: PortNumber = 3389 (%s)", s);
	free(s);
	s = regf_data(out, out_len, doomed, "x");
	CHECK(!strcmp(s, "<no key>"), "regfexport: deleted key absent (%s)", s);
	free(s);
	free(out);
}

/* Batches where in-place and hivex edits meet: the result must follow the batch order. */
static void test_system_order(rp_hive *h)
{
	rp_err err = {0};
	uint8_t one[4] = {1, 0, 0, 0}, zero[4] = {0}, port[4] = {0x3d, 0x0d, 0, 0};
	uint8_t text[] = {'x', 0, 0, 0};
	const char *winstations = TS "\\WinStations";
	rp_edit edits[] = {
	    /* in place, then hivex rewrites the same key: the new DWORD must survive */
	    {RP_EDIT_SET, TS, "fDenyTSConnections", RP_REG_DWORD, one, 4},
	    {RP_EDIT_SET, TS, "Other", RP_REG_SZ, text, sizeof text},
	    /* delete then set an existing inline DWORD: must end present */
	    {RP_EDIT_DELETE_VALUE, TS, "fSingleSessionPerUser", 0, NULL, 0},
	    {RP_EDIT_SET, TS, "fSingleSessionPerUser", RP_REG_DWORD, zero, 4},
	    /* delete a key, then set a value below it: recreated with that value only */
	    {RP_EDIT_DELETE_KEY, winstations, NULL, 0, NULL, 0},
	    {RP_EDIT_SET, RDPTCP, "PortNumber", RP_REG_DWORD, port, 4},
	};
	uint8_t *out = NULL;
	size_t out_len;
	CHECK(rp_hive_apply(h, edits, sizeof edits / sizeof edits[0], SEQ, &out, &out_len, NULL,
			    &err) == 0,
	      "mixed-order batch (%s)", err.msg);
	rp_hive *e;
	if (!out || rp_hive_open(&e, "SYSTEM", out, out_len, &err) < 0) {
		free(out);
		return;
	}
	uint32_t d = 0;
	CHECK(get_dword(e, TS, "fDenyTSConnections", &d) == 0 && d == 1,
	      "order: in-place DWORD survives a hivex rewrite of its key");
	d = 1;
	CHECK(get_dword(e, TS, "fSingleSessionPerUser", &d) == 0 && d == 0,
	      "order: delete then set leaves the value set");
	char **names = NULL;
	size_t n = 0;
	CHECK(rp_hive_values(e, RDPTCP, &names, &n, &err) == 0 && n == 1 &&
		  !strcmp(names[0], "PortNumber") && get_dword(e, RDPTCP, "PortNumber", &d) == 0 &&
		  d == 3389,
	      "order: delete key then set recreates it with one value (%zu values)", n);
	rp_names_free(names, n);
	rp_hive_close(e);
	free(out);
}

static void test_refusals(rp_hive *h)
{
	rp_err err = {0};
	uint8_t one[4] = {1, 0, 0, 0};
	uint8_t *out = NULL;
	size_t out_len;
	rp_edit bad_name = {RP_EDIT_SET, "ControlSet001\\Caf\xc3\xa9", "V", RP_REG_DWORD, one, 4};
	CHECK(rp_hive_apply(h, &bad_name, 1, SEQ, &out, &out_len, NULL, &err) < 0 &&
		  err.exit_code == RP_EXIT_PROBLEMS && strstr(err.msg, "choose an ASCII name"),
	      "a non-ASCII new key name is refused (%s)", err.msg);
	rp_err_clear(&err);
	rp_edit root = {RP_EDIT_DELETE_KEY, "\\", NULL, 0, NULL, 0};
	CHECK(rp_hive_apply(h, &root, 1, SEQ, &out, &out_len, NULL, &err) < 0 &&
		  err.exit_code == RP_EXIT_PROBLEMS,
	      "deleting the root is refused (%s)", err.msg);
}

static rp_hive *open_sample(const char *rel, const char *name)
{
	size_t len;
	uint8_t *img = load_sample(rel, &len);
	rp_hive *h = NULL;
	rp_err err = {0};
	if (!img || rp_hive_open(&h, name, img, len, &err) < 0)
		h = NULL;
	free(img);
	CHECK(h != NULL, "open %s (%s)", rel, err.msg);
	return h;
}

static void test_bigdata(void)
{
	rp_hive *h = open_sample("windows-made/BigDataHive", "BigDataHive");
	if (!h)
		return;
	rp_err err = {0};
	rp_value v = {0};
	CHECK(rp_hive_get(h, "key_with_bigdata", "V", &v, &err) == 1 && v.len == 81725,
	      "BigDataHive: V reads 81,725 bytes (%zu)", v.len);
	rp_value_free(&v);
	/* Is there an inline DWORD on the key to edit in place? */
	char **names;
	size_t n;
	const char *dword_name = NULL;
	rp_hive_values(h, "key_with_bigdata", &names, &n, &err);
	for (size_t i = 0; i < n && !dword_name; i++) {
		if (rp_hive_get(h, "key_with_bigdata", names[i], &v, &err) == 1 &&
		    v.type == RP_REG_DWORD && v.len == 4)
			dword_name = names[i];
		rp_value_free(&v);
	}
	uint8_t two[4] = {2, 0, 0, 0};
	uint8_t *out = NULL;
	size_t out_len;
	if (dword_name) {
		rp_edit e = {RP_EDIT_SET, "key_with_bigdata", dword_name, RP_REG_DWORD, two, 4};
		CHECK(rp_hive_apply(h, &e, 1, SEQ, &out, &out_len, NULL, &err) == 0,
		      "BigDataHive: in-place DWORD on key_with_bigdata (%s)", err.msg);
		free(out);
	}
	rp_edit e = {RP_EDIT_SET, "key_with_bigdata", "NewDword", RP_REG_DWORD, two, 4};
	rp_err_clear(&err);
	CHECK(rp_hive_apply(h, &e, 1, SEQ, &out, &out_len, NULL, &err) < 0 &&
		  err.exit_code == RP_EXIT_PROBLEMS && strstr(err.msg, "cannot rewrite") &&
		  strstr(err.msg, "BigDataHive\\key_with_bigdata") && strstr(err.msg, "bytes"),
	      "BigDataHive: SET on key_with_bigdata refused (%s)", err.msg);
	rp_edit del = {RP_EDIT_DELETE_VALUE, "key_with_bigdata", "V", 0, NULL, 0};
	rp_err_clear(&err);
	CHECK(rp_hive_apply(h, &del, 1, SEQ, &out, &out_len, NULL, &err) < 0 &&
		  err.exit_code == RP_EXIT_PROBLEMS && strstr(err.msg, "16345 bytes"),
	      "BigDataHive: deleting V refused for its 16,345-byte sibling (%s)", err.msg);
	rp_names_free(names, n);
	rp_hive_close(h);
}

static void test_values_order(void)
{
	rp_hive *h = open_sample("windows-made/ValuesOrderHive", "ValuesOrderHive");
	if (!h)
		return;
	rp_err err = {0};
	uint8_t x[] = {'x', 0, 0, 0}, five[4] = {5, 0, 0, 0};
	rp_edit edits[] = {
	    {RP_EDIT_SET, "", "zzz", RP_REG_SZ, x, sizeof x},
	    {RP_EDIT_SET, "", "new", RP_REG_DWORD, five, 4},
	};
	uint8_t *out = NULL;
	size_t out_len;
	CHECK(rp_hive_apply(h, edits, 2, SEQ, &out, &out_len, NULL, &err) == 0,
	      "ValuesOrderHive: set (%s)", err.msg);
	rp_hive *e;
	char **names = NULL;
	size_t n = 0;
	if (out && rp_hive_open(&e, "ValuesOrderHive", out, out_len, &err) == 0) {
		rp_hive_values(e, "", &names, &n, &err);
		rp_hive_close(e);
	}
	CHECK(n == 4 && !strcmp(names[0], "aaa") && !strcmp(names[1], "zzz") &&
		  !strcmp(names[2], "bbb") && !strcmp(names[3], "new"),
	      "ValuesOrderHive: order aaa, zzz, bbb kept, new value appended");
	rp_names_free(names, n);
	free(out);
	rp_hive_close(h);
}

static int parse(const char *text, rp_regfile_entry **entries, size_t *n, rp_err *err)
{
	return rp_regfile_parse((const uint8_t *)text, strlen(text), entries, n, err);
}

static const char forms_reg[] = "\xef\xbb\xbfWindows Registry Editor Version 5.00\r\n"
				"\r\n"
				"; a comment\r\n"
				"[HKEY_LOCAL_MACHINE\\SYSTEM\\RdpRescue\\Forms]\r\n"
				"\"Str\"=\"a \\\"quoted\\\" C:\\\\path\"\r\n"
				"@=\"default\"\r\n"
				"\"Dw\"=dword:0000d3d\r\n"
				"\"Bin\"=hex:01,02,ab,\\\r\n"
				"  CD,ef\r\n"
				"\"Exp\"=hex(2):25,00,53,00,00,00\r\n"
				"\"Multi\"=hex(7):61,00,00,00,00,00\r\n"
				"\"Q\"=hex(b):01,00,00,00,00,00,00,00\r\n"
				"\"Empty\"=hex:\r\n"
				"\"Gone\"=-\r\n"
				"\r\n"
				"[-HKLM\\SOFTWARE\\Old\\Key]\r\n"
				"[HKEY_CURRENT_USER\\Software\\X]\r\n"
				"\"caf\xc3\xa9\"=\"\xc3\xa9t\xc3\xa9\"\r\n";

/* Drops the RP_EDIT_CREATE_KEY entries every [KEY] line gives (compacting en); how many. */
static size_t drop_creates(rp_regfile_entry *en, size_t *n)
{
	size_t k = 0, dropped = 0;
	for (size_t i = 0; i < *n; i++) {
		if (en[i].edit.kind == RP_EDIT_CREATE_KEY) {
			free(en[i].root);
			free((char *)en[i].edit.key);
			free((char *)en[i].edit.value);
			free((uint8_t *)en[i].edit.data);
			dropped++;
		} else {
			en[k++] = en[i];
		}
	}
	*n = k;
	return dropped;
}

static void test_regfile_forms(void)
{
	rp_err err = {0};
	rp_regfile_entry *en;
	size_t n;
	if (parse(forms_reg, &en, &n, &err) < 0) {
		CHECK(0, "parse the forms file (%s)", err.msg);
		return;
	}
	CHECK(en[0].edit.kind == RP_EDIT_CREATE_KEY && !strcmp(en[0].edit.key, "RdpRescue\\Forms"),
	      "[KEY] creates the key");
	size_t creates = drop_creates(en, &n);
	CHECK(creates == 2, "[KEY] lines give 2 create entries (%zu)", creates);
	CHECK(n == 11, "11 entries (%zu)", n);
	if (n != 11) {
		rp_regfile_free(en, n);
		return;
	}
	CHECK(!strcmp(en[0].root, "HKEY_LOCAL_MACHINE\\SYSTEM") &&
		  !strcmp(en[0].edit.key, "RdpRescue\\Forms"),
	      "HKLM root is two components, key the rest");
	const uint8_t str[] = "a\0 \0\"\0q\0u\0o\0t\0e\0d\0\"\0 \0C\0:\0\\\0p\0a\0t\0h\0\0";
	CHECK(en[0].edit.kind == RP_EDIT_SET && en[0].edit.type == RP_REG_SZ &&
		  !strcmp(en[0].edit.value, "Str") && en[0].edit.len == sizeof str &&
		  !memcmp(en[0].edit.data, str, sizeof str),
	      "string with escapes becomes UTF-16LE with a NUL");
	CHECK(!strcmp(en[1].edit.value, "") && en[1].edit.len == 16, "@ is the default value");
	CHECK(en[2].edit.type == RP_REG_DWORD && en[2].edit.len == 4 &&
		  le32(en[2].edit.data) == 0xd3d,
	      "dword: with 7 digits");
	const uint8_t bin[] = {1, 2, 0xab, 0xcd, 0xef};
	CHECK(en[3].edit.type == RP_REG_BINARY && en[3].edit.len == 5 &&
		  !memcmp(en[3].edit.data, bin, 5),
	      "hex: across a continuation line");
	CHECK(en[4].edit.type == RP_REG_EXPAND_SZ && en[4].edit.len == 6, "hex(2): EXPAND_SZ");
	CHECK(en[5].edit.type == RP_REG_MULTI_SZ && en[5].edit.len == 6, "hex(7): MULTI_SZ");
	CHECK(en[6].edit.type == RP_REG_QWORD && en[6].edit.len == 8 && en[6].edit.data[0] == 1,
	      "hex(b): QWORD");
	CHECK(en[7].edit.type == RP_REG_BINARY && en[7].edit.len == 0, "empty hex:");
	CHECK(en[8].edit.kind == RP_EDIT_DELETE_VALUE && !strcmp(en[8].edit.value, "Gone"),
	      "\"name\"=- deletes the value");
	CHECK(en[9].edit.kind == RP_EDIT_DELETE_KEY && !strcmp(en[9].root, "HKLM\\SOFTWARE") &&
		  !strcmp(en[9].edit.key, "Old\\Key"),
	      "[-KEY] deletes the key (HKLM short form)");
	CHECK(!strcmp(en[10].root, "HKEY_CURRENT_USER") && !strcmp(en[10].edit.key, "Software\\X"),
	      "other roots are one component");
	const uint8_t ete[] = {0xe9, 0, 't', 0, 0xe9, 0, 0, 0};
	CHECK(!strcmp(en[10].edit.value, "caf\xc3\xa9") && en[10].edit.len == 8 &&
		  !memcmp(en[10].edit.data, ete, 8),
	      "UTF-8 names and data");
	rp_regfile_free(en, n);
}

static void test_regfile_utf16(void)
{
	/* The forms file (without its UTF-8 BOM) as UTF-16LE with a BOM, and REGEDIT4 text. */
	const char *text = forms_reg + 3;
	size_t u16_len = 2;
	uint8_t *u16 = malloc(2 + strlen(text) * 2);
	u16[0] = 0xFF;
	u16[1] = 0xFE;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		unsigned cp = *p;
		if ((*p & 0xE0) == 0xC0) { /* the two-byte sequences of é */
			cp = (p[0] & 0x1Fu) << 6 | (p[1] & 0x3F);
			p++;
		}
		u16[u16_len++] = (uint8_t)cp;
		u16[u16_len++] = (uint8_t)(cp >> 8);
	}
	rp_err err = {0};
	rp_regfile_entry *a, *b;
	size_t na, nb;
	int ok = rp_regfile_parse(u16, u16_len, &a, &na, &err) == 0;
	CHECK(ok, "UTF-16LE .reg parses (%s)", err.msg);
	if (ok && NEED(parse(forms_reg, &b, &nb, &err) == 0, "UTF-16LE and UTF-8 compared")) {
		int same = na == nb;
		for (size_t i = 0; same && i < na; i++)
			same = !strcmp(a[i].root, b[i].root) &&
			       !strcmp(a[i].edit.key, b[i].edit.key) &&
			       a[i].edit.len == b[i].edit.len &&
			       (!a[i].edit.len ||
				!memcmp(a[i].edit.data, b[i].edit.data, a[i].edit.len));
		CHECK(same, "UTF-16LE and UTF-8 give the same entries");
		rp_regfile_free(b, nb);
	}
	if (ok)
		rp_regfile_free(a, na);
	u16[10] = 0;
	u16[11] = 0;
	rp_err_clear(&err);
	CHECK(rp_regfile_parse(u16, u16_len, &a, &na, &err) < 0 && strstr(err.msg, "line 1"),
	      "a NUL in UTF-16 text is refused with its line (%s)", err.msg);
	rp_err_clear(&err);
	CHECK(rp_regfile_parse(u16, u16_len - 1, &a, &na, &err) < 0, "odd UTF-16 length refused");
	free(u16);
	rp_err_clear(&err);
	CHECK(parse("REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\A]\n\"x\"=dword:1\n", &a, &na,
		    &err) == 0 &&
		  na == 2 && a[0].edit.kind == RP_EDIT_CREATE_KEY && !strcmp(a[1].edit.key, "A"),
	      "REGEDIT4 with LF line ends (%s)", err.msg);
	if (!err.msg[0])
		rp_regfile_free(a, na);
	rp_err_clear(&err);
	{
		/* ANSI: "caf\xe9" and hex(2) bytes 25 80 00 as regedit reads them */
		const uint8_t want_s[] = {'c', 0, 'a', 0, 'f', 0, 0xe9, 0, 0, 0};
		const uint8_t want_e[] = {0x25, 0, 0xac, 0x20, 0, 0};
		int good = parse("REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\r\n"
				 "\"s\"=\"caf\xe9\"\r\n\"e\"=hex(2):25,80,00\r\n",
				 &a, &na, &err) == 0 &&
			   na == 3;
		CHECK(good && a[1].edit.len == sizeof want_s &&
			  !memcmp(a[1].edit.data, want_s, sizeof want_s) &&
			  a[2].edit.len == sizeof want_e &&
			  !memcmp(a[2].edit.data, want_e, sizeof want_e),
		      "REGEDIT4 is ANSI (Windows-1252): strings and hex(2) become UTF-16LE (%s)",
		      err.msg);
		if (!err.msg[0])
			rp_regfile_free(a, na);
		a = NULL;
		na = 0;
	}
	if (!err.msg[0])
		rp_regfile_free(a, na);
}

static void test_regfile_errors(void)
{
	static const struct {
		const char *text;
		const char *line;
	} bad[] = {
	    {"Hello\n", "line 1"},
	    {"REGEDIT4\n\"x\"=dword:1\n", "line 2"},
	    {"REGEDIT4\n[HKLM\\SYSTEM\\A]\n\"x\"=dword:123456789\n", "line 3"},
	    {"REGEDIT4\n[HKLM\\SYSTEM\\A]\n\n\"x\"=hex:1,zz\n", "line 4"},
	    {"REGEDIT4\n[HKLM\\SYSTEM\\A]\n\"x\"=hex:01,\\\n 02,\\\n q\n", "line 3"},
	    {"REGEDIT4\n[HKLM\\SYSTEM\\A]\n\"x\"=hex:01,\\\n 02\n\"y\"=\"open\n", "line 5"},
	    {"REGEDIT4\n[HKLM\\SYSTEM\\A]\n\"x\"=\"a\\n\"\n", "line 3"},
	    {"REGEDIT4\n[HKLM\\SYSTEM\\A\n", "line 2"},
	    {"REGEDIT4\n[HKLM]\n", "line 2"},
	    {"REGEDIT4\n[-HKLM\\SYSTEM\\A]\n\"x\"=dword:1\n", "line 3"},
	    {"REGEDIT4\n[HKLM\\SYSTEM\\A]\n\"x\"=hex(zz):00\n", "line 3"},
	    {"REGEDIT4\n[HKLM\\SYSTEM\\A]\n\"x\"=word:1\n", "line 3"},
	    {"REGEDIT4\n[HKLM\\SYSTEM\\A]\n\"x\"=dword:1 junk\n", "line 3"},
	    {"REGEDIT4\n[HKLM\\SYSTEM\\A]\nrandom\n", "line 3"},
	    {"REGEDIT4\n[HKLM\\SYSTEM\\A]\n\"x\" dword:1\n", "line 3"},
	    {"", "empty"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rp_err err = {0};
		rp_regfile_entry *en = NULL;
		size_t n = 0;
		int rc = parse(bad[i].text, &en, &n, &err);
		CHECK(rc < 0 && strstr(err.msg, bad[i].line) && err.exit_code == RP_EXIT_USAGE &&
			  !en,
		      "bad .reg %zu refused naming %s (%s)", i, bad[i].line, err.msg);
	}
	rp_err err = {0};
	uint8_t nul[] = "REGEDIT4\n\n[HKLM\\SYSTEM\\A]\0\n";
	rp_regfile_entry *en;
	size_t n;
	CHECK(rp_regfile_parse(nul, sizeof nul - 1, &en, &n, &err) < 0 && strstr(err.msg, "line 3"),
	      "a NUL byte is refused with its line (%s)", err.msg);
}

/* Applies the entries of a .reg text to EmptyHive and checks every SET reads back. */
static void test_empty_hive_from_reg(void)
{
	rp_hive *h = open_sample("windows-made/EmptyHive", "EmptyHive");
	if (!h)
		return;
	const char *text = "Windows Registry Editor Version 5.00\n"
			   "[HKEY_LOCAL_MACHINE\\EmptyHive\\Policies\\Terminal Services]\n"
			   "\"fDenyTSConnections\"=dword:00000000\n"
			   "\"Note\"=\"built from .reg\"\n"
			   "[HKEY_LOCAL_MACHINE\\EmptyHive\\Policies\\Terminal Services\\Sub]\n"
			   "@=hex(2):25,00,00,00\n"
			   "\"Q\"=hex(b):ff,00,00,00,00,00,00,00\n"
			   "\"M\"=hex(7):61,00,00,00,00,00\n"
			   "[HKEY_LOCAL_MACHINE\\EmptyHive\\Other]\n"
			   "\"b\"=hex:00,01\n";
	rp_err err = {0};
	rp_regfile_entry *en;
	size_t n;
	if (parse(text, &en, &n, &err) < 0) {
		CHECK(0, "parse the EmptyHive .reg (%s)", err.msg);
		rp_hive_close(h);
		return;
	}
	rp_edit *edits = calloc(n, sizeof *edits);
	for (size_t i = 0; i < n; i++)
		edits[i] = en[i].edit;
	uint8_t *out = NULL;
	size_t out_len;
	CHECK(rp_hive_apply(h, edits, n, SEQ, &out, &out_len, NULL, &err) == 0,
	      "EmptyHive: apply (%s)", err.msg);
	rp_hive *e;
	if (NEED(out && rp_hive_open(&e, "EmptyHive", out, out_len, &err) == 0,
		 "EmptyHive: values, keys and regfexport after apply")) {
		int all = 1;
		for (size_t i = 0; i < n; i++) {
			rp_value v = {0};
			if (edits[i].kind == RP_EDIT_CREATE_KEY) {
				all &= rp_hive_key_exists(e, edits[i].key, &err) == 1;
				continue;
			}
			all &= rp_hive_get(e, edits[i].key, edits[i].value, &v, &err) == 1 &&
			       v.type == edits[i].type && v.len == edits[i].len &&
			       !memcmp(v.data, edits[i].data, v.len);
			rp_value_free(&v);
		}
		CHECK(all, "EmptyHive: every value from the .reg reads back");
		size_t keys;
		CHECK(rp_hive_count_keys(e, &keys, NULL, &err) == 0 && keys == 5,
		      "EmptyHive: root + 4 new keys (%zu)", keys);
		rp_hive_close(e);
		char *s = regf_data(out, out_len, "Policies\\Terminal Services", "Note");
		CHECK(!strcmp(s, "built from .reg"), "regfexport reads the new string (%s)", s);
		free(s);
	}
	free(out);
	free(edits);
	rp_regfile_free(en, n);
	rp_hive_close(h);
}

/* Export a subtree of SYSTEM, parse it back: the entries are exactly its values. */
static void test_roundtrip(rp_hive *h)
{
	rp_err err = {0};
	char *text = NULL;
	CHECK(rp_regfile_export(h, TS, "HKEY_LOCAL_MACHINE\\SYSTEM", &text, &err) == 0,
	      "export Terminal Server (%s)", err.msg);
	if (!text)
		return;
	CHECK(strstr(text, "[HKEY_LOCAL_MACHINE\\SYSTEM\\" TS "]\r\n") &&
		  strstr(text, "\"fDenyTSConnections\"=dword:00000000\r\n") &&
		  strstr(text, "\"PortNumber\"=dword:00000d3d\r\n"),
	      "export has the key line and DWORD forms");
	rp_regfile_entry *en;
	size_t n;
	if (parse(text, &en, &n, &err) < 0) {
		CHECK(0, "exported text parses back (%s)", err.msg);
		free(text);
		return;
	}
	size_t keys = 0, values = 0;
	count_subtree(h, TS, &keys, &values);
	size_t creates = drop_creates(en, &n);
	CHECK(creates == keys, "round trip: a create entry per key (%zu, %zu keys)", creates, keys);
	int same = n == values;
	for (size_t i = 0; i < n && same; i++) {
		rp_value v = {0};
		same = en[i].edit.kind == RP_EDIT_SET &&
		       !strcmp(en[i].root, "HKEY_LOCAL_MACHINE\\SYSTEM") &&
		       rp_hive_get(h, en[i].edit.key, en[i].edit.value, &v, &err) == 1 &&
		       v.type == en[i].edit.type && v.len == en[i].edit.len &&
		       !memcmp(v.data, en[i].edit.data, v.len);
		if (!same)
			printf("# mismatch at %s \\ %s\n", en[i].edit.key, en[i].edit.value);
		rp_value_free(&v);
	}
	CHECK(same, "round trip: %zu entries equal the %zu values of the subtree", n, values);
	rp_regfile_free(en, n);
	free(text);
	rp_err_clear(&err);
	CHECK(rp_regfile_export(h, "NoSuchKey", "HKLM\\SYSTEM", &text, &err) < 0 &&
		  strstr(err.msg, "NoSuchKey"),
	      "export of an absent key fails naming it (%s)", err.msg);
}

static void test_corrupt(void)
{
	char cmd[16384], path[8192];
	snprintf(path, sizeof path, "%s/corrupted", tmpdir);
	snprintf(cmd, sizeof cmd, "xz -dkc '%s/hives/real/corrupted-SYSTEM.xz' > '%s'",
		 test_shared_dir(), path);
	size_t len = 0;
	uint8_t *img = system(cmd) == 0 ? read_file(path, &len) : NULL;
	unlink(path);
	rp_hive *h;
	rp_err err = {0};
	CHECK(img && rp_hive_open(&h, "SYSTEM", img, len, &err) < 0 &&
		  err.exit_code == RP_EXIT_UNUSABLE && strstr(err.msg, "SYSTEM"),
	      "corrupted SYSTEM refused as unusable (%s)", err.msg);
	free(img);
}

/* TYPE DATA from a command line (rdprescue reg set). */
static void test_value_parse(void)
{
	static const struct {
		const char *type, *data;
		uint32_t want_type;
		const char *want; /* bytes, or NULL: refused */
		size_t want_len;
	} cases[] = {
	    {"REG_DWORD", "0x10", RP_REG_DWORD, "\x10\0\0\0", 4},
	    {"reg_dword", "4294967295", RP_REG_DWORD, "\xff\xff\xff\xff", 4},
	    {"REG_DWORD", "4294967296", 0, NULL, 0},
	    {"REG_DWORD", "-1", 0, NULL, 0},
	    {"REG_DWORD", "12x", 0, NULL, 0},
	    {"REG_QWORD", "0x1122334455667788", RP_REG_QWORD, "\x88\x77\x66\x55\x44\x33\x22\x11",
	     8},
	    {"REG_SZ", "ab", RP_REG_SZ, "a\0b\0\0\0", 6},
	    {"REG_EXPAND_SZ", "%x%", RP_REG_EXPAND_SZ, "%\0x\0%\0\0\0", 8},
	    {"REG_MULTI_SZ", "a\\0bb", RP_REG_MULTI_SZ, "a\0\0\0b\0b\0\0\0\0\0", 12},
	    {"REG_MULTI_SZ", "", RP_REG_MULTI_SZ, "\0\0", 2},
	    {"REG_BINARY", "01,ab ff", RP_REG_BINARY, "\x01\xab\xff", 3},
	    {"REG_BINARY", "", RP_REG_BINARY, "", 0},
	    {"REG_BINARY", "0g", 0, NULL, 0},
	    {"REG_BINARY", "abc", 0, NULL, 0},
	    {"REG_FOO", "1", 0, NULL, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		rp_err err = {0};
		uint32_t type = 0;
		uint8_t *out = NULL;
		size_t len = 0;
		int rc = rp_value_parse(cases[i].type, cases[i].data, &type, &out, &len, &err);
		if (cases[i].want)
			CHECK(rc == 0 && type == cases[i].want_type && len == cases[i].want_len &&
				  !memcmp(out, cases[i].want, len),
			      "%s '%s' parses (%s)", cases[i].type, cases[i].data, err.msg);
		else
			CHECK(rc < 0 && err.exit_code == RP_EXIT_USAGE && strstr(err.msg, "; "),
			      "%s '%s' refused with what to do (%s)", cases[i].type, cases[i].data,
			      err.msg);
		free(out);
	}
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/test_reg.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		CHECK(0, "create a scratch directory");
		TEST_DONE();
	}
	size_t len;
	uint8_t *img = load_system(&len);
	rp_hive *h = NULL;
	rp_err err = {0};
	CHECK(img && rp_hive_open(&h, "SYSTEM", img, len, &err) == 0, "open Win7 SYSTEM (%s)",
	      err.msg);
	free(img);
	if (h) {
		test_system_reads(h);
		test_system_inplace(h);
		test_system_sealed(h);
		test_system_batch(h);
		test_system_order(h);
		test_refusals(h);
		test_roundtrip(h);
		rp_hive_close(h);
	}
	test_value_format();
	test_bigdata();
	test_values_order();
	test_value_parse();
	test_regfile_forms();
	test_regfile_utf16();
	test_regfile_errors();
	test_empty_hive_from_reg();
	test_corrupt();
	rmdir(tmpdir);
	TEST_DONE();
}
