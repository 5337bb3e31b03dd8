/*
 * fat.c — the FAT backend: the EFI system partition (FAT32, also FAT12/16), where UEFI Windows
 * keeps its boot configuration (EFI/Microsoft/Boot/BCD).
 *
 * Debian ships no FAT library that links statically (only tools: mtools, dosfstools, fatcat,
 * and FUSE modules), so this is a small reader of its own.  Every field of the boot sector,
 * every FAT entry and every directory entry is bounds-checked: chains must stay inside the
 * cluster area and may not loop, files must fit their chains.  Names are the long (VFAT) name
 * when there is one, else the 8.3 name; lookups are case-insensitive.
 *
 * Writing is deliberately narrow: an existing, non-empty file is rewritten in place, cluster by
 * cluster.  When the new content needs more clusters (hivex grows a hive by a 4 KiB page for a
 * new key), free clusters are filled first, then the file's own clusters, and only then is the
 * chain extended in every FAT copy and the directory entry's size set; fewer clusters (undo of
 * such a write) cut the chain after the data is written.  Nothing is created, renamed or moved,
 * so nothing else on the volume can be damaged.  The rewrite is not atomic: the caller's
 * verified backup is what makes it safe (plan/ writes it first, undo rewrites the original the
 * same way).  Anything else (a new or empty file, mkdir, remove, security descriptors, a full
 * volume) is refused before a byte is written.
 */
#include "vol/backend.h"
#include "util/bytes.h"
#include "util/fault.h"
#include "util/text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest file or directory read into memory (a BCD is tens of KiB). */
#define FAT_MAX_READ ((uint64_t)256 << 20)

/* Boot sector (BIOS parameter block) fields. */
#define BPB_BYTES_PER_SECTOR 11
#define BPB_SECTORS_PER_CLUSTER 13
#define BPB_RESERVED_SECTORS 14
#define BPB_NUM_FATS 16
#define BPB_ROOT_ENTRIES 17
#define BPB_TOTAL_SECTORS16 19
#define BPB_FAT_SECTORS16 22
#define BPB_TOTAL_SECTORS32 32
#define BPB32_FAT_SECTORS 36
#define BPB32_ROOT_CLUSTER 44
#define BPB32_FSINFO_SECTOR 48
#define BPB16_LABEL 43
#define BPB32_LABEL 71

/* Directory entry (32 bytes). */
#define DIRENT_SIZE 32
#define DE_ATTR 11
#define DE_CLUSTER_HI 20
#define DE_CLUSTER_LO 26
#define DE_SIZE 28
#define ATTR_READONLY 0x01
#define ATTR_VOLUME_ID 0x08
#define ATTR_DIRECTORY 0x10
#define ATTR_LFN 0x0F

struct fat_priv {
	int fd;
	uint64_t base, size; /* the partition inside the file */
	int bits;	     /* 12, 16 or 32 */
	uint32_t cluster_size;
	uint64_t fat_off; /* first FAT, bytes from base */
	uint64_t fat_len; /* bytes of one FAT */
	uint32_t nfats;
	uint64_t fsinfo_off; /* FAT32 FSInfo sector (0: none) */
	uint64_t root_off;   /* FAT12/16 fixed root directory */
	uint32_t root_len;
	uint32_t root_cluster; /* FAT32 */
	uint64_t data_off;     /* cluster 2 */
	uint32_t nclusters;    /* data clusters: valid numbers are 2 .. nclusters+1 */
};

/* One looked-up entry. */
typedef struct fat_entry {
	int exists;
	int is_dir;
	uint8_t attr;
	uint32_t cluster;
	uint32_t size;
	uint64_t de_off; /* the 32-byte directory entry, bytes from the partition start */
} fat_entry;

static struct fat_priv *fp(rp_vol *vol)
{
	return vol->priv;
}

static int corrupt(rp_vol *vol, const char *what, rp_err *err)
{
	return rp_fail(err, RP_EXIT_UNUSABLE,
		       "the FAT volume on %s is damaged (%s): run a FAT check (fsck.vfat -n) on it",
		       vol->where, what);
}

