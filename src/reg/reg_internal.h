/*
 * reg_internal.h — what the files of src/reg/ share and nobody else sees: the hive handle,
 * hivex opened on bytes in memory, and backslash key paths.
 *
 * hivex handles (hive_node_h, hive_value_h) are byte offsets into the hive file pointing at the
 * cell's size field (checked on the Windows 7 SYSTEM sample: the vk of fDenyTSConnections sits
 * at its value handle + 4).  The in-place DWORD write relies on that.
 */
#ifndef RP_REG_INTERNAL_H
#define RP_REG_INTERNAL_H

#include "reg/reg.h"

#include <hivex.h>

/* Windows' limit for a value stored in one cell; longer data needs a db record, which hivex
 * never writes. */
#define REG_MAX_CELL_DATA 16344
/* Deepest key path walked (Windows allows 512 levels). */
#define REG_MAX_DEPTH 512

struct rp_hive {
	char *name;
	const uint8_t *image; /* read-only shared mapping of the in-memory file hivex opened */
	size_t len;
	int fd; /* that in-memory file */
	hive_h *hx;
};

/* A malloc'd copy of the hive's image, read from its in-memory file (not through the mapping,
 * so that the hive's pages are not made resident a second time). */
int reg_hive_read_image(const rp_hive *h, uint8_t **image, rp_err *err);

/* An anonymous in-memory file (memfd, or an already unlinked temp file) that hivex can open
 * by the name in path ("/proc/self/fd/N"). */
typedef struct reg_memfile {
	int fd;
	char path[64];
	int in_tmpdir; /* no memfd: an unlinked file in TMPDIR */
} reg_memfile;

int reg_memfile_create(reg_memfile *mf, const uint8_t *data, size_t len, rp_err *err);
/* Reads the whole file into a malloc'd buffer. */
int reg_memfile_read(reg_memfile *mf, uint8_t **data, size_t *len, rp_err *err);
void reg_memfile_close(reg_memfile *mf);
/* Opens hivex read-only on the filled scratch file mf, the hive's first len bytes (mf taken
 * over, also on failure: its descriptor stays with the hive, for reading bytes without
 * mapping them). */
int reg_hive_open_memfile(rp_hive **out, const char *name, reg_memfile *mf, size_t len,
			  rp_err *err);

/* hivex_open on a copy of the bytes (flags as for hivex_open); what names the hive in messages. */
hive_h *reg_hivex_open(const char *what, const uint8_t *data, size_t len, int flags, rp_err *err);

/* "SYSTEM\\Control\\Foo" or "SYSTEM" for the root, for messages (malloc'd, escaped). */
char *reg_display(const char *hive, const char *key);

/* Next non-empty component of a backslash path: *p advances past it; returns its length (0 at
 * the end) and sets *start. */
size_t reg_next_component(const char **p, const char **start);

/* Finds the node for key (case-insensitive).  1 found, 0 absent, -1 hivex error (err filled,
 * RP_EXIT_UNUSABLE). */
int reg_lookup(hive_h *hx, const char *hive, const char *key, hive_node_h *node, rp_err *err);

/* reg_lookup for a key that must exist: absent is an error ("<hive>\\<key>: no such key"). */
int reg_lookup_existing(hive_h *hx, const char *hive, const char *key, hive_node_h *node,
			rp_err *err);

/* Key paths equal / key below-or-equal ancestor, case-insensitive, empty components ignored. */
int reg_path_equal(const char *a, const char *b);
int reg_path_within(const char *key, const char *ancestor);

#endif
