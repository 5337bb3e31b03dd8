/*
 * fuzz_pol.c — libFuzzer harness for Registry.pol (src/reg/pol.c).
 *
 * A failed parse must leave a message.  A non-empty file that parses must serialize back to the
 * very same bytes (the tool rewrites policy files it edited and nothing else may change).  Then
 * the edits fix applies: rp_pol_set on the first entry's key\value and on a new one, and
 * rp_pol_delete on the last entry's; after each, the result must serialize, parse back, and say
 * what the edit did.
 */
#include "reg/pol.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t dword_one[4] = {1, 0, 0, 0};

/* Serializes pol, parses the bytes back and checks nothing was lost. */
static void reparse(const rp_pol *pol, rp_pol *again)
{
	uint8_t *bytes;
	size_t len;
	rp_err err = {0};
	rp_pol_serialize(pol, &bytes, &len);
	if (rp_pol_parse(bytes, len, again, &err) < 0 || again->nentries != pol->nentries)
		abort();
	free(bytes);
}

/* After rp_pol_set(key, value, REG_DWORD 1), the deciding entry must hold exactly that. */
static void check_set(rp_pol *pol, const char *key, const char *value)
{
	if (rp_pol_set(pol, key, value, 4, dword_one, sizeof dword_one) < 0)
		return; /* a key or value that is not valid UTF-8 is refused, nothing changed */
	rp_pol again;
	reparse(pol, &again);
	const rp_pol_entry *e = rp_pol_find(&again, key, value);
	if (!e || e->type != 4 || e->len != sizeof dword_one ||
	    memcmp(e->data, dword_one, sizeof dword_one) != 0)
		abort();
	rp_pol_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rp_pol pol;
	rp_err err = {0};
	if (rp_pol_parse(data, size, &pol, &err) < 0) {
		if (!err.msg[0])
			abort();
		return 0;
	}
	if (size > 0) {
		uint8_t *bytes;
		size_t len;
		rp_pol_serialize(&pol, &bytes, &len);
		if (len != size || memcmp(bytes, data, size) != 0)
			abort();
		free(bytes);
	}
	if (pol.nentries > 0) {
		char *key = strdup(pol.entries[0].key), *value = strdup(pol.entries[0].value);
		if (!key || !value)
			abort();
		check_set(&pol, key, value);
		free(key);
		free(value);
	}
	check_set(&pol, "Software\\Policies\\Microsoft\\Windows NT\\Terminal Services",
		  "fDenyTSConnections");
	char *key = strdup(pol.entries[pol.nentries - 1].key);
	char *value = strdup(pol.entries[pol.nentries - 1].value);
	if (!key || !value)
		abort();
	if (rp_pol_delete(&pol, key, value) == 0 || rp_pol_find(&pol, key, value))
		abort();
	rp_pol again;
	reparse(&pol, &again);
	if (rp_pol_find(&again, key, value))
		abort();
	rp_pol_free(&again);
	free(key);
	free(value);
	rp_pol_free(&pol);
	return 0;
}