/* Reads n bytes at off inside the partition. */
static int read_at(rp_vol *vol, uint64_t off, uint8_t *buf, size_t n, rp_err *err)
{
	struct fat_priv *p = fp(vol);
	if (off > p->size || n > p->size - off)
		return corrupt(vol, "a structure lies past the end of the partition", err);
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(p->fd, buf + done, n - done, (off_t)(p->base + off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return rp_fail(err, RP_EXIT_UNUSABLE, "read error on %s at byte %llu: %s",
				       vol->where, (unsigned long long)(p->base + off + done),
				       r < 0 ? strerror(errno) : "short read");
		done += (size_t)r;
	}
	return 0;
}

static uint64_t cluster_off(const struct fat_priv *p, uint32_t c)
{
	return p->data_off + (uint64_t)(c - 2) * p->cluster_size;
}

static int valid_cluster(const struct fat_priv *p, uint32_t c)
{
	return c >= 2 && c - 2 < p->nclusters;
}

/* The FAT entry of cluster c (c valid). */
static int fat_next(rp_vol *vol, uint32_t c, uint32_t *next, rp_err *err)
{
	struct fat_priv *p = fp(vol);
	uint8_t b[4] = {0};
	if (p->bits == 32) {
		if (read_at(vol, p->fat_off + (uint64_t)c * 4, b, 4, err) < 0)
			return -1;
		*next = rp_le32(b) & 0x0FFFFFFF;
	} else if (p->bits == 16) {
		if (read_at(vol, p->fat_off + (uint64_t)c * 2, b, 2, err) < 0)
			return -1;
		*next = rp_le16(b);
	} else {
		if (read_at(vol, p->fat_off + (uint64_t)c * 3 / 2, b, 2, err) < 0)
			return -1;
		uint16_t v = rp_le16(b);
		*next = (c & 1) ? v >> 4 : v & 0xFFF;
	}
	return 0;
}

static int is_end(const struct fat_priv *p, uint32_t v)
{
	return p->bits == 32 ? v >= 0x0FFFFFF8 : p->bits == 16 ? v >= 0xFFF8 : v >= 0xFF8;
}

/* The clusters of a chain starting at first: its first want clusters when want > 0 (a chain
 * that goes on past a file's size is read the way Windows reads it; one that ends before is
 * damaged), else the whole chain up to its end (a directory, or a file being rewritten).  A
 * chain that visits a cluster twice is damaged.  malloc'd. */
static int chain(rp_vol *vol, uint32_t first, uint32_t want, uint32_t **out, uint32_t *n,
		 rp_err *err)
{
	struct fat_priv *p = fp(vol);
	*out = NULL;
	*n = 0;
	uint32_t cap = 0, c = first;
	uint64_t limit = want ? want : FAT_MAX_READ / p->cluster_size;
	uint8_t *seen = rp_xcalloc((size_t)p->nclusters / 8 + 1, 1);
	int rc = 0;
	for (;;) {
		if (!valid_cluster(p, c)) {
			rc = corrupt(vol, "a cluster chain leaves the data area", err);
			break;
		}
		uint32_t bit = c - 2;
		if ((seen[bit / 8] >> (bit % 8)) & 1) {
			rc = corrupt(vol, "a cluster chain loops", err);
			break;
		}
		seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
		if (*n >= limit) {
			rc = corrupt(vol, "a cluster chain is too long to load", err);
			break;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = rp_xrealloc(*out, (size_t)cap * sizeof **out);
		}
		(*out)[(*n)++] = c;
		if (want && *n == want)
			break;
		uint32_t next;
		if (fat_next(vol, c, &next, err) < 0) {
			rc = -1;
			break;
		}
		if (is_end(p, next)) {
			if (want)
				rc = corrupt(vol, "a file's cluster chain is shorter than the file",
					     err);
			break;
		}
		c = next;
	}
	free(seen);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* Reads a directory's raw entries (cluster 0 = the root); *cl (malloc'd, NULL for the fixed
 * FAT12/16 root) maps them back to the disk. */
static int read_dir(rp_vol *vol, uint32_t cluster, uint8_t **buf, size_t *len, uint32_t **cl,
		    rp_err *err)
{
	struct fat_priv *p = fp(vol);
	*buf = NULL;
	*len = 0;
	*cl = NULL;
	if (cluster == 0 && p->bits != 32) {
		*buf = rp_xmalloc(p->root_len ? p->root_len : 1);
		*len = p->root_len;
		return read_at(vol, p->root_off, *buf, p->root_len, err);
	}
	if (cluster == 0)
		cluster = p->root_cluster;
	uint32_t n;
	if (chain(vol, cluster, 0, cl, &n, err) < 0)
		return -1;
	*len = (size_t)n * p->cluster_size;
	*buf = rp_xmalloc(*len);
	int rc = 0;
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = read_at(vol, cluster_off(p, (*cl)[i]), *buf + (size_t)i * p->cluster_size,
			     p->cluster_size, err);
	return rc;
}

/* Where byte boff of a directory read by read_dir lies on the disk. */
static uint64_t dir_disk_off(const struct fat_priv *p, const uint32_t *cl, size_t boff)
{
	if (!cl)
		return p->root_off + boff;
	return cluster_off(p, cl[boff / p->cluster_size]) + boff % p->cluster_size;
}

/* Walks the entries of a directory image: cb gets each live entry with its name (long name
 * when a valid one precedes it, else the 8.3 name).  cb returns non-zero to stop. */
typedef int (*dirent_cb)(void *ctx, const char *name, const uint8_t *de);

static void short_name(const uint8_t *de, char out[13])
{
	size_t n = 0;
	for (int i = 0; i < 8 && de[i] != ' '; i++)
		out[n++] = (char)(i == 0 && de[0] == 0x05 ? 0xE5 : de[i]);
	if (de[8] != ' ') {
		out[n++] = '.';
		for (int i = 8; i < 11 && de[i] != ' '; i++)
			out[n++] = (char)de[i];
	}
	out[n] = 0;
	/* Bytes >= 0x80 are OEM code page characters: shown as '?' (never raw). */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] >= 0x80 || (unsigned char)out[i] < 0x20)
			out[i] = '?';
}

