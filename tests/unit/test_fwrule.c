/*
 * test_fwrule.c — firewall rule strings: every rule of the real Windows 7 SYSTEM hive parses,
 * activating each changes exactly its Active value (checked against an independent string
 * substitution), fields and port lists are read right, and malformed strings are refused.
 */
#include "reg/fwrule.h"
#include "reg/reg.h"
#include "test.h"
#include "util/file.h"
#include "util/text.h"

#include <string.h>

#define RULES "ControlSet001\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\FirewallRules"

static uint8_t *load_system(size_t *len)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "xz -dkc '%s/hives/real/win7-sp1-x86-SYSTEM.xz'",
		 test_shared_dir());
	FILE *p = popen(cmd, "r");
	if (!p)
		return NULL;
	uint8_t *buf = NULL;
	int bad = rp_stream_read(p, &buf, len) < 0;
	if (pclose(p) != 0 || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* An ASCII rule as REG_SZ bytes (UTF-16LE with its NUL). */
static int parse_ascii(const char *s, rp_fwrule *r, rp_err *err)
{
	size_t len;
	uint8_t *u = rp_utf8_to_utf16(s, &len);
	int rc = rp_fwrule_parse(u, len, r, err);
	free(u);
	return rc;
}

static int rule_text_is(const rp_fwrule *r, const char *want)
{
	size_t len;
	uint8_t *u = rp_utf8_to_utf16(want, &len);
	int same = len == r->len && memcmp(u, r->data, len) == 0;
	free(u);
	return same;
}

/* Independent expectation: the UTF-8 text with "|Active=FALSE|" replaced once. */
static char *substituted(const char *text)
{
	const char *at = strstr(text, "|Active=FALSE|");
	if (!at)
		return rp_xstrdup(text);
	return rp_xasprintf("%.*s|Active=TRUE|%s", (int)(at - text), text, at + 14);
}

static void test_real_hive(void)
{
	size_t len = 0;
	uint8_t *img = load_system(&len);
	CHECK(img != NULL, "Windows 7 SYSTEM sample decompressed");
	if (!img)
		return;
	rp_hive *h = NULL;
	rp_err err = {0};
	CHECK(rp_hive_open(&h, "SYSTEM", img, len, &err) == 0, "sample opens: %s", err.msg);
	char **names = NULL;
	size_t n = 0;
	CHECK(rp_hive_values(h, RULES, &names, &n, &err) == 0 && n > 100,
	      "FirewallRules lists %zu rules", n);
	size_t parsed = 0, activated_ok = 0, inactive = 0, untouched_ok = 0;
	for (size_t i = 0; i < n; i++) {
		rp_value v = {0};
		if (rp_hive_get(h, RULES, names[i], &v, NULL) != 1)
			continue;
		rp_fwrule r;
		rp_err e = {0};
		if (rp_fwrule_parse(v.data, v.len, &r, &e) == 0) {
			parsed++;
			char *text = rp_value_string(&v);
			char *want = substituted(text);
			int was_inactive = rp_fwrule_is(&r, "Active", "FALSE");
			inactive += was_inactive;
			if (rp_fwrule_set_active(&r, 1, &e) == 0 && rule_text_is(&r, want) &&
			    rp_fwrule_is(&r, "Active", "TRUE") &&
			    rp_fwrule_count(&r, "Active") == 1)
				activated_ok++;
			if (!was_inactive && r.len == v.len && memcmp(r.data, v.data, v.len) == 0)
				untouched_ok++;
			free(text);
			free(want);
			rp_fwrule_free(&r);
		}
		rp_value_free(&v);
	}
	CHECK(parsed == n, "every real rule parses (%zu of %zu)", parsed, n);
	CHECK(activated_ok == n, "Active=TRUE changes only the Active value (%zu of %zu)",
	      activated_ok, n);
	CHECK(inactive > 10 && untouched_ok == n - inactive,
	      "activating an active rule rewrites the same bytes (%zu of %zu)", untouched_ok,
	      n - inactive);

	rp_value v = {0};
	CHECK(rp_hive_get(h, RULES, "RemoteDesktop-In-TCP", &v, NULL) == 1,
	      "Windows 7 RemoteDesktop-In-TCP present");
	rp_fwrule r;
	if (NEED(rp_fwrule_parse(v.data, v.len, &r, &err) == 0,
		 "RemoteDesktop-In-TCP: version, action, profiles, ports")) {
		char *ver = rp_fwrule_version(&r);
		CHECK(strcmp(ver, "v2.10") == 0, "version v2.10 (%s)", ver);
		free(ver);
		CHECK(rp_fwrule_is(&r, "Action", "Allow") && rp_fwrule_is(&r, "dir", "in") &&
			  rp_fwrule_is(&r, "Protocol", "6"),
		      "RDP rule: Allow, In, TCP (keys case-insensitive)");
		CHECK(rp_fwrule_count(&r, "Profile") == 2 &&
			  rp_fwrule_is(&r, "Profile", "Private") &&
			  !rp_fwrule_is(&r, "Profile", "Public"),
		      "repeated Profile fields: Domain and Private");
		char *p2 = rp_fwrule_get(&r, "Profile", 1), *p3 = rp_fwrule_get(&r, "Profile", 2);
		CHECK(p2 && strcmp(p2, "Private") == 0 && p3 == NULL, "nth Profile value");
		free(p2);
		CHECK(rp_fwrule_port_covers(&r, "LPort", 3389) == 1 &&
			  rp_fwrule_port_covers(&r, "LPort", 3390) == 0 &&
			  rp_fwrule_port_covers(&r, "RPort", 3389) == -1,
		      "LPort covers 3389 only; no RPort field");
		rp_fwrule_free(&r);
	}
	rp_value_free(&v);
	rp_names_free(names, n);
	rp_hive_close(h);
	free(img);
}

static void test_edits(void)
{
	rp_fwrule r;
	rp_err err = {0};
	const char *tcp =
	    "v2.22|Action=Allow|Active=FALSE|Dir=In|Protocol=6|Profile=Domain|Profile=Private|"
	    "Profile=Public|LPort=3389|App=%SystemRoot%\\system32\\svchost.exe|Svc=termservice|"
	    "Name=@FirewallAPI.dll,-28775|Desc=@FirewallAPI.dll,-28756|EmbedCtxt=@FirewallAPI."
	    "dll,-28752|";
	CHECK(parse_ascii(tcp, &r, &err) == 0, "reference TCP rule parses: %s", err.msg);
	CHECK(r.nfields == 13, "13 fields (%zu)", r.nfields);
	CHECK(rp_fwrule_set_active(&r, 1, &err) == 0, "activate");
	char *want = substituted(tcp);
	CHECK(rule_text_is(&r, want), "only Active changed, version v2.22 kept");
	free(want);
	CHECK(rp_fwrule_set_active(&r, 0, &err) == 0 && rule_text_is(&r, tcp),
	      "deactivating gives the original bytes back");
	rp_fwrule_free(&r);

	CHECK(parse_ascii("v2.10|Action=Allow|LPort=80,443,3380-3390|LPort=RPC|", &r, &err) == 0 &&
		  rp_fwrule_port_covers(&r, "LPort", 3389) == 1 &&
		  rp_fwrule_port_covers(&r, "LPort", 3391) == 0 &&
		  rp_fwrule_port_covers(&r, "LPort", 443) == 1,
	      "port lists and ranges; keywords cover nothing");
	CHECK(rp_fwrule_set_active(&r, 1, &err) == 0 &&
		  rule_text_is(&r,
			       "v2.10|Active=TRUE|Action=Allow|LPort=80,443,3380-3390|LPort=RPC|"),
	      "no Active field: one is inserted after the version");
	rp_fwrule_free(&r);

	CHECK(parse_ascii("v2.10|LPort=999999|LPort=3389-|LPort=-3389|LPort=,,|", &r, &err) == 0 &&
		  rp_fwrule_port_covers(&r, "LPort", 3389) == 0,
	      "malformed port items cover nothing");
	rp_fwrule_free(&r);

	CHECK(parse_ascii("v2.10|Active=FALSE|Active=TRUE|", &r, &err) == 0, "two Active parse");
	size_t before = r.len;
	uint8_t *copy = malloc(before);
	memcpy(copy, r.data, before);
	rp_err e2 = {0};
	CHECK(rp_fwrule_set_active(&r, 1, &e2) < 0 && strstr(e2.msg, "Active") && r.len == before &&
		  memcmp(copy, r.data, before) == 0,
	      "two Active fields: refused, nothing changed (%s)", e2.msg);
	free(copy);
	rp_fwrule_free(&r);

	/* bytes after the NUL and an odd trailing byte are kept */
	static const char raw[] =
	    "v\0002\000.\0001\0000\000|\000A\000c\000t\000i\000v\000e\000=\000F\000"
	    "A\000L\000S\000E\000|\000\0\0\x41\x42\x43";
	size_t rawlen = sizeof raw - 1;
	CHECK(rp_fwrule_parse((const uint8_t *)raw, rawlen, &r, &err) == 0, "trailer parses");
	CHECK(rp_fwrule_set_active(&r, 1, &err) == 0 && r.len == rawlen - 2 &&
		  memcmp(r.data + r.len - 5, "\0\0\x41\x42\x43", 5) == 0 &&
		  memcmp(r.data, "v\0002\000.\0001\0000\000|\000A", 13) == 0,
	      "bytes after the NUL kept, odd byte kept");
	rp_fwrule_free(&r);
}

static void test_refusals(void)
{
	const char *bad[] = {"",
			     "x2.10|Action=Allow|",
			     "v2.10",
			     "v2.10|",
			     "v2.10|Action",
			     "v2.10|Action=Allow",
			     "v2.10|=Allow|",
			     "v2|Action=Allow|",
			     "v2.1.0|Action=Allow|",
			     "v2.x|Action=Allow|",
			     "v2.10|Action|Allow|"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rp_fwrule r;
		rp_err err = {0};
		int rc = parse_ascii(bad[i], &r, &err);
		CHECK(rc < 0 && err.msg[0] && !strchr(err.msg, '\n') && r.data == NULL,
		      "refused: \"%s\" (%s)", bad[i], err.msg);
	}
	rp_fwrule r;
	rp_err err = {0};
	uint8_t *big = calloc(1, RP_FWRULE_MAX_BYTES + 2);
	CHECK(rp_fwrule_parse(big, RP_FWRULE_MAX_BYTES + 2, &r, &err) < 0 &&
		  strstr(err.msg, "limit"),
	      "over the size limit: refused");
	free(big);
	CHECK(rp_fwrule_parse((const uint8_t *)"v", 1, &r, &err) < 0, "one odd byte: refused");
}

int main(void)
{
	test_real_hive();
	test_edits();
	test_refusals();
	TEST_DONE();
}
