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
#include "regf/regf.h"
#include "vol/vol.h"

#include <hivex.h>

/* Windows' limit for a value stored in one cell; longer data needs a db record, which hivex
 * never writes. */
#define REG_MAX_CELL_DATA 16344
/* Deepest key path walked (Windows allows 512 levels). */
#define REG_MAX_DEPTH 512

/* What a hive is read through (wimlib-style ops table): hivex on the image in memory, or the
 * lazy reader of a clean hive on its volume (hive_lazy.c).  Each op answers as the hivex call of
 * the same name: handles are file offsets of cells, 0 / NULL / -1 with errno on an error, 0 with
 * errno 0 for nothing. */
typedef struct reg_backend {
	hive_node_h (*root)(rp_hive *h);
	hive_node_h *(*children)(rp_hive *h, hive_node_h node);
	char *(*node_name)(rp_hive *h, hive_node_h node);
	int64_t (*node_timestamp)(rp_hive *h, hive_node_h node);
	size_t (*node_nr_values)(rp_hive *h, hive_node_h node);
	hive_value_h *(*values)(rp_hive *h, hive_node_h node);
	char *(*value_key)(rp_hive *h, hive_value_h value);
	char *(*value_value)(rp_hive *h, hive_value_h value, hive_type *type, size_t *len);
	/* len bytes of the image at file offset off: 0, or -1 with errno. */
	int (*read)(rp_hive *h, uint64_t off, void *buf, size_t len);
	/* The whole image (h->len bytes) into buf, read from where the hive's bytes are (not
	 * through a cache): 0, or -1 with err filled. */
	int (*copy)(rp_hive *h, uint8_t *buf, rp_err *err);
	/* Optional: hivex_node_get_child / hivex_node_get_value done faster (reg_get_child and
	 * reg_get_value otherwise walk children / values and node_name / value_key). */
	hive_node_h (*get_child)(rp_hive *h, hive_node_h node, const char *name);
	hive_value_h (*get_value)(rp_hive *h, hive_node_h node, const char *name);
} reg_backend;

extern const reg_backend reg_hivex_backend, reg_lazy_backend;

/* Where a lazily read hive's bytes are: a file on a volume. */
typedef struct reg_source {
	rp_vol *vol;
	char *path;
} reg_source;

struct rp_hive {
	char *name;
	const reg_backend *ops;
	size_t len; /* the image's length */
	/* hivex: */
	const uint8_t *image; /* read-only shared mapping of the in-memory file hivex opened */
	int fd;		      /* that in-memory file */
	hive_h *hx;
	/* lazy: */
	rp_regf_reader *reader;
	reg_source src; /* a file on a volume, or: */
	uint8_t *mem;	/* the image in memory (freed on close when mem_owned) */
	int mem_owned;
};

/* Opens a clean hive (rp_regf_recover_clean said so; base_block is its first 4096 bytes) where
 * it lies, path on vol, for reading in place. */
int reg_hive_open_lazy(rp_hive **out, const char *name, rp_vol *vol, const char *path,
		       const uint8_t *base_block, rp_err *err);
/* A hive read through reader (taken over), which the caller opened on its own read function:
 * the fuzz harness's, which reads from memory.  Its image cannot be copied. */
rp_hive *reg_hive_open_reader(const char *name, rp_regf_reader *reader);
/* A lazily read hive now reads from vol (the same volume, opened again). */
void reg_hive_rebind(rp_hive *h, rp_vol *vol);
/* Opens image (len bytes in memory) with the lazy backend when it is a clean hive whose bins
 * hold, as an in-place hive would be: 1 opened (the hive frees image on close when owned), 0
 * when it is not (the caller keeps image and opens it with hivex, which decides). */
int reg_hive_open_image(rp_hive **out, const char *name, uint8_t *image, size_t len, int owned);
/* A child of node / a value of node by name, compared as hivex does (ASCII case folded). */
hive_node_h reg_get_child(rp_hive *h, hive_node_h node, const char *name);
hive_value_h reg_get_value(rp_hive *h, hive_node_h node, const char *name);

/* Opens a malloc'd image (taken over, freed also on failure) with hivex: its bytes move into
 * the in-memory file hivex maps, so the hive is not held twice.  what names the hive when the
 * scratch file cannot hold it. */
int reg_hive_open_owned(rp_hive **out, const char *name, const char *what, uint8_t *image,
			size_t len, rp_err *err);
/* A malloc'd copy of the hive's image (h->ops->copy). */
int reg_hive_read_image(const rp_hive *h, uint8_t **image, rp_err *err);

/* An anonymous in-memory file (memfd, or an already unlinked temp file) that hivex can open
 * by the name in path ("/proc/self/fd/N"). */
typedef struct reg_memfile {
	int fd;
	char path[64];
	int in_tmpdir; /* no memfd: an unlinked file in TMPDIR */
} reg_memfile;

/* With data: len bytes written into it; what names the hive when that fails. */
int reg_memfile_create(reg_memfile *mf, const char *what, const uint8_t *data, size_t len,
		       rp_err *err);
/* Reads the whole file into a malloc'd buffer. */
int reg_memfile_read(reg_memfile *mf, uint8_t **data, size_t *len, rp_err *err);
void reg_memfile_close(reg_memfile *mf);
/* Fails with "cannot hold PATH in a scratch file (in memory|in TMPDIR): ERR" and what to do. */
int reg_memfile_failed(const reg_memfile *mf, const char *path, int e, rp_err *err);
/* Opens hivex read-only on the filled scratch file mf, the hive's first len bytes (mf taken
 * over, also on failure: its descriptor stays with the hive, for reading bytes without
 * mapping them). */
int reg_hive_open_memfile(rp_hive **out, const char *name, reg_memfile *mf, size_t len,
			  rp_err *err);

/* hivex_open on a copy of the bytes (flags as for hivex_open); what names the hive in messages. */
hive_h *reg_hivex_open(const char *what, const uint8_t *data, size_t len, int flags, rp_err *err);

/* What a failed read with errno e means, for the end of a message: EIO is the volume (a hive
 * read in place), anything else the hive. */
const char *reg_damaged(int e);

/* "SYSTEM\\Control\\Foo" or "SYSTEM" for the root, for messages (malloc'd, escaped). */
char *reg_display(const char *hive, const char *key);

/* Next non-empty component of a backslash path: *p advances past it; returns its length (0 at
 * the end) and sets *start. */
size_t reg_next_component(const char **p, const char **start);

/* Finds the node for key (case-insensitive).  1 found, 0 absent, -1 read error (err filled,
 * RP_EXIT_UNUSABLE). */
int reg_lookup(rp_hive *h, const char *key, hive_node_h *node, rp_err *err);
/* reg_lookup on a hivex handle of its own (an image being edited); hive names it. */
int reg_lookup_hivex(hive_h *hx, const char *hive, const char *key, hive_node_h *node, rp_err *err);

/* reg_lookup for a key that must exist: absent is an error ("<hive>\\<key>: no such key"). */
int reg_lookup_existing(rp_hive *h, const char *key, hive_node_h *node, rp_err *err);

/* Key paths equal / key below-or-equal ancestor, case-insensitive, empty components ignored. */
int reg_path_equal(const char *a, const char *b);
int reg_path_within(const char *key, const char *ancestor);

#endif