static uint8_t lfn_checksum(const uint8_t *de)
{
	uint8_t sum = 0;
	for (int i = 0; i < 11; i++)
		sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + de[i]);
	return sum;
}

static int walk_dir(const uint8_t *buf, size_t len, dirent_cb cb, void *ctx)
{
	/* Long name: up to 20 parts of 13 UTF-16 units. */
	uint8_t lfn[20 * 26];
	int lfn_parts = 0, lfn_next = 0;
	uint8_t lfn_sum = 0;
	for (size_t off = 0; off + DIRENT_SIZE <= len; off += DIRENT_SIZE) {
		const uint8_t *de = buf + off;
		if (de[0] == 0x00)
			break;
		if (de[0] == 0xE5) {
			lfn_parts = 0;
			continue;
		}
		if ((de[DE_ATTR] & 0x3F) == ATTR_LFN) {
			int seq = de[0] & 0x1F;
			if (de[0] & 0x40) {
				lfn_parts = seq >= 1 && seq <= 20 ? seq : 0;
				lfn_next = seq;
				lfn_sum = de[13];
				memset(lfn, 0xFF, sizeof lfn);
			}
			if (!lfn_parts || seq != lfn_next || de[13] != lfn_sum) {
				lfn_parts = 0;
				continue;
			}
			uint8_t *part = lfn + (size_t)(seq - 1) * 26;
			memcpy(part, de + 1, 10);
			memcpy(part + 10, de + 14, 12);
			memcpy(part + 22, de + 28, 4);
			lfn_next--;
			continue;
		}
		char name[13 * 20 * 4 + 1];
		const char *shown = name;
		char *long_name = NULL;
		if (lfn_parts && lfn_next == 0 && lfn_checksum(de) == lfn_sum) {
			size_t units = 0;
			while (units < (size_t)lfn_parts * 13 &&
			       (lfn[2 * units] | lfn[2 * units + 1]) != 0 &&
			       !(lfn[2 * units] == 0xFF && lfn[2 * units + 1] == 0xFF))
				units++;
			long_name = units ? rp_utf16_to_utf8(lfn, units * 2) : NULL;
		}
		lfn_parts = 0;
		if (de[DE_ATTR] & ATTR_VOLUME_ID) {
			free(long_name);
			continue;
		}
		if (long_name && *long_name)
			shown = long_name;
		else
			short_name(de, name);
		int skip = !strcmp(shown, ".") || !strcmp(shown, "..") || !*shown;
		int stop = skip ? 0 : cb(ctx, shown, de);
		free(long_name);
		if (stop)
			return stop;
	}
	return 0;
}

static void entry_of(const uint8_t *de, int bits, fat_entry *e)
{
	e->exists = 1;
	e->attr = de[DE_ATTR];
	e->is_dir = (de[DE_ATTR] & ATTR_DIRECTORY) != 0;
	e->cluster = rp_le16(de + DE_CLUSTER_LO) |
		     (bits == 32 ? (uint32_t)rp_le16(de + DE_CLUSTER_HI) << 16 : 0);
	e->size = rp_le32(de + DE_SIZE);
}

typedef struct find_ctx {
	const char *name;
	int bits;
	const uint8_t *buf;
	fat_entry *found;
	size_t boff;
} find_ctx;

static int find_cb(void *ctx, const char *name, const uint8_t *de)
{
	find_ctx *f = ctx;
	if (rp_strcasecmp(name, f->name) != 0)
		return 0;
	entry_of(de, f->bits, f->found);
	f->boff = (size_t)(de - f->buf);
	return 1;
}

