/*
 * fwrule.h — Windows Firewall rule strings ([MS-GPFAS] 2.2.2.19 and 2.2.6.2), as stored in the
 * registry: REG_SZ values "v2.10|Action=Allow|Active=TRUE|Dir=In|...|" in UTF-16LE.
 *
 * The parser works on the value's own bytes and keeps them: fields are offsets into the data,
 * keys may repeat (several Profile=), and the only edit, setting Active=, splices the new value
 * into those bytes so that the written string differs from the read one in that value alone
 * (the version prefix, field order, unknown keys and anything after the terminating NUL stay).
 * The bytes come from the disk: every offset is bounds-checked and a malformed string is refused
 * with the position of the fault.
 */
#ifndef RP_FWRULE_H
#define RP_FWRULE_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

/* A rule string longer than this (bytes) is refused: real ones are a few hundred bytes, and a
 * rule with thousands of addresses stays far below. */
#define RP_FWRULE_MAX_BYTES (1024 * 1024)

typedef struct rp_fwfield {
	size_t key, key_len; /* UTF-16 units from the start of the data */
	size_t val, val_len;
} rp_fwfield;

typedef struct rp_fwrule {
	uint8_t *data; /* the value's bytes as read (a copy), or as edited */
	size_t len;
	size_t units;	    /* UTF-16 units of the rule text, up to (not including) a NUL unit */
	size_t version_len; /* units of "v2.10" */
	rp_fwfield *fields;
	size_t nfields;
} rp_fwrule;

/* Parses a REG_SZ rule string (UTF-16LE, len bytes, terminating NUL optional). */
int rp_fwrule_parse(const uint8_t *data, size_t len, rp_fwrule *out, rp_err *err);
void rp_fwrule_free(rp_fwrule *r);

/* "v2.10" as malloc'd UTF-8. */
char *rp_fwrule_version(const rp_fwrule *r);
/* How many fields are named key (ASCII, case-insensitive). */
size_t rp_fwrule_count(const rp_fwrule *r, const char *key);
/* The value of the nth field named key as malloc'd UTF-8, or NULL when there are fewer. */
char *rp_fwrule_get(const rp_fwrule *r, const char *key, size_t nth);
/* 1 when some field named key has the value want (ASCII, case-insensitive), else 0. */
int rp_fwrule_is(const rp_fwrule *r, const char *key, const char *want);
/* Whether the port lists of the fields named key ("3389", "80,443", "5000-5100") cover port:
 * 1 covered, 0 the fields exist and none covers it, -1 no such field (the rule names no port,
 * so it applies to every port).  Keywords such as "RPC" never cover a numbered port. */
int rp_fwrule_port_covers(const rp_fwrule *r, const char *key, unsigned port);

/* Sets Active=TRUE (active) or Active=FALSE, changing no other byte.  A rule without an Active
 * field gets one right after the version; a rule with two is refused (which one counts is not
 * defined).  The rule is re-parsed, so its fields stay valid. */
int rp_fwrule_set_active(rp_fwrule *r, int active, rp_err *err);

#endif
