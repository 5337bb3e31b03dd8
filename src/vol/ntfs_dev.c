/*
 * ntfs_dev.c — the device libntfs-3g reads and writes through: one partition of a disk, image or
 * VHD, at its byte offset (no mount, no FUSE, no loop device).
 *
 * The ops clamp every access to [offset, offset + size) of the file, so the other partitions
 * and a VHD footer are never touched, and read-only opens use O_RDONLY (the kernel then
 * guarantees that not a byte is written).  Read-write opens take an exclusive lock: O_EXCL on a
 * block device, an open-file-description write lock on an image file.
 *
 * A read-write device writes nothing in place until a commit: every write lands in an overlay
 * of RP_JR_BLOCK-byte blocks (reads see it), and rp_od_commit hands the changed blocks to the
 * redo journal (ntfs_journal.c), which makes them reach the volume all or not at all.  The
 * backend commits after each whole operation (a file replaced, a directory made, ...), so the
 * volume on disk only ever holds the state between two operations.  rp_od_discard drops an
 * operation that failed; nothing is written after that.  Opening the device replays a journal
 * an interrupted commit left (read-write) or lays it over the disk in memory (read-only).
 */
#include "vol/ntfs_internal.h"
#include "util/fault.h"
#include "util/task.h"
#include "util/text.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static struct offset_dev *odev(struct ntfs_device *dev)
{
	return dev->d_private;
}

/* ---- the overlay: block number -> RP_JR_BLOCK bytes, open addressing ---- */

struct ov_slot {
	uint64_t no; /* UINT64_MAX: free */
	uint8_t *data;
};

static struct ov_slot *ov_find(struct offset_dev *od, uint64_t no)
{
	if (!od->cap)
		return NULL;
	size_t i = (size_t)(no * 0x9E3779B97F4A7C15ull) & (od->cap - 1);
	while (od->slots[i].no != UINT64_MAX) {
		if (od->slots[i].no == no)
			return &od->slots[i];
		i = (i + 1) & (od->cap - 1);
	}
	return NULL;
}

static void ov_insert(struct offset_dev *od, uint64_t no, uint8_t *data)
{
	if (2 * (od->used + 1) > od->cap) {
		struct ov_slot *old = od->slots;
		size_t old_cap = od->cap;
		od->cap = od->cap ? 2 * od->cap : 1024;
		od->slots = rp_xmalloc(od->cap * sizeof *od->slots);
		for (size_t i = 0; i < od->cap; i++)
			od->slots[i] = (struct ov_slot){UINT64_MAX, NULL};
		od->used = 0;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i].no != UINT64_MAX)
				ov_insert(od, old[i].no, old[i].data);
		free(old);
	}
	size_t i = (size_t)(no * 0x9E3779B97F4A7C15ull) & (od->cap - 1);
	while (od->slots[i].no != UINT64_MAX)
		i = (i + 1) & (od->cap - 1);
	od->slots[i].no = no;
	od->slots[i].data = data;
	od->used++;
}

static void ov_clear(struct offset_dev *od)
{
	for (size_t i = 0; i < od->cap; i++)
		if (od->slots[i].no != UINT64_MAX)
			free(od->slots[i].data);
	free(od->slots);
	od->slots = NULL;
	od->cap = od->used = 0;
}

/* count, cut to what of [offset, offset + count) lies inside the partition (0 past its end). */
static s64 clamp(const struct offset_dev *od, s64 count, s64 offset)
{
	if ((uint64_t)offset >= od->size)
		return 0;
	if ((uint64_t)count > od->size - (uint64_t)offset)
		return (s64)(od->size - (uint64_t)offset);
	return count;
}