/* Looks up a normalised path; e->exists = 0 when it is missing. */
static int lookup(rp_vol *vol, const char *path, fat_entry *e, rp_err *err)
{
	struct fat_priv *p = fp(vol);
	memset(e, 0, sizeof *e);
	e->exists = 1;
	e->is_dir = 1;
	e->attr = ATTR_DIRECTORY;
	if (!*path)
		return 0;
	char *copy = rp_xstrdup(path), *save = NULL;
	uint32_t dir = 0;
	int rc = 0, depth = 0;
	for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		if (!e->is_dir || ++depth > 64) {
			memset(e, 0, sizeof *e);
			break;
		}
		uint8_t *buf;
		size_t len;
		uint32_t *cl;
		if (read_dir(vol, dir, &buf, &len, &cl, err) < 0) {
			free(buf);
			free(cl);
			rc = -1;
			break;
		}
		fat_entry found = {0};
		find_ctx f = {.name = comp, .bits = p->bits, .buf = buf, .found = &found};
		walk_dir(buf, len, find_cb, &f);
		if (found.exists)
			found.de_off = dir_disk_off(p, cl, f.boff);
		free(buf);
		free(cl);
		*e = found;
		if (!e->exists)
			break;
		if (e->is_dir && e->cluster == 0) {
			/* ".." style entry pointing to the root: not expected below the root. */
			rc = corrupt(vol, "a directory without clusters", err);
			break;
		}
		dir = e->cluster;
	}
	free(copy);
	return rc;
}

static void stat_of(const fat_entry *e, rp_stat *st)
{
	memset(st, 0, sizeof *st);
	st->exists = e->exists;
	st->is_dir = e->is_dir;
	st->size = e->is_dir ? 0 : e->size;
	st->attributes = e->attr & 0x37;
}

static int fat_stat(rp_vol *vol, const char *path, rp_stat *st, rp_err *err)
{
	fat_entry e;
	if (lookup(vol, path, &e, err) < 0)
		return -1;
	stat_of(&e, st);
	return 0;
}

static int not_found(rp_vol *vol, const char *path, rp_err *err)
{
	char *shown = rp_escape(path);
	rp_fail(err, RP_EXIT_UNUSABLE, "%s not found on %s", shown, vol->where);
	free(shown);
	return -1;
}

/* The clusters of a file (none for an empty one). */
static int file_clusters(rp_vol *vol, const fat_entry *e, uint32_t **cl, uint32_t *n, rp_err *err)
{
	struct fat_priv *p = fp(vol);
	*cl = NULL;
	*n = 0;
	if (e->size == 0)
		return 0;
	if (e->size > FAT_MAX_READ)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "a file on %s is too large to load (%u bytes)", vol->where, e->size);
	uint32_t want = (uint32_t)(((uint64_t)e->size + p->cluster_size - 1) / p->cluster_size);
	return chain(vol, e->cluster, want, cl, n, err);
}

static int fat_read(rp_vol *vol, const char *path, uint8_t **data, size_t *len, rp_err *err)
{
	struct fat_priv *p = fp(vol);
	fat_entry e;
	if (lookup(vol, path, &e, err) < 0)
		return -1;
	if (!e.exists || e.is_dir)
		return not_found(vol, path, err);
	uint32_t *cl, n;
	if (file_clusters(vol, &e, &cl, &n, err) < 0)
		return -1;
	*data = rp_xmalloc(e.size ? e.size : 1);
	*len = e.size;
	int rc = 0;
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		size_t at = (size_t)i * p->cluster_size;
		size_t chunk = e.size - at < p->cluster_size ? e.size - at : p->cluster_size;
		rc = read_at(vol, cluster_off(p, cl[i]), *data + at, chunk, err);
	}
	free(cl);
	if (rc < 0) {
		free(*data);
		*data = NULL;
		*len = 0;
	}
	return rc;
}

typedef struct list_ctx {
	rp_vol_list_cb cb;
	void *ctx;
	int bits;
} list_ctx;

static int list_cb(void *ctx, const char *name, const uint8_t *de)
{
	list_ctx *l = ctx;
	fat_entry e = {0};
	entry_of(de, l->bits, &e);
	rp_stat st;
	stat_of(&e, &st);
	return l->cb(l->ctx, name, &st);
}

static int fat_list(rp_vol *vol, const char *dir, rp_vol_list_cb cb, void *ctx, rp_err *err)
{
	fat_entry e;
	if (lookup(vol, dir, &e, err) < 0)
		return -1;
	if (!e.exists || !e.is_dir)
		return not_found(vol, dir, err);
	uint8_t *buf;
	size_t len;
	uint32_t *cl;
	int rc = read_dir(vol, *dir ? e.cluster : 0, &buf, &len, &cl, err);
	list_ctx l = {.cb = cb, .ctx = ctx, .bits = fp(vol)->bits};
	if (rc == 0)
		walk_dir(buf, len, list_cb, &l);
	free(buf);
	free(cl);
	return rc;
}

