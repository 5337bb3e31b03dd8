/*
 * regf_internal.h — helpers shared by the files of src/regf/ (not part of the layer's contract):
 * little-endian access, the bin-chain walk, and the parsed view of a transaction log.
 */
#ifndef RP_REGF_INTERNAL_H
#define RP_REGF_INTERNAL_H

#include "regf/format.h"
#include "regf/regf.h"
#include "util/bytes.h"

#include <stddef.h>
#include <stdint.h>

#define REGF_LOG_BASE_BLOCK 512
#define REGF_NIL 0xFFFFFFFFu
#define REGF_TYPE_PRIMARY 0
#define REGF_TYPE_LOG_OLD 1
#define REGF_TYPE_LOG_VERYOLD 2
#define REGF_TYPE_LOG_NEW 6

/* a is "before" b in sequence-number order with wrap-around. */
static inline int seq_before(uint32_t a, uint32_t b)
{
	uint32_t d = b - a;
	return d >= 1 && d <= 0x7FFFFFFFu;
}

/* Checks the base-block fields a primary must have (version 1.3-1.6, type, format, hive-bins size
 * a non-zero multiple of 4096, root offset inside it).  Fills why on failure. */
int regf_base_fields_ok(const uint8_t *bb, char *why, size_t whylen);

/* Follows the hive-bin chain of image from relative offset 0 while bins are valid and end at or
 * before limit.  Returns the chain size; *bad_at gets the relative offset where it stopped and
 * why says what was wrong there (empty when it stopped exactly at limit). */
uint32_t regf_bin_chain(const uint8_t *image, size_t len, uint32_t limit, uint32_t *bad_at,
			char *why, size_t whylen);

/* Whether the hive-bin header b, at file offset pos and hive-bins offset rel, is sound: its
 * signature, its own offset, and a size that keeps it before limit and inside a file of len
 * bytes.  Fills why when it is not. */
int regf_hbin_ok(const uint8_t *b, uint64_t pos, uint32_t rel, uint32_t limit, uint64_t len,
		 char *why, size_t whylen);

/* Fails with "NAME is corrupt: the hive-bin chain breaks (WHY)" and what to do. */
int regf_chain_broken(const char *name, const char *why, rp_err *err);

/* Writes seq1 = seq2 = seq, type 0, hbins size and the checksum into a base block. */
void regf_seal_base_block(uint8_t *bb, uint32_t seq, uint32_t hbins_size);

/* A valid HvLE entry found in a new-format log. */
typedef struct regf_entry {
	size_t offset; /* in the log */
	uint32_t size, flags, seq, hbins_size, pages;
} regf_entry;

/* A parsed log file. */
typedef struct regf_log {
	const char *name; /* "LOG1", "LOG2", "LOG" */
	const uint8_t *data;
	size_t len;
	int present;	/* non-empty */
	int has_sig;	/* base block starts with "regf" */
	int base_valid; /* signature, checksum, seq1 == seq2, a log file type */
	uint32_t type, seq1, seq2, hbins_size;
	char problem[160]; /* why the log cannot be used, when it cannot */
	/* new format: every structurally valid entry (the chain from offset 512 and remnants) */
	regf_entry *entries;
	size_t n_entries;
	size_t chain_len; /* entries[0..chain_len) form the chain starting at seq1 */
	/* old format */
	int dirt_ok;
	uint32_t dirty_pages;
	size_t pages_start;
} regf_log;

/* Parses a log (any format); never fails, problem says what makes it unusable. */
void regf_log_parse(regf_log *log, const char *name, const uint8_t *data, size_t len);
void regf_log_free(regf_log *log);

/* Validates the HvLE entry at offset; returns 1 and fills e when it is structurally valid and
 * its hashes verify. */
int regf_entry_parse(const uint8_t *log, size_t len, size_t offset, regf_entry *e);

/* The image a replay works on: the primary's bytes, grown to each entry's hive-bins size. */
typedef struct regf_work {
	uint8_t *img;
	size_t cap;   /* bytes allocated and initialised */
	size_t limit; /* 0: img is malloc'd, grown with realloc; else the caller's buffer of
			 limit bytes, which no replay outgrows (rp_regf_recover_cap) */
	uint32_t hbins_size, flags;
	uint32_t first_seq, last_seq;
	unsigned applied; /* HvLE entries or DIRT pages */
} regf_work;

void regf_work_grow(regf_work *w, uint32_t hbins_size);

/* New format: finds every valid entry and the chain (fills entries, chain_len). */
void regf_new_scan(regf_log *log);
/* Applies the log's chain, stopping before an entry whose hive-bins size exceeds max_hbins
 * (every replayed byte comes from the primary or a log, so more is a damaged entry and would
 * only make us allocate what the input cannot fill); returns the number of entries applied. */
unsigned regf_new_apply(regf_work *w, const regf_log *log, uint64_t max_hbins);

/* Old format: checks the DIRT vector and the page area (fills dirt_ok, dirty_pages,
 * pages_start, problem). */
void regf_old_parse(regf_log *log);
/* Writes the dirty pages; returns how many. */
unsigned regf_old_apply(regf_work *w, const regf_log *log);

#endif