/* Reads [offset, offset + count) of the partition as it is on the disk (count clamped). */
static s64 raw_pread(struct offset_dev *od, void *buf, s64 count, s64 offset)
{
	count = clamp(od, count, offset);
	s64 done = 0;
	while (done < count) {
		ssize_t r = pread(od->fd, (char *)buf + done, (size_t)(count - done),
				  (off_t)(od->base + (uint64_t)offset + (uint64_t)done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return done ? done : -1;
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

/* ---- the read cache: RC_CHUNK-aligned chunks of the disk, RC_SLOTS of them ----
 *
 * libntfs-3g reads the same MFT records and index blocks again for every file it opens (a
 * MachineKeys folder of 100,000 files: 15 small preads per file, each byte read 9 times).  The
 * cache holds the disk's bytes only; the overlay is laid over what it returns, so writes need
 * not touch it.  What changes the disk (a commit or a journal replayed on open) drops the
 * chunks it wrote.  A chunk that cannot be read whole is not cached: the request is then read
 * alone, so that a bad sector beside it fails no read that worked without the cache.  Reads of
 * more than a chunk (a hive's runs) go straight to the disk.  Chunks are evicted by clock.
 * 64 KiB: 32 KiB to 256 KiB cost the same on a 100,000-file walk, and a lone 1 KiB MFT
 * record read from a scattered MFT copies less than with a bigger chunk. */

#define RC_CHUNK ((uint64_t)64 << 10)
#define RC_SLOTS 256 /* 16 MiB: past that, a MachineKeys walk saves 3% of its reads */
#define RC_HASH 512  /* a power of two */

struct rc_slot {
	uint64_t no; /* chunk number in the partition */
	uint8_t *data;
	uint32_t len; /* RC_CHUNK, or less at the end of the partition */
	int32_t next; /* hash chain, -1 at the end */
	int ref;      /* used since the clock hand passed */
	int used;
};

struct rcache {
	struct rc_slot slot[RC_SLOTS];
	int32_t head[RC_HASH];
	size_t nslots, hand;
};

static size_t rc_hash(uint64_t no)
{
	return (size_t)((no * 0x9E3779B97F4A7C15ull) >> 32) & (RC_HASH - 1);
}

static void rc_free(struct offset_dev *od)
{
	if (!od->rc)
		return;
	for (size_t i = 0; i < od->rc->nslots; i++)
		free(od->rc->slot[i].data);
	free(od->rc);
	od->rc = NULL;
}

static struct rc_slot *rc_find(struct rcache *rc, uint64_t no)
{
	for (int32_t i = rc->head[rc_hash(no)]; i >= 0; i = rc->slot[i].next)
		if (rc->slot[i].no == no)
			return &rc->slot[i];
	return NULL;
}

static void rc_unlink(struct rcache *rc, struct rc_slot *s)
{
	int32_t *at = &rc->head[rc_hash(s->no)];
	int32_t me = (int32_t)(s - rc->slot);
	while (*at >= 0 && *at != me)
		at = &rc->slot[*at].next;
	if (*at == me)
		*at = s->next;
	s->used = 0;
	s->next = -1;
}

/* Drops the chunks that hold [offset, offset + len) of the partition. */
static void rc_invalidate(struct offset_dev *od, uint64_t offset, uint64_t len)
{
	if (!od->rc || !len)
		return;
	for (uint64_t no = offset / RC_CHUNK; no <= (offset + len - 1) / RC_CHUNK; no++) {
		struct rc_slot *s = rc_find(od->rc, no);
		if (s)
			rc_unlink(od->rc, s);
	}
}

/* The chunk no, read from the disk when it is not cached; NULL when it cannot be read whole. */
static struct rc_slot *rc_chunk(struct offset_dev *od, uint64_t no)
{
	if (!od->rc) {
		od->rc = rp_xcalloc(1, sizeof *od->rc);
		for (size_t i = 0; i < RC_HASH; i++)
			od->rc->head[i] = -1;
	}
	struct rcache *rc = od->rc;
	struct rc_slot *s = rc_find(rc, no);
	if (s) {
		s->ref = 1;
		return s;
	}
	if (rc->nslots < RC_SLOTS) {
		s = &rc->slot[rc->nslots++];
		s->data = rp_xmalloc(RC_CHUNK);
	} else {
		/* Clock: the first chunk not used since the hand last passed it. */
		for (;;) {
			s = &rc->slot[rc->hand];
			rc->hand = (rc->hand + 1) % RC_SLOTS;
			if (!s->used || !s->ref)
				break;
			s->ref = 0;
		}
		if (s->used)
			rc_unlink(rc, s);
	}
	uint64_t want = no * RC_CHUNK < od->size ? od->size - no * RC_CHUNK : 0;
	if (want > RC_CHUNK)
		want = RC_CHUNK;
	if (!want || raw_pread(od, s->data, (s64)want, (s64)(no * RC_CHUNK)) != (s64)want)
		return NULL; /* the slot stays free */
	s->no = no;
	s->len = (uint32_t)want;
	s->ref = 1;
	s->used = 1;
	s->next = rc->head[rc_hash(no)];
	rc->head[rc_hash(no)] = (int32_t)(s - rc->slot);
	return s;
}

/* raw_pread through the cache. */
static s64 cached_pread(struct offset_dev *od, void *buf, s64 count, s64 offset)
{
	if ((uint64_t)count > RC_CHUNK)
		return raw_pread(od, buf, count, offset);
	count = clamp(od, count, offset);
	s64 done = 0;
	while (done < count) {
		uint64_t at = (uint64_t)offset + (uint64_t)done;
		struct rc_slot *s = rc_chunk(od, at / RC_CHUNK);
		if (!s) {
			s64 r = raw_pread(od, (char *)buf + done, count - done, (s64)at);
			return r < 0 ? (done ? done : -1) : done + r;
		}
		size_t in = (size_t)(at % RC_CHUNK);
		size_t n = s->len > in ? s->len - in : 0;
		if ((s64)n > count - done)
			n = (size_t)(count - done);
		if (!n)
			break;
		memcpy((char *)buf + done, s->data + in, n);
		done += (s64)n;
	}
	return done;
}

/* The overlay block no, made from the disk's bytes when it is not there yet; whole: the caller
 * overwrites all of it, so the disk's bytes need not be read (a new file's clusters). */
static uint8_t *ov_block(struct offset_dev *od, uint64_t no, int whole)
{
	struct ov_slot *s = ov_find(od, no);
	if (s)
		return s->data;
	uint8_t *data = whole ? rp_xmalloc(RP_JR_BLOCK) : rp_xcalloc(1, RP_JR_BLOCK);
	if (!whole && cached_pread(od, data, RP_JR_BLOCK, (s64)(no * RP_JR_BLOCK)) < 0) {
		free(data);
		return NULL;
	}
	ov_insert(od, no, data);
	return data;
}

static int cmp_block(const void *a, const void *b)
{
	uint64_t x = ((const struct rp_jr_block *)a)->no, y = ((const struct rp_jr_block *)b)->no;
	return x < y ? -1 : x > y;
}

void rp_od_set_bitmap(struct offset_dev *od, uint32_t cluster_size, uint64_t nr_clusters,
		      const struct rp_od_run *runs, size_t n)
{
	free(od->bitmap_runs);
	od->bitmap_runs = n ? rp_xmalloc(n * sizeof *runs) : NULL;
	if (n)
		memcpy(od->bitmap_runs, runs, n * sizeof *runs);
	od->nbitmap_runs = n;
	od->cluster_size = cluster_size;
	od->nr_clusters = nr_clusters;
}

/* Where in the partition the bitmap byte of cluster lcn is; UINT64_MAX when no run holds it. */
static uint64_t bitmap_byte(const struct offset_dev *od, uint64_t lcn)
{
	uint64_t byte = lcn / 8, vcn = byte / od->cluster_size;
	for (size_t i = 0; i < od->nbitmap_runs; i++) {
		const struct rp_od_run *r = &od->bitmap_runs[i];
		if (r->lcn >= 0 && r->vcn >= 0 && vcn >= (uint64_t)r->vcn &&
		    vcn - (uint64_t)r->vcn < (uint64_t)r->len)
			return ((uint64_t)r->lcn + (vcn - (uint64_t)r->vcn)) * od->cluster_size +
			       byte % od->cluster_size;
	}
	return UINT64_MAX;
}

/* One block of the bitmap as the disk holds it, read once for many lookups. */
struct bitmap_view {
	uint64_t no; /* UINT64_MAX: nothing read yet */
	s64 len;
	uint8_t data[RP_JR_BLOCK];
};

/* Whether block no lies wholly in clusters that the bitmap on the disk (the state before this
 * operation; the overlay holds the new one) shows free.  Anything unknown or unreadable: no. */
static int free_on_disk(struct offset_dev *od, uint64_t no, struct bitmap_view *v)
{
	if (!od->cluster_size || !od->nbitmap_runs)
		return 0;
	uint64_t first = no * RP_JR_BLOCK / od->cluster_size;
	uint64_t last = (no * RP_JR_BLOCK + RP_JR_BLOCK - 1) / od->cluster_size;
	if (last >= od->nr_clusters)
		return 0;
	for (uint64_t lcn = first; lcn <= last; lcn++) {
		uint64_t at = bitmap_byte(od, lcn);
		if (at == UINT64_MAX)
			return 0;
		if (v->no != at / RP_JR_BLOCK) {
			v->no = at / RP_JR_BLOCK;
			v->len = raw_pread(od, v->data, RP_JR_BLOCK, (s64)(v->no * RP_JR_BLOCK));
		}
		if (v->len <= (s64)(at % RP_JR_BLOCK) ||
		    v->data[at % RP_JR_BLOCK] & (1u << (lcn % 8)))
			return 0;
	}
	return 1;
}

struct hash_job {
	const struct rp_jr_block *b;
	size_t n;
	uint64_t size;
	char (*hex)[65];
};

static void hash_ordered(void *arg)
{
	struct hash_job *j = arg;
	rp_jr_hash(j->b, j->n, j->size, j->hex);
}

int rp_od_commit(struct offset_dev *od)
{
	if (od->dropped) {
		errno = EIO;
		return -1;
	}
	if (!od->used)
		return 0;
	struct rp_jr_block *b = rp_xmalloc(od->used * sizeof *b);
	size_t n = 0;
	for (size_t i = 0; i < od->cap; i++)
		if (od->slots[i].no != UINT64_MAX)
			b[n++] = (struct rp_jr_block){od->slots[i].no, od->slots[i].data};
	qsort(b, n, sizeof *b, cmp_block);
	/* Blocks in clusters that were free (a new file's data) are ordered: written in place
	 * first, only their hashes journaled; the rest stay in b, journaled. */
	struct rp_jr_block *ord = rp_xmalloc(n * sizeof *ord);
	size_t nj = 0, nord = 0;
	struct bitmap_view *view = rp_xmalloc(sizeof *view);
	view->no = UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		if (free_on_disk(od, b[i].no, view))
			ord[nord++] = b[i];
		else
			b[nj++] = b[i];
	}
	free(view);
	/* The ordered blocks' hashes are taken while they go out. */
	char(*ord_hash)[65] = rp_xmalloc((nord ? nord : 1) * sizeof *ord_hash);
	struct hash_job hj = {ord, nord, od->size, ord_hash};
	rp_task *hashing = nord ? rp_task_start(hash_ordered, &hj) : NULL;
	/* SIGINT, SIGTERM and SIGHUP wait until the blocks are in place. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	int rc = 0;
	/* What reaches the disk, or may have reached it, is read from it again. */
	for (size_t i = 0; i < nj; i++)
		rc_invalidate(od, b[i].no * RP_JR_BLOCK, RP_JR_BLOCK);
	for (size_t i = 0; i < nord; i++)
		rc_invalidate(od, ord[i].no * RP_JR_BLOCK, RP_JR_BLOCK);
	/* The ordered blocks go first (rp_jr_write syncs them before the journal that makes them
	 * part of the volume exists): a failure or kill until then leaves them in free clusters.
	 * Their write-out starts now, while their hashes are taken. */
	if (nord &&
	    (rp_fault("vol:ordered") || rp_jr_put(od->fd, od->base, od->size, ord, nord) < 0 ||
	     (sync_file_range(od->fd, (off_t)od->base, (off_t)od->size, SYNC_FILE_RANGE_WRITE) <
		  0 &&
	      errno != ESPIPE && errno != EINVAL))) {
		if (!errno)
			errno = EIO;
		rc = -1; /* nothing the volume shows was written */
	}
	int e = errno;
	rp_task_wait(hashing);
	errno = e;
	if (rc == 0 && rp_jr_write(od->journal, od->fd, od->base, od->size, b, nj, ord,
				   (const char(*)[65])ord_hash, nord) < 0) {
		if (!errno)
			errno = EIO;
		rc = -1; /* nothing was written in place */
	} else if (rc == 0 &&
		   (rp_fault("vol:apply") || rp_jr_apply(od->fd, od->base, od->size, b, nj) < 0)) {
		/* The journal is complete: the next open of the volume finishes the commit. */
		if (!errno)
			errno = EIO;
		od->journal_left = 1;
		rc = -1;
	} else if (rc == 0) {
		unlink(od->journal);
	}
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	free(ord_hash);
	free(b);
	free(ord);
	if (rc == 0)
		ov_clear(od);
	return rc;
}

int rp_od_pending(const struct offset_dev *od)
{
	return od->used != 0;
}

void rp_od_forget(struct offset_dev *od)
{
	ov_clear(od);
}

void rp_od_discard(struct offset_dev *od)
{
	ov_clear(od);
	od->dropped = 1;
}

void rp_od_free(struct offset_dev *od)
{
	if (!od)
		return;
	ov_clear(od);
	rc_free(od);
	free(od->bitmap_runs);
	free(od->journal);
	free(od->stale);
	free(od->path);
	free(od);
}

/* What an interrupted commit left: replayed (read-write), laid over the disk in memory
 * (read-only), or dropped when it is incomplete (nothing of it was written in place). */
static int recover(struct offset_dev *od, int fd, int rw)
{
	struct rp_jr_block *b = NULL;
	size_t n = 0;
	int got = rp_jr_read(od->journal, fd, od->base, od->size, &b, &n);
	int rc = 0;
	if (got == 1 && rw) {
		if (rp_jr_apply(fd, od->base, od->size, b, n) < 0 || unlink(od->journal) < 0)
			rc = -1;
		else
			od->replayed = n ? (int)n : 1;
	} else if (got == 1) {
		for (size_t i = 0; i < n; i++) {
			struct ov_slot *s = ov_find(od, b[i].no);
			if (s) {
				free(s->data);
				s->data = b[i].data;
			} else {
				ov_insert(od, b[i].no, b[i].data);
			}
			b[i].data = NULL;
		}
		od->pending = 1;
	} else if (got == -3) {
		/* The volume changed since: never used; rp_vol_open_ntfs says so. */
		free(od->stale);
		od->stale = rw ? rp_jr_set_aside(od->journal) : NULL;
		if (!od->stale)
			od->stale = rp_xstrdup(od->journal); /* read-only, or the rename failed */
		if (rw) {
			errno = ESTALE;
			rc = -1;
		}
	} else if (got == -1) {
		/* Whether it is complete is unknown: writing without it could go over a
		 * half-done change, dropping it could lose one.  Read-only, the volume is read as
		 * it is (and said so); read-write, rp_vol_open_ntfs refuses. */
		od->journal_error = errno ? errno : EIO;
		if (rw) {
			errno = od->journal_error;
			rc = -1;
		}
	} else if (got == -2) {
		od->discarded = 1;
		if (rw && unlink(od->journal) < 0)
			rc = -1;
	}
	rp_jr_free(b, n);
	return rc;
}

static int od_open(struct ntfs_device *dev, int flags)
{
	struct offset_dev *od = odev(dev);
	int rw = (flags & O_ACCMODE) != O_RDONLY;
	int fd = open(od->path,
		      (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | (rw && od->is_blockdev ? O_EXCL : 0));
	if (fd < 0) {
		/* EROFS makes the library fall back to a read-only mount, which
		 * rp_vol_open_ntfs reports as "not writable". */
		if (rw && (errno == EACCES || errno == EPERM))
			errno = EROFS;
		return -1;
	}
	if (!od->is_blockdev) {
		/* An open file description lock: unlike a classic fcntl lock it is not dropped
		 * when this process closes another descriptor of the same file.  It covers the
		 * partition only, so that the boot partition of the same image can be opened
		 * beside the Windows volume. */
		struct flock lk = {.l_type = rw ? F_WRLCK : F_RDLCK,
				   .l_whence = SEEK_SET,
				   .l_start = (off_t)od->base,
				   .l_len = (off_t)od->size};
		if (fcntl(fd, F_OFD_SETLK, &lk) < 0) {
			close(fd);
			errno = EBUSY;
			return -1;
		}
	}
	/* A cache lives for one open: a journal replayed now changes the disk under it. */
	rc_free(od);
	if (!od->pending && recover(od, fd, rw) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	od->fd = fd;
	od->pos = 0;
	if (rw)
		NDevClearReadOnly(dev);
	else
		NDevSetReadOnly(dev);
	if (od->is_blockdev)
		NDevSetBlock(dev);
	NDevSetOpen(dev);
	return 0;
}

int rp_od_close(struct ntfs_device *dev)
{
	struct offset_dev *od = odev(dev);
	int rc = 0;
	/* The cache goes first: freeing it takes milliseconds, which must not stretch the time
	 * between the last commit (it clears the dirty flag) and the removal of the dirty mark. */
	rc_free(od);
	/* What libntfs-3g wrote while unmounting is the last transaction. */
	if (!NDevReadOnly(dev) && !od->dropped && rp_od_commit(od) < 0)
		rc = -1;
	if (NDevDirty(dev) && !NDevReadOnly(dev) && fsync(od->fd) < 0)
		rc = -1;
	int e = errno;
	if (close(od->fd) < 0 && rc == 0)
		rc = -1;
	else
		errno = e;
	od->fd = -1;
	NDevClearOpen(dev);
	return rc;
}

static s64 od_pread(struct ntfs_device *dev, void *buf, s64 count, s64 offset)
{
	struct offset_dev *od = odev(dev);
	if (offset < 0 || count < 0) {
		errno = EINVAL;
		return -1;
	}
	if (!od->used)
		return cached_pread(od, buf, count, offset);
	/* What is written but not committed yet comes from the overlay; only the stretches
	 * between its blocks are read from the disk (a file just written is read back from
	 * memory). */
	count = clamp(od, count, offset);
	s64 done = 0;
	while (done < count) {
		s64 at = offset + done;
		size_t in = (size_t)((uint64_t)at % RP_JR_BLOCK);
		s64 n =
		    (s64)(RP_JR_BLOCK - in) < count - done ? (s64)(RP_JR_BLOCK - in) : count - done;
		struct ov_slot *s = ov_find(od, (uint64_t)at / RP_JR_BLOCK);
		if (s) {
			memcpy((char *)buf + done, s->data + in, (size_t)n);
			done += n;
			continue;
		}
		while (done + n < count && !ov_find(od, (uint64_t)(at + n) / RP_JR_BLOCK))
			n = count - done - n < RP_JR_BLOCK ? count - done : n + RP_JR_BLOCK;
		s64 r = cached_pread(od, (char *)buf + done, n, at);
		if (r < 0)
			return done ? done : -1;
		done += r;
		if (r < n)
			break;
	}
	return done;
}

static s64 od_pwrite(struct ntfs_device *dev, const void *buf, s64 count, s64 offset)
{
	struct offset_dev *od = odev(dev);
	if (NDevReadOnly(dev)) {
		errno = EROFS;
		return -1;
	}
	if (offset < 0 || count < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)offset >= od->size) {
		errno = ENOSPC;
		return -1;
	}
	if ((uint64_t)count > od->size - (uint64_t)offset)
		count = (s64)(od->size - (uint64_t)offset);
	NDevSetDirty(dev);
	/* Into the overlay: nothing reaches the disk before rp_od_commit. */
	for (s64 at = offset; at < offset + count;) {
		uint64_t no = (uint64_t)at / RP_JR_BLOCK;
		size_t in = (size_t)((uint64_t)at % RP_JR_BLOCK);
		size_t n = RP_JR_BLOCK - in;
		if ((s64)n > offset + count - at)
			n = (size_t)(offset + count - at);
		uint8_t *data = ov_block(od, no, in == 0 && n == RP_JR_BLOCK);
		if (!data)
			return at > offset ? at - offset : -1;
		memcpy(data + in, (const char *)buf + (at - offset), n);
		at += (s64)n;
	}
	return count;
}

static s64 od_seek(struct ntfs_device *dev, s64 offset, int whence)
{
	struct offset_dev *od = odev(dev);
	s64 base;
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = od->pos;
		break;
	case SEEK_END:
		base = (s64)od->size;
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	/* Both terms are below 2^63 in practice; reject anything that would wrap. */
	if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0 ||
	    (uint64_t)(base + offset) > od->size) {
		errno = EINVAL;
		return -1;
	}
	od->pos = base + offset;
	return od->pos;
}

static s64 od_read(struct ntfs_device *dev, void *buf, s64 count)
{
	s64 r = od_pread(dev, buf, count, odev(dev)->pos);
	if (r > 0)
		odev(dev)->pos += r;
	return r;
}

static s64 od_write(struct ntfs_device *dev, const void *buf, s64 count)
{
	s64 w = od_pwrite(dev, buf, count, odev(dev)->pos);
	if (w > 0)
		odev(dev)->pos += w;
	return w;
}

static int od_sync(struct ntfs_device *dev)
{
	if (NDevReadOnly(dev))
		return 0;
	if (fsync(odev(dev)->fd) < 0)
		return -1;
	NDevClearDirty(dev);
	return 0;
}

static int od_stat(struct ntfs_device *dev, struct stat *st)
{
	if (fstat(odev(dev)->fd, st) < 0)
		return -1;
	st->st_size = (off_t)odev(dev)->size;
	return 0;
}

static int od_ioctl(struct ntfs_device *dev, unsigned long request, void *arg)
{
	struct offset_dev *od = odev(dev);
	switch (request) {
	case BLKGETSIZE64:
		*(uint64_t *)arg = od->size;
		return 0;
	case BLKGETSIZE:
		*(unsigned long *)arg = (unsigned long)(od->size >> 9);
		return 0;
	case BLKSSZGET:
		*(int *)arg = 512;
		return 0;
	default:
		errno = ENOTTY;
		return -1;
	}
}

struct ntfs_device_operations rp_offset_dev_ops = {
    .open = od_open,
    .close = rp_od_close,
    .seek = od_seek,
    .read = od_read,
    .write = od_write,
    .pread = od_pread,
    .pwrite = od_pwrite,
    .sync = od_sync,
    .stat = od_stat,
    .ioctl = od_ioctl,
};
