/*
 * regf.h — registry hive files at the byte level: base block, transaction logs, replay, and a
 * clean base block for what we write.  No library replays logs; this is hand-written after
 * ../shared/reference/hive-format.md (msuhanov's format specification).
 *
 * A hive image handed to the layers above is always "consistent": base block valid (checksum),
 * seq1 == seq2, file type 0, hive-bins size equal to the real bin chain, and its length exactly
 * 4096 + hive-bins size.  Every parser is bounds-checked: hive and logs are untrusted input.
 */
#ifndef RP_REGF_H
#define RP_REGF_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#define RP_REGF_BASE_BLOCK 4096

/* A hive file as found on disk, with whatever logs exist beside it (NULL/0 when absent). */
typedef struct rp_regf_files {
	const uint8_t *primary;
	size_t primary_len;
	const uint8_t *log1, *log2, *log; /* <name>.LOG1, .LOG2, .LOG (any case on disk) */
	size_t log1_len, log2_len, log_len;
	const char *name; /* for messages, e.g. "SYSTEM"; NULL: "the hive" */
} rp_regf_files;

/* What recovery found and did — for reports and `rdprescue hive`. */
typedef struct rp_regf_recovery {
	int primary_valid;	      /* base block signature + checksum ok */
	int was_dirty;		      /* checksum bad or seq1 != seq2 */
	uint32_t seq1, seq2;	      /* the primary's */
	uint32_t hbins_size;	      /* of the result */
	int logs_present;	      /* some log file is non-empty */
	int logs_usable;	      /* some log has a valid base block */
	char log_format[8];	      /* "new" (HvLE), "old" (DIRT) or "" */
	unsigned entries_applied;     /* HvLE entries, or 512-byte pages for DIRT */
	uint32_t first_seq, last_seq; /* of the applied entries */
	uint32_t max_seq;	      /* highest sequence number seen: primary, log base blocks, any
					 valid log entry (remnants included).  The clean write uses +1 */
	int base_from_log;	      /* the primary base block was rebuilt from a log */
	int dirty_without_logs;	      /* dirty, no logs: the primary is all there is */
	char detail[512];	      /* one line: "replayed 4 entries (seq 2-5) from LOG1, LOG2" */
} rp_regf_recovery;

/* One transaction log as found: for reports (`rdprescue hive`). */
typedef struct rp_regf_log_info {
	int present;	/* non-empty */
	int base_valid; /* signature, checksum, seq1 == seq2, a log file type */
	char format[8]; /* "new", "old" or "" when the base block is not valid */
	uint32_t seq1, seq2, hbins_size;
	unsigned entries; /* new: valid entries chained from offset 512 */
	uint32_t first_seq, last_seq;
	unsigned remnants; /* new: further valid entries after the chain */
	uint32_t remnant_max_seq;
	uint32_t dirty_pages; /* old: 512-byte pages in the dirty vector */
	char problem[160];    /* why it cannot be replayed; "" when it can */
} rp_regf_log_info;

/* A primary's base block as found: for reports (`rdprescue hive`). */
typedef struct rp_regf_base_info {
	int present; /* at least 512 bytes starting with "regf"; nothing else is set otherwise */
	uint32_t seq1, seq2, major, minor, type, hbins_size, flags, root;
	uint32_t checksum;	/* as stored */
	uint32_t checksum_want; /* as computed */
	char file_name[200];	/* the name field as UTF-8, unescaped (it comes from the disk) */
} rp_regf_base_info;

/* Reads a base block's fields for a report; never fails. */
void rp_regf_describe_base(const uint8_t *base_block, size_t len, rp_regf_base_info *out);

/* Parses one log (any format) for a report; never fails. */
void rp_regf_describe_log(const uint8_t *log, size_t len, rp_regf_log_info *out);

/* Replays the logs exactly as Windows does when the primary is dirty and returns the resulting
 * consistent image (malloc'd, length 4096 + hive-bins size).  Clean primary: logs ignored.
 * Refuses (RP_EXIT_UNUSABLE, message says why) a corrupt primary, logs that exist but cannot be
 * used for a dirty primary, a bad hive bin after replay, unsupported versions (1.1, 1.2). */
int rp_regf_recover(const rp_regf_files *files, uint8_t **image, size_t *image_len,
		    rp_regf_recovery *info, rp_err *err);

/* rp_regf_recover on the caller's buffer instead of a copy: *image (malloc'd) and *image_len
 * hold the primary on entry (logs->primary is ignored); the replay works in that buffer, which
 * is grown and trimmed with realloc, so a hive is held once.  Success: *image / *image_len are
 * the recovered image, byte for byte what rp_regf_recover gives.  Failure: the buffer is freed,
 * *image is NULL, err as rp_regf_recover's. */
