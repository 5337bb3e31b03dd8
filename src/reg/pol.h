/*
 * pol.h — Group Policy's Registry.pol files (PReg format), parsed and edited byte-exactly.
 *
 * Windows keeps local policy in Windows\System32\GroupPolicy\Machine\Registry.pol and copies of
 * domain GPOs under ProgramData\Microsoft\Group Policy\History\<GPO>\Machine\registry.pol.  At
 * every policy refresh gpsvc writes their entries into SOFTWARE\Policies, so a bad value there
 * comes back unless the .pol file is fixed as well.
 *
 * Format: "PReg", le32 version 1, then entries
 *     '[' key NUL ';' value NUL ';' le32 type ';' le32 size ';' data ']'
 * where the brackets, semicolons and strings are UTF-16LE.  Value names starting with "**" are
 * instructions ("**del.X" deletes X, "**delvals." deletes every value of the key, ...).
 * Later entries win over earlier ones.  Parsing keeps the raw strings, so a file serialized
 * without edits is byte-identical to what was read.
 */
#ifndef RP_POL_H
#define RP_POL_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct rp_pol_entry {
	char *key;   /* UTF-8, as stored (backslash separated, no hive prefix) */
	char *value; /* UTF-8, "" for the key's default value */
	uint32_t type;
	uint8_t *data;
	size_t len;
	uint8_t *raw_key, *raw_value; /* the UTF-16LE bytes as read, NUL included */
	size_t raw_key_len, raw_value_len;
} rp_pol_entry;

typedef struct rp_pol {
	uint32_t version;
	rp_pol_entry *entries;
	size_t nentries;
} rp_pol;

/* Parses a Registry.pol image; a malformed file fails with RP_EXIT_UNUSABLE and the offset.
 * An empty (0-byte) file is an empty policy. */
int rp_pol_parse(const uint8_t *buf, size_t len, rp_pol *pol, rp_err *err);
/* Serializes (malloc'd). */
void rp_pol_serialize(const rp_pol *pol, uint8_t **out, size_t *len);
void rp_pol_free(rp_pol *pol);

/* The entry that decides key\value (the last one, case-insensitive), or NULL. */
const rp_pol_entry *rp_pol_find(const rp_pol *pol, const char *key, const char *value);
/* Whether key\value is removed at refresh: a "**del.<value>", "**delvals." or "**DeleteValues"
 * entry for key, or a "**DeleteKeys" entry naming key or a parent, with no later entry setting
 * the value again. */
int rp_pol_deletes(const rp_pol *pol, const char *key, const char *value);
/* Sets every entry for key\value to type/data (appends one when there is none).
 * -1 when key or value is not valid UTF-8. */
int rp_pol_set(rp_pol *pol, const char *key, const char *value, uint32_t type, const uint8_t *data,
	       size_t len);
/* Removes every entry for key\value; returns how many were removed. */
size_t rp_pol_delete(rp_pol *pol, const char *key, const char *value);

#endif
