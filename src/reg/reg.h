/*
 * reg.h — the registry model: one hive (hivex-backed) and typed get/set.
 *
 * A hive is opened from a consistent image (regf/ made it so: logs replayed).  Reads go through
 * libhivex, or, for a clean hive read where it lies (install.h), through regf's reader with the
 * same answers.  Edits are applied as a batch to a copy of the image and give a new image; regf/
 * then writes its clean base block.  Key paths are backslash-separated below the hive root
 * ("ControlSet001\\Control\\Terminal Server"), case-insensitive; "" is the root.
 *
 * hivex rewrites every value of a key when one value is set and never writes big-data (db)
 * cells.  So: a DWORD set over an existing inline DWORD is written in place (same size, no
 * allocation); any other set on a key that holds a value over 16,344 bytes is refused.
 */
#ifndef RP_REG_H
#define RP_REG_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

enum {
	RP_REG_NONE = 0,
	RP_REG_SZ = 1,
	RP_REG_EXPAND_SZ = 2,
	RP_REG_BINARY = 3,
	RP_REG_DWORD = 4,
	RP_REG_DWORD_BE = 5,
	RP_REG_LINK = 6,
	RP_REG_MULTI_SZ = 7,
	RP_REG_QWORD = 11,
};

typedef struct rp_hive rp_hive;

typedef struct rp_value {
	uint32_t type;
	uint8_t *data; /* malloc'd */
	size_t len;
} rp_value;

/* Opens a hive from a consistent image (copied) with hivex.  name is for messages ("SYSTEM"). */
int rp_hive_open(rp_hive **out, const char *name, const uint8_t *image, size_t len, rp_err *err);
void rp_hive_close(rp_hive *h);
/* The image a hive in memory was opened from; NULL for a hive read in place (install.h). */
const uint8_t *rp_hive_image(const rp_hive *h, size_t *len);
/* The hive's base block (its first 4096 bytes), NULL when the image is shorter. */
const uint8_t *rp_hive_base_block(const rp_hive *h);

/* 1 when the key exists, 0 when not, -1 on a structural error. */
int rp_hive_key_exists(rp_hive *h, const char *key, rp_err *err);
/* The key's last-write time (FILETIME: 100 ns since 1601-01-01 UTC): 1 found, 0 absent, -1. */
int rp_hive_key_time(rp_hive *h, const char *key, int64_t *filetime, rp_err *err);
/* 1 found (out filled), 0 key or value absent, -1 error.  value "" is the default value. */
int rp_hive_get(rp_hive *h, const char *key, const char *value, rp_value *out, rp_err *err);
/* Names of subkeys / values (malloc'd array of malloc'd UTF-8 strings), in hive order. */
int rp_hive_subkeys(rp_hive *h, const char *key, char ***names, size_t *n, rp_err *err);
int rp_hive_values(rp_hive *h, const char *key, char ***names, size_t *n, rp_err *err);
/* The security descriptor of key (its sk cell; self-relative, malloc'd).  1 found, 0 no such
 * key, -1 when the key's sk cell is not inside the hive or not an sk record. */
int rp_hive_key_sd(rp_hive *h, const char *key, uint8_t **sd, size_t *len, rp_err *err);
/* Counts every key of the hive (for "every other key intact" checks). */
int rp_hive_count_keys(rp_hive *h, size_t *keys, size_t *values, rp_err *err);

void rp_value_free(rp_value *v);
void rp_names_free(char **names, size_t n);
/* 0 and *out set when the value is a REG_DWORD of 4 bytes, else -1. */
int rp_value_dword(const rp_value *v, uint32_t *out);
/* REG_SZ / REG_EXPAND_SZ as malloc'd UTF-8 (NULL for other types). */
char *rp_value_string(const rp_value *v);
/* A string value (REG_SZ / REG_EXPAND_SZ) of key as malloc'd UTF-8; NULL when absent, of another
 * type or unreadable. */
char *rp_hive_get_string(rp_hive *h, const char *key, const char *value);
/* Readable rendering for reports: "0x00000001 (1)", "\"text\"", "hex:01,02,..." (malloc'd,
 * escaped for a terminal). */
char *rp_value_format(const rp_value *v);

/* "REG_DWORD", ... for a type number ("REG_0x1f" in buf for one without a name). */
const char *rp_reg_type_name(uint32_t type, char *buf, size_t n);
/* TYPE DATA as reg.exe takes them: REG_SZ / REG_EXPAND_SZ text (UTF-8), REG_DWORD / REG_QWORD
 * numbers (decimal or 0x hex), REG_MULTI_SZ strings separated by \0, REG_BINARY (and other
 * types by name) hex bytes ("01,ab" or "01ab").  *out is malloc'd; RP_EXIT_USAGE with a
 * one-line message when they do not parse. */
int rp_value_parse(const char *type_name, const char *data, uint32_t *type, uint8_t **out,
		   size_t *len, rp_err *err);

typedef enum rp_edit_kind {
	RP_EDIT_SET,	      /* create the key path and the value as needed */
	RP_EDIT_DELETE_VALUE, /* absent value: no-op */
	RP_EDIT_DELETE_KEY,   /* with its subtree; absent key: no-op */
	RP_EDIT_CREATE_KEY,   /* the key path as needed, no value (a .reg [KEY] line) */
} rp_edit_kind;

typedef struct rp_edit {
	rp_edit_kind kind;
	const char *key;
	const char *value; /* SET / DELETE_VALUE */
	uint32_t type;	   /* SET */
	const uint8_t *data;
	size_t len;
} rp_edit;

/* Applies edits in order to a copy of the hive's image and returns it (malloc'd), sealed with
 * regf's clean base block and sequence number seq (as rp_regf_finalize) before each edit is read
 * back from it reopened, so that the bytes verified are the bytes returned.  *check, when check
 * is given, is that reopened result for the caller's own reading back (the caller closes it).
 * The hive itself is unchanged. */
int rp_hive_apply(rp_hive *h, const rp_edit *edits, size_t n, uint32_t seq, uint8_t **image,
		  size_t *len, rp_hive **check, rp_err *err);

/* ---- .reg files (Windows Registry Editor Version 5.00 / REGEDIT4) ---- */

typedef struct rp_regfile_entry {
	char *root;   /* first path component as written: "HKEY_LOCAL_MACHINE\\SYSTEM" */
	rp_edit edit; /* key is below root; strings are owned by the entry */
} rp_regfile_entry;

/* Parses a .reg file (UTF-16LE with BOM or UTF-8/ASCII).  Every line is bounds-checked. */
int rp_regfile_parse(const uint8_t *buf, size_t len, rp_regfile_entry **entries, size_t *n,
		     rp_err *err);
void rp_regfile_free(rp_regfile_entry *entries, size_t n);
/* Writes the subtree key of h as a .reg (version 5.00, UTF-8) into a malloc'd string;
 * root_name prefixes every key ("HKEY_LOCAL_MACHINE\\SYSTEM"). */
int rp_regfile_export(rp_hive *h, const char *key, const char *root_name, char **out, rp_err *err);

#endif