/* FAT keeps no security descriptors: there is none to read (sd stays NULL). */
static int fat_get_sd(rp_vol *vol, const char *path, uint8_t **sd, size_t *len, rp_err *err)
{
	(void)vol;
	(void)path;
	(void)sd;
	(void)len;
	(void)err;
	return 0;
}

static int refuse(rp_vol *vol, const char *what, const char *path, rp_err *err)
{
	char *shown = rp_escape(*path ? path : "/");
	rp_fail(err, RP_EXIT_UNUSABLE,
		"%s %s on the FAT volume %s: rdprescue only rewrites existing FAT files in "
		"place at the same size; nothing was written",
		what, shown, vol->where);
	free(shown);
	return -1;
}

static int fat_set_sd(rp_vol *vol, const char *path, const uint8_t *sd, size_t len, rp_err *err)
{
	(void)sd;
	(void)len;
	return refuse(vol, "setting a security descriptor of", path, err);
}

static int fat_mkdir(rp_vol *vol, const char *path, rp_err *err)
{
	return refuse(vol, "creating directory", path, err);
}

static int fat_remove(rp_vol *vol, const char *path, rp_err *err)
{
	return refuse(vol, "removing", path, err);
}

static uint32_t clusters_for(const struct fat_priv *p, uint64_t bytes)
{
	return (uint32_t)((bytes + p->cluster_size - 1) / p->cluster_size);
}

/* Up to want free clusters (FAT entry 0), lowest first; *got says how many were found. */
static int find_free(rp_vol *vol, uint32_t want, uint32_t *out, uint32_t *got, rp_err *err)
{
	struct fat_priv *p = fp(vol);
	*got = 0;
	for (uint32_t c = 2; c - 2 < p->nclusters && *got < want; c++) {
		uint32_t next;
		if (fat_next(vol, c, &next, err) < 0)
			return -1;
		if (next == 0)
			out[(*got)++] = c;
	}
	return 0;
}

/* The refusal for a write this backend cannot do (checked before anything is written). */
static int check_replace(rp_vol *vol, const char *path, size_t len, rp_err *err)
{
	struct fat_priv *p = fp(vol);
	fat_entry e;
	if (lookup(vol, path, &e, err) < 0)
		return -1;
	if (!e.exists || e.is_dir || e.size == 0 || len == 0)
		return refuse(vol, !e.exists ? "creating" : "writing", path, err);
	if (e.attr & ATTR_READONLY)
		return refuse(vol, "writing the read-only file", path, err);
	if (len > FAT_MAX_READ)
		return refuse(vol, "writing a very large", path, err);
	uint32_t have = clusters_for(p, e.size), need = clusters_for(p, len);
	if (need <= have)
		return 0;
	uint32_t *spare = rp_xmalloc((size_t)(need - have) * sizeof *spare), got;
	int rc = find_free(vol, need - have, spare, &got, err);
	free(spare);
	if (rc == 0 && got < need - have) {
		char *shown = rp_escape(path);
		rc =
		    rp_fail(err, RP_EXIT_UNUSABLE,
			    "writing %s on the FAT volume %s: it grows to %zu bytes and the volume "
			    "has only %u free clusters of the %u needed; nothing was written; free "
			    "space on the EFI system partition first",
			    shown, vol->where, len, got, need - have);
		free(shown);
	}
	return rc;
}

static int fat_check_replace(rp_vol *vol, const char *path, size_t len, rp_err *err)
{
	return check_replace(vol, path, len, err);
}

/* point names the write for fault injection: "fat.data" (file content) or "fat.meta" (FAT
 * entries, the directory entry, FSInfo). */