int rp_regf_recover_in_place(uint8_t **image, size_t *image_len, const rp_regf_files *logs,
			     rp_regf_recovery *info, rp_err *err);
/* Bytes a buffer needs for rp_regf_recover_in_buffer: no replay of these logs grows the image
 * beyond them. */
size_t rp_regf_recover_cap(size_t primary_len, const rp_regf_files *logs);
/* rp_regf_recover_in_place in the caller's buffer buf of cap bytes (at least
 * rp_regf_recover_cap; bytes past the primary need not be initialised), never reallocated
 * nor freed: the primary's *image_len bytes are at its start on entry, the recovered image's
 * *image_len bytes on success (byte for byte what rp_regf_recover gives).  Failure: err as
 * rp_regf_recover's, buf's bytes undefined. */
int rp_regf_recover_in_buffer(uint8_t *buf, size_t cap, size_t *image_len,
			      const rp_regf_files *logs, rp_regf_recovery *info, rp_err *err);

/* The decision rp_regf_recover makes from the primary's base block (its first 4096 bytes) and
 * its file length alone, with the same checks, messages and info: 1 when the primary is clean,
 * so that its image is the file's first 4096 + info->hbins_size bytes once their bin chain
 * holds (rp_regf_reader_open checks it); 0 when it is dirty (recovery needs the whole file; the
 * logs are not parsed, and info holds only the base block's sequence numbers and validity);
 * -1 when it is refused. */
int rp_regf_recover_clean(const uint8_t *base_block, size_t primary_len, const rp_regf_files *files,
			  rp_regf_recovery *info, rp_err *err);

/* ---- a clean hive read in place (reader.c) ---- */

/* Reads [off, off + len) of the hive file into buf: 0, or -1 with err filled. */
typedef int (*rp_regf_read_fn)(void *ctx, uint64_t off, uint8_t *buf, size_t len, rp_err *err);

typedef struct rp_regf_reader rp_regf_reader;

/* Opens a clean primary (rp_regf_recover_clean said 1; base_block is its first 4096 bytes)
 * without copying it: one pass over its hive bins, a megabyte at a time, checks the bin chain
 * (rp_regf_recover's message when it breaks) and that cells tile every bin, the root key's
 * among them, as hivex_open does, and remembers where allocated cells start.  Later reads go
 * through read and a small cache.  name is for messages. */
int rp_regf_reader_open(rp_regf_reader **out, const char *name, const uint8_t *base_block,
			rp_regf_read_fn read, void *ctx, rp_err *err);
/* The same for a clean image held in memory (len bytes, at least 4096 + its hive-bins size),
 * read where it is; image must outlive the reader. */
int rp_regf_reader_open_memory(rp_regf_reader **out, const char *name, const uint8_t *image,
			       size_t len, rp_err *err);
void rp_regf_reader_close(rp_regf_reader *r);
/* Where later reads come from (the same file, through a volume opened again). */
void rp_regf_reader_rebind(rp_regf_reader *r, rp_regf_read_fn read, void *ctx);
/* The image's length (4096 + hive-bins size) and its base block. */
uint64_t rp_regf_reader_size(const rp_regf_reader *r);
const uint8_t *rp_regf_reader_base_block(const rp_regf_reader *r);
/* Whether the file offset off is where an allocated cell starts. */
int rp_regf_reader_is_cell(const rp_regf_reader *r, uint64_t off);
/* Copies len bytes of the image at file offset off: 0, or -1 (err) for a range outside the image
 * or a failed read. */
int rp_regf_reader_read(rp_regf_reader *r, uint64_t off, void *buf, size_t len, rp_err *err);

/* Gives an image a clean base block: seq1 = seq2 = seq, file type 0, hive-bins size = the real
 * chain (the image is trimmed to 4096 + that size), checksum with its two special cases.  Every
 * other base-block byte (flags, GUIDs, rmtm, OfRg, name) is kept. */
int rp_regf_finalize(uint8_t *image, size_t *image_len, uint32_t seq, rp_err *err);

/* Structural check of a consistent image: base block, the bin chain, cells tiling each bin, and
 * the key tree from the root (nk/vk/lists/sk/db in bounds, parents right, subkeys sorted, no
 * loops).  This is what a hive must pass before it replaces anything. */
int rp_regf_check(const uint8_t *image, size_t len, rp_err *err);

/* Base-block checksum of the first 508 bytes, with Windows' fixups (0 -> 1, ~0 -> ~0-1). */
uint32_t rp_regf_checksum(const uint8_t *base_block);

/* Marvin32 with the registry's seed, as HvLE entries use it. */
uint64_t rp_regf_marvin32(const uint8_t *data, size_t len);

#endif