static int write_at(rp_vol *vol, uint64_t off, const uint8_t *buf, size_t n, const char *point,
		    rp_err *err)
{
	struct fat_priv *p = fp(vol);
	size_t done = 0;
	while (done < n) {
		ssize_t w = rp_fault(point) ? (errno = EIO, -1)
					    : pwrite(p->fd, buf + done, n - done,
						     (off_t)(p->base + off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return rp_fail(err, RP_EXIT_WRITE_FAILED,
				       "write error on %s at byte %llu: %s", vol->where,
				       (unsigned long long)(p->base + off + done),
				       w < 0 ? strerror(errno) : "short write");
		done += (size_t)w;
	}
	return 0;
}

/* Sets cluster c's FAT entry to v in every FAT copy. */
static int fat_set(rp_vol *vol, uint32_t c, uint32_t v, rp_err *err)
{
	struct fat_priv *p = fp(vol);
	for (uint32_t k = 0; k < p->nfats; k++) {
		uint64_t base = p->fat_off + k * p->fat_len;
		uint8_t b[4];
		if (p->bits == 32) {
			if (read_at(vol, base + (uint64_t)c * 4, b, 4, err) < 0)
				return -1;
			rp_put_le32(b, (rp_le32(b) & 0xF0000000u) | (v & 0x0FFFFFFFu));
			if (write_at(vol, base + (uint64_t)c * 4, b, 4, "fat.meta", err) < 0)
				return -1;
		} else if (p->bits == 16) {
			b[0] = (uint8_t)v;
			b[1] = (uint8_t)(v >> 8);
			if (write_at(vol, base + (uint64_t)c * 2, b, 2, "fat.meta", err) < 0)
				return -1;
		} else {
			uint64_t at = base + (uint64_t)c * 3 / 2;
			if (read_at(vol, at, b, 2, err) < 0)
				return -1;
			uint16_t w = rp_le16(b);
			w = (c & 1) ? (uint16_t)((w & 0x000F) | (v & 0xFFF) << 4)
				    : (uint16_t)((w & 0xF000) | (v & 0xFFF));
			b[0] = (uint8_t)w;
			b[1] = (uint8_t)(w >> 8);
			if (write_at(vol, at, b, 2, "fat.meta", err) < 0)
				return -1;
		}
	}
	return 0;
}

static uint32_t end_of_chain(const struct fat_priv *p)
{
	return p->bits == 32 ? 0x0FFFFFFF : p->bits == 16 ? 0xFFFF : 0xFFF;
}

static int count_free(rp_vol *vol, uint64_t *n, rp_err *err)
{
	struct fat_priv *p = fp(vol);
	*n = 0;
	for (uint32_t c = 2; c - 2 < p->nclusters; c++) {
		uint32_t next;
		if (fat_next(vol, c, &next, err) < 0)
			return -1;
		*n += next == 0;
	}
	return 0;
}

/* Sets the FAT32 FSInfo free-cluster hint to the real count after the chain changed (a count
 * recorded as unknown, 0xFFFFFFFF, stays unknown; an FSInfo without its signatures is left). */
static int fsinfo_update(rp_vol *vol, rp_err *err)
{
	struct fat_priv *p = fp(vol);
	uint8_t lead[4], sig[4], b[4];
	if (!p->fsinfo_off)
		return 0;
	if (read_at(vol, p->fsinfo_off, lead, 4, err) < 0 ||
	    read_at(vol, p->fsinfo_off + 484, sig, 4, err) < 0 ||
	    read_at(vol, p->fsinfo_off + 488, b, 4, err) < 0)
		return -1;
	if (rp_le32(lead) != 0x41615252 || rp_le32(sig) != 0x61417272 || rp_le32(b) == 0xFFFFFFFF)
		return 0;
	uint64_t n;
	if (count_free(vol, &n, err) < 0)
		return -1;
	rp_put_le32(b, (uint32_t)n);
	return write_at(vol, p->fsinfo_off + 488, b, 4, "fat.meta", err);
}

static int fat_write_file(rp_vol *vol, const char *path, const uint8_t *data, size_t len,
			  const uint8_t *sd, size_t sd_len, rp_err *err)
{
	struct fat_priv *p = fp(vol);
	(void)sd;
	(void)sd_len;
	if (check_replace(vol, path, len, err) < 0)
		return -1;
	fat_entry e;
	uint32_t *old, have;
	/* The whole chain, which may be longer than the size says (an interrupted growth). */
	if (lookup(vol, path, &e, err) < 0 || chain(vol, e.cluster, 0, &old, &have, err) < 0)
		return -1;
	uint32_t need = clusters_for(p, len), extra = need > have ? need - have : 0, got = 0;
	uint32_t *cl = rp_xmalloc((size_t)(have + extra) * sizeof *cl);
	memcpy(cl, old, (size_t)have * sizeof *cl);
	int rc = find_free(vol, extra, cl + have, &got, err);
	if (rc == 0 && got < extra)
		rc = rp_fail(err, RP_EXIT_UNUSABLE,
			     "%s: the free clusters are gone; nothing written", vol->where);
	/* Data first: the new clusters (still free, so harmless), then the file's own clusters
	 * after the first, the first (a hive's base block) last. */
	for (uint32_t k = 0; k < need && rc == 0; k++) {
		uint32_t i = need - 1 - k;
		if (i == 0 && k + 1 < need)
			continue;
		size_t at = (size_t)i * p->cluster_size;
		size_t chunk = len - at < p->cluster_size ? len - at : p->cluster_size;
		rc = write_at(vol, cluster_off(p, cl[i]), data + at, chunk, "fat.data", err);
	}
	if (rc == 0 && need > 1) {
		size_t chunk = len < p->cluster_size ? len : p->cluster_size;
		rc = write_at(vol, cluster_off(p, cl[0]), data, chunk, "fat.data", err);
	}
	if (rc == 0 && (rp_fault("fat.fsync") || fsync(p->fd) < 0))
		rc = rp_fail(err, RP_EXIT_WRITE_FAILED, "flushing %s failed: %s", vol->where,
			     strerror(errno));
	/* Then the metadata, in an order that leaves a readable file at every step (a chain
	 * longer than the size is read like Windows reads it): growing, the new clusters are
	 * chained, then linked in, then the size set; shrinking, the size first, then the chain
	 * cut and its tail freed. */
	uint32_t chained = have;
	for (uint32_t j = have; j < need && rc == 0; j++, chained++)
		rc = fat_set(vol, cl[j], j + 1 < need ? cl[j + 1] : end_of_chain(p), err);
	if (rc == 0 && need > have)
		rc = fat_set(vol, cl[have - 1], cl[have], err);
	uint32_t last_next = 0;
	if (rc < 0 && need > have && fat_next(vol, cl[have - 1], &last_next, NULL) == 0 &&
	    is_end(p, last_next))
		/* Not linked in (the first FAT, the one read, still ends the file there): give the
		 * new clusters back, as far as the volume still lets us. */
		for (uint32_t j = have; j < chained; j++)
			fat_set(vol, cl[j], 0, NULL);
	if (rc == 0 && len != e.size) {
		uint8_t b[4];
		rp_put_le32(b, (uint32_t)len);
		rc = write_at(vol, e.de_off + DE_SIZE, b, 4, "fat.meta", err);
	}
	if (rc == 0 && need < have)
		rc = fat_set(vol, cl[need - 1], end_of_chain(p), err);
	for (uint32_t j = need; j < have && rc == 0; j++)
		rc = fat_set(vol, cl[j], 0, err);
	if (rc == 0 && need != have)
		rc = fsinfo_update(vol, err);
	free(old);
	free(cl);
	if (rc == 0 && (rp_fault("fat.fsync") || fsync(p->fd) < 0))
		rc = rp_fail(err, RP_EXIT_WRITE_FAILED, "flushing %s failed: %s", vol->where,
			     strerror(errno));
	if (rc < 0)
		return -1;
	uint8_t *back = NULL;
	size_t back_len = 0;
	if (fat_read(vol, path, &back, &back_len, err) < 0) {
		err->exit_code = RP_EXIT_WRITE_FAILED;
		return -1;
	}
	int same = back_len == len && memcmp(back, data, len) == 0;
	free(back);
	if (!same) {
		char *shown = rp_escape(path);
		rp_fail(err, RP_EXIT_WRITE_FAILED, "%s on %s does not read back as written", shown,
			vol->where);
		free(shown);
		return -1;
	}
	return 0;
}

static int fat_sync(rp_vol *vol, rp_err *err)
{
	if (fsync(fp(vol)->fd) < 0)
		return rp_fail(err, RP_EXIT_WRITE_FAILED, "flushing %s failed: %s", vol->where,
			       strerror(errno));
	return 0;
}

static int fat_free_space(rp_vol *vol, uint64_t *bytes, rp_err *err)
{
	uint64_t n;
	if (count_free(vol, &n, err) < 0)
		return -1;
	*bytes = n * fp(vol)->cluster_size;
	return 0;
}

static int fat_close(rp_vol *vol, rp_err *err)
{
	struct fat_priv *p = fp(vol);
	int rc = 0;
	if (!p)
		return 0;
	if (p->fd >= 0) {
		if (vol->writable && fsync(p->fd) < 0)
			rc = rp_fail(err, RP_EXIT_WRITE_FAILED, "flushing %s failed: %s",
				     vol->where, strerror(errno));
		close(p->fd);
	}
	free(p);
	vol->priv = NULL;
	return rc;
}

const struct rp_vol_ops rp_vol_fat_ops = {
    .name = "fat",
    .stat = fat_stat,
    .read = fat_read,
    .list = fat_list,
    .get_sd = fat_get_sd,
    .set_sd = fat_set_sd,
    .mkdir = fat_mkdir,
    .write_file = fat_write_file,
    .remove = fat_remove,
    .sync = fat_sync,
    .free_space = fat_free_space,
    .close = fat_close,
    .check_replace = fat_check_replace,
};

/* Validates the boot sector and fills the geometry. */
static int parse_bpb(rp_vol *vol, const uint8_t *bs)
{
	struct fat_priv *p = fp(vol);
	uint32_t bps = rp_le16(bs + BPB_BYTES_PER_SECTOR), spc = bs[BPB_SECTORS_PER_CLUSTER];
	uint32_t reserved = rp_le16(bs + BPB_RESERVED_SECTORS), nfats = bs[BPB_NUM_FATS];
	uint32_t root_entries = rp_le16(bs + BPB_ROOT_ENTRIES);
	uint64_t total = rp_le16(bs + BPB_TOTAL_SECTORS16);
	if (!total)
		total = rp_le32(bs + BPB_TOTAL_SECTORS32);
	uint64_t fat_sectors = rp_le16(bs + BPB_FAT_SECTORS16);
	int is32 = fat_sectors == 0;
	if (is32)
		fat_sectors = rp_le32(bs + BPB32_FAT_SECTORS);
	if ((bps != 512 && bps != 1024 && bps != 2048 && bps != 4096) || spc == 0 ||
	    (spc & (spc - 1)) || reserved == 0 || nfats == 0 || nfats > 4 || fat_sectors == 0 ||
	    total == 0 || rp_le16(bs + 510) != 0xAA55)
		return -1;
	uint64_t root_sectors = ((uint64_t)root_entries * DIRENT_SIZE + bps - 1) / bps;
	uint64_t meta = reserved + nfats * fat_sectors + root_sectors;
	if (meta >= total || total * bps > p->size)
		return -1;
	uint64_t clusters = (total - meta) / spc;
	p->bits = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
	if ((p->bits == 32) != is32 || (is32 && root_entries != 0) || clusters > 0x0FFFFFF5)
		return -1;
	p->cluster_size = bps * spc;
	p->fat_off = (uint64_t)reserved * bps;
	p->fat_len = fat_sectors * bps;
	p->nfats = nfats;
	p->root_off = p->fat_off + nfats * p->fat_len;
	p->root_len = (uint32_t)(root_entries * DIRENT_SIZE);
	p->data_off = meta * bps;
	p->nclusters = (uint32_t)clusters;
	/* The FAT must have an entry for every cluster. */
	if ((uint64_t)(clusters + 2) * (uint64_t)p->bits > p->fat_len * 8)
		return -1;
	p->root_cluster = is32 ? rp_le32(bs + BPB32_ROOT_CLUSTER) : 0;
	uint32_t fsinfo = is32 ? rp_le16(bs + BPB32_FSINFO_SECTOR) : 0;
	if (fsinfo && fsinfo < reserved)
		p->fsinfo_off = (uint64_t)fsinfo * bps;
	if (is32 && !valid_cluster(p, p->root_cluster))
		return -1;
	const uint8_t *label = bs + (is32 ? BPB32_LABEL : BPB16_LABEL);
	size_t n = 11;
	while (n && label[n - 1] == ' ')
		n--;
	for (size_t i = 0; i < n; i++)
		vol->label[i] = label[i] >= 0x20 && label[i] < 0x7F ? (char)label[i] : '?';
	vol->label[n] = 0;
	if (!strcmp(vol->label, "NO NAME"))
		vol->label[0] = 0;
	return 0;
}

int rp_vol_open_fat(rp_vol **out, const char *dev_path, uint64_t offset, uint64_t size,
		    int writable, rp_err *err)
{
	*out = NULL;
	if (size < 512 || offset > UINT64_MAX - size)
		return rp_fail(err, RP_EXIT_UNUSABLE, "%s: impossible FAT partition range",
			       dev_path);
	struct stat st;
	int blk = stat(dev_path, &st) == 0 && S_ISBLK(st.st_mode);
	/* No O_EXCL on a block device: the Windows volume opened beside it holds the disk. */
	int fd = open(dev_path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return rp_fail(err, RP_EXIT_UNUSABLE, "cannot open %s%s: %s", dev_path,
			       writable ? " for writing" : "", strerror(errno));
	if (!blk) {
		struct flock lk = {.l_type = writable ? F_WRLCK : F_RDLCK,
				   .l_whence = SEEK_SET,
				   .l_start = (off_t)offset,
				   .l_len = (off_t)size};
		if (fcntl(fd, F_OFD_SETLK, &lk) < 0) {
			close(fd);
			return rp_fail(err, RP_EXIT_UNUSABLE,
				       "%s is in use by another program (locked): close it first",
				       dev_path);
		}
	}
	rp_vol *vol = rp_vol_new(&rp_vol_fat_ops, dev_path, writable);
	struct fat_priv *p = rp_xcalloc(1, sizeof *p);
	p->fd = fd;
	p->base = offset;
	p->size = size;
	vol->priv = p;
	vol->size = size;
	uint8_t bs[512];
	rp_err rerr = {0};
	if (read_at(vol, 0, bs, sizeof bs, &rerr) < 0 || parse_bpb(vol, bs) < 0) {
		rp_vol_close(vol, NULL);
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "%s at byte %llu does not hold a FAT file system this tool can read",
			       dev_path, (unsigned long long)offset);
	}
	*out = vol;
	return 0;
}
