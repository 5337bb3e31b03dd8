/*
 * ntfs_journal.c — the redo journal that makes every change of the libntfs-3g backend atomic.
 *
 * libntfs-3g has no journal: one operation (create, link, delete) writes MFT records, index
 * blocks and bitmaps one after the other, and a process killed between two of those writes
 * leaves an index that lists names twice or names a record that is not there.  So the offset
 * device (ntfs_dev.c) keeps every write of an operation in memory, and a commit goes through
 * this file: all changed blocks are written to a journal file next to the image (or under
 * $RP_JOURNAL_DIR, /var/lib/rdprescue for block devices) and fsync'd, then written to the
 * volume and fsync'd, then the journal is removed.  A block device's journal is named after
 * the volume (NTFS serial number, offset) and the disk's stable identity (disk/ident.c: WWID,
 * serial, a loop device's backing file, GPT GUID or MBR signature; hashed), never after the
 * device's name: a journal on persistent storage (the rescue image's RDPRESCUE partition) is
 * found again when the disk comes back as /dev/sdc instead of /dev/sdb, and a clone of the
 * disk (same serial number) does not take it.  The next open of the volume replays a
 * complete journal (the kill came while the blocks were being written in place) and drops an
 * incomplete one (the kill came before anything was written in place).
 *
 * A journal records the new contents of each block; replaying it over a volume that changed
 * since (the disk booted Windows, chkdsk ran, anything wrote to it) would overwrite what was
 * written there.  So each record also carries the SHA-256 of the block as the device held it
 * when the journal was written (the pre-image), and before a replay or overlay every block is
 * checked: it must hold either the new contents (already written in place) or the pre-image
 * (not written yet; a kill during the in-place writes leaves a mix).  Any other block makes
 * the journal "stale": nothing of it is used, and a read-write open renames it to
 * <name>.stale-<UTC time> beside it (never deleted; a read-only open only reports it).
 *
 * Ordered blocks (version 3): a block that lies wholly in clusters the volume's bitmap shows
 * free before the operation (a new file's data) is invisible to the volume until the
 * journaled blocks (MFT records, indexes, the bitmap) point at it.  The offset device writes
 * such blocks in place and syncs them before the journal is written, and the journal holds
 * only their numbers and the SHA-256 of their new contents, so a file's data is written once
 * and not three times (journal, read back, in place).  A kill before the journal is complete
 * leaves them in free clusters, as if never written.  Before a replay each must hold its new
 * contents, or the journal is stale: something wrote there since.
 *
 * File layout (little-endian, named in struct jr_head / jr_tail below): a head (40 bytes; 48
 * in version 3, which adds the number of ordered blocks), then per journaled block its number
 * (8 bytes), the pre-image's SHA-256 (64 bytes, lower-case hex) and RP_JR_BLOCK bytes, then per
 * ordered block its number and the SHA-256 (hex) of its new contents, then a tail: the
 * SHA-256 (hex) of everything before it and the end magic.  Version 2 ("RPJRNL02") has no
 * ordered blocks; version 1 ("RPJRNL01", rdprescue before the guard) has no pre-image hashes
 * and is still read and replayed, without the check.  A journal for another partition (base
 * or size differ), a short file or a bad checksum is "incomplete".
 */
#include "vol/ntfs_internal.h"
#include "disk/disk.h"
#include "util/bytes.h"
#include "util/fault.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/text.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JR_MAGIC_V1 "RPJRNL01" /* no pre-image hashes: replayed unchecked */
#define JR_MAGIC_V2 "RPJRNL02" /* no ordered blocks */
#define JR_MAGIC "RPJRNL03"
#define JR_END "RPJEND01"

/* On-disk head: magic, partition base and size, block count, block size, reserved. */
struct jr_head {
	uint8_t magic[8];
	uint8_t base[8], size[8], nblocks[8];
	uint8_t block_size[4], reserved[4];
};

/* Version 3's head: the number of ordered blocks follows. */
struct jr_head3 {
	struct jr_head h;
	uint8_t nordered[8];
};

/* On-disk tail: SHA-256 (lower-case hex) of head and records, then JR_END. */
struct jr_tail {
	uint8_t sha256[64];
	uint8_t magic[8];
};

/* On-disk record: block number, pre-image SHA-256 (hex; absent in version 1), new contents. */
#define JR_HASH 64
#define JR_RECORD_V1 (8 + RP_JR_BLOCK)
#define JR_RECORD (8 + JR_HASH + RP_JR_BLOCK)
/* On-disk ordered record (version 3): block number, SHA-256 (hex) of its new contents. */
#define JR_ORDERED (8 + JR_HASH)

/* The length of block no inside a partition of size bytes (the last one may be short). */
static size_t block_len(uint64_t no, uint64_t size)
{
	uint64_t off = no * RP_JR_BLOCK;
	return size - off < RP_JR_BLOCK ? (size_t)(size - off) : RP_JR_BLOCK;
}

/* Reads block no of the partition from fd (its length: block_len); -1 (errno) on failure. */
static int read_block(int fd, uint64_t base, uint64_t size, uint64_t no, uint8_t *buf)
{
	return rp_pread_all(fd, buf, block_len(no, size), base + no * RP_JR_BLOCK);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	rp_put_le32(p, (uint32_t)v);
	rp_put_le32(p + 4, (uint32_t)(v >> 32));
}

char *rp_jr_path(const char *dev_path, int is_blockdev, uint64_t base, const uint8_t serial[8],
		 const char *suffix)
{
	const char *dir = getenv("RP_JOURNAL_DIR");
	if (!is_blockdev && !(dir && *dir))
		return rp_xasprintf("%s@%llu%s", dev_path, (unsigned long long)base, suffix);
	if (!(dir && *dir))
		dir = "/var/lib/rdprescue";
	if (is_blockdev) {
		unsigned long long ser = (unsigned long long)rp_le64(serial);
		char *older = rp_xasprintf("%s/ntfs-%016llx@%llu%s", dir, ser,
					   (unsigned long long)base, suffix);
		char ident[512], hash[65];
		if (!rp_disk_identity(dev_path, ident, sizeof ident))
			return older;
		rp_sha256_hex((const uint8_t *)ident, strlen(ident), hash);
		char *path = rp_xasprintf("%s/ntfs-%016llx@%llu-%.16s%s", dir, ser,
					  (unsigned long long)base, hash, suffix);
		/* What an older rdprescue left under the serial-only name is this disk's now. */
		struct stat st;
		if (lstat(path, &st) != 0 && lstat(older, &st) == 0 && S_ISREG(st.st_mode))
			rename(older, path);
		free(older);
		return path;
	}
	char *copy = rp_xstrdup(dev_path);
	char *out =
	    rp_xasprintf("%s/%s@%llu%s", dir, basename(copy), (unsigned long long)base, suffix);
	free(copy);
	return out;
}

/* mkdir -p: the parents as 0755 (a fresh /var/lib on a rescue image's RAM disk), the
 * directory itself 0700 (the journal holds volume blocks). */
static int make_dirs(char *dir, mode_t mode)
{
	if (mkdir(dir, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -1;
	*slash = '\0';
	int rc = make_dirs(dir, 0755);
	*slash = '/';
	if (rc < 0)
		return -1;
	return mkdir(dir, mode) == 0 || errno == EEXIST ? 0 : -1;
}

int rp_jr_prepare_dir(const char *path)
{
	char *copy = rp_xstrdup(path);
	int rc = make_dirs(dirname(copy), 0700);
	free(copy);
	return rc;
}

/* fsync of the directory that holds path: the journal's name is durable too. */
static int sync_dir_of(const char *path)
{
	char *copy = rp_xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

void rp_jr_hash(const struct rp_jr_block *b, size_t n, uint64_t size, char (*hex)[65])
{
	for (size_t i = 0; i < n; i++)
		rp_sha256_hex(b[i].data,
			      b[i].no <= (size - 1) / RP_JR_BLOCK ? block_len(b[i].no, size) : 0,
			      hex[i]);
}

int rp_jr_write(const char *path, int fd_dev, uint64_t base, uint64_t size,
		const struct rp_jr_block *b, size_t n, const struct rp_jr_block *ord,
		const char (*ord_hash)[65], size_t nord)
{
	if (fd_dev < 0 && nord) {
		errno = EINVAL;
		return -1;
	}
	size_t rec = fd_dev >= 0 ? JR_RECORD : JR_RECORD_V1;
	size_t head = fd_dev >= 0 ? sizeof(struct jr_head3) : sizeof(struct jr_head);
	size_t len = head + n * rec + nord * JR_ORDERED + sizeof(struct jr_tail);
	uint8_t *buf = rp_xcalloc(1, len);
	struct jr_head *h = (struct jr_head *)buf;
	memcpy(h->magic, fd_dev >= 0 ? JR_MAGIC : JR_MAGIC_V1, 8);
	put_le64(h->base, base);
	put_le64(h->size, size);
	put_le64(h->nblocks, n);
	rp_put_le32(h->block_size, RP_JR_BLOCK);
	if (fd_dev >= 0)
		put_le64(((struct jr_head3 *)buf)->nordered, nord);
	uint8_t *p = buf + head;
	uint8_t *old = rp_xmalloc(RP_JR_BLOCK);
	int bad = 0;
	for (size_t i = 0; i < n; i++, p += rec) {
		put_le64(p, b[i].no);
		if (fd_dev < 0) {
			memcpy(p + 8, b[i].data, RP_JR_BLOCK);
			continue;
		}
		/* The pre-image: what the device holds now, before anything is written in place. */
		char hex[65];
		if (b[i].no > (size - 1) / RP_JR_BLOCK) {
			errno = EINVAL;
			bad = 1;
			break;
		}
		if (read_block(fd_dev, base, size, b[i].no, old) < 0) {
			bad = 1;
			break;
		}
		rp_sha256_hex(old, block_len(b[i].no, size), hex);
		memcpy(p + 8, hex, JR_HASH);
		memcpy(p + 8 + JR_HASH, b[i].data, RP_JR_BLOCK);
	}
	free(old);
	for (size_t i = 0; !bad && i < nord; i++, p += JR_ORDERED) {
		if (ord[i].no > (size - 1) / RP_JR_BLOCK) {
			errno = EINVAL;
			bad = 1;
			break;
		}
		put_le64(p, ord[i].no);
		if (ord_hash) {
			memcpy(p + 8, ord_hash[i], JR_HASH);
		} else {
			char hex[65];
			rp_sha256_hex(ord[i].data, block_len(ord[i].no, size), hex);
			memcpy(p + 8, hex, JR_HASH);
		}
	}
	/* The ordered blocks are on the disk before the journal that names them exists; the
	 * hashes above were taken while the kernel wrote them out (rp_od_commit starts that). */
	if (!bad && nord && fsync(fd_dev) < 0)
		bad = 1;
	if (bad) {
		int e = errno;
		free(buf);
		errno = e;
		return -1;
	}
	struct jr_tail *t = (struct jr_tail *)p;
	char hex[65];
	rp_sha256_hex(buf, (size_t)(p - buf), hex);
	memcpy(t->sha256, hex, 64);
	memcpy(t->magic, JR_END, 8);

	int rc = -1;
	int fd = rp_jr_prepare_dir(path) < 0
		     ? -1
		     : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		rc = rp_write_all(fd, buf, len) == 0 && fsync(fd) == 0 ? 0 : -1;
		int e = errno;
		if (close(fd) < 0 && rc == 0)
			rc = -1;
		else
			errno = e;
		if (rc == 0)
			rc = sync_dir_of(path);
		if (rc < 0) {
			e = errno;
			unlink(path);
			errno = e;
		}
	}
	free(buf);
	return rc;
}

/* Whether every journaled block (records at p) holds its new contents or its pre-image on the
 * device, and every ordered block (records at q) its new contents: 1 yes, 0 no (the volume
 * changed since), -1 unreadable (errno). */
static int matches_volume(int fd_dev, uint64_t base, uint64_t size, const uint8_t *p, uint64_t n,
			  const uint8_t *q, uint64_t nord)
{
	uint8_t *cur = rp_xmalloc(RP_JR_BLOCK);
	int rc = 1;
	for (uint64_t i = 0; rc == 1 && i < n; i++, p += JR_RECORD) {
		uint64_t no = rp_le64(p);
		size_t len = block_len(no, size);
		char hex[65];
		if (read_block(fd_dev, base, size, no, cur) < 0) {
			rc = -1;
		} else if (memcmp(cur, p + 8 + JR_HASH, len) != 0) {
			rp_sha256_hex(cur, len, hex);
			if (memcmp(hex, p + 8, JR_HASH) != 0)
				rc = 0;
		}
	}
	for (uint64_t i = 0; rc == 1 && i < nord; i++, q += JR_ORDERED) {
		uint64_t no = rp_le64(q);
		char hex[65];
		if (read_block(fd_dev, base, size, no, cur) < 0) {
			rc = -1;
		} else {
			rp_sha256_hex(cur, block_len(no, size), hex);
			if (memcmp(hex, q + 8, JR_HASH) != 0)
				rc = 0;
		}
	}
	free(cur);
	return rc;
}

char *rp_jr_set_aside(const char *path)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm))
		snprintf(stamp, sizeof stamp, "%lld", (long long)now);
	char *to = rp_xasprintf("%s.stale-%s", path, stamp);
	struct stat st;
	/* Two in the same second: never overwrite the first. */
	for (int k = 1; lstat(to, &st) == 0 && k < 1000; k++) {
		free(to);
		to = rp_xasprintf("%s.stale-%s-%d", path, stamp, k);
	}
	if (lstat(to, &st) == 0 || rename(path, to) < 0 || sync_dir_of(to) < 0) {
		int e = errno;
		free(to);
		errno = e;
		return NULL;
	}
	return to;
}

int rp_jr_read(const char *path, int fd_dev, uint64_t base, uint64_t size, struct rp_jr_block **out,
	       size_t *nout)
{
	*out = NULL;
	*nout = 0;
	/* Not a FIFO's open that never returns, nor a link followed: what is there but not a
	 * regular file is no journal of ours (incomplete). */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0 && errno == ELOOP)
		return -2;
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	size_t fixed = sizeof(struct jr_head) + sizeof(struct jr_tail);
	/* A journal holds at most the whole partition (and version 3's longer head). */
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < fixed ||
	    (uint64_t)st.st_size - fixed >
		(size / RP_JR_BLOCK + 1) * (uint64_t)JR_RECORD + sizeof(struct jr_head3)) {
		close(fd);
		return -2;
	}
	size_t len = (size_t)st.st_size;
	uint8_t *buf = rp_xmalloc(len);
	size_t done = 0;
	while (done < len) {
		ssize_t r =
		    rp_fault("jr:read") ? (errno = EIO, -1) : read(fd, buf + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) { /* unreadable is not incomplete: it must not be dropped */
			int e = errno;
			close(fd);
			free(buf);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	close(fd);
	const struct jr_head *h = (const struct jr_head *)buf;
	int v3 = memcmp(h->magic, JR_MAGIC, 8) == 0;
	int hashed = v3 || memcmp(h->magic, JR_MAGIC_V2, 8) == 0; /* pre-image hashes */
	size_t head = v3 ? sizeof(struct jr_head3) : sizeof(struct jr_head);
	size_t rec = hashed ? JR_RECORD : JR_RECORD_V1;
	uint64_t n = rp_le64(h->nblocks);
	uint64_t nord = v3 && len >= head ? rp_le64(((const struct jr_head3 *)buf)->nordered) : 0;
	/* The records: what lies between the head and the tail, exactly n and nord of them. */
	size_t body =
	    len >= head + sizeof(struct jr_tail) ? len - head - sizeof(struct jr_tail) : 0;
	int rc = -2;
	if (done == len && len >= head + sizeof(struct jr_tail) &&
	    (hashed || memcmp(h->magic, JR_MAGIC_V1, 8) == 0) && rp_le64(h->base) == base &&
	    rp_le64(h->size) == size && rp_le32(h->block_size) == RP_JR_BLOCK && n <= body / rec &&
	    nord <= (body - n * rec) / JR_ORDERED && body == n * rec + nord * JR_ORDERED) {
		const struct jr_tail *t = (const struct jr_tail *)(buf + len - sizeof *t);
		char hex[65];
		rp_sha256_hex(buf, len - sizeof *t, hex);
		if (memcmp(t->magic, JR_END, 8) == 0 && memcmp(t->sha256, hex, 64) == 0)
			rc = 1;
	}
	const uint8_t *p = buf + head, *q = p + (rc == 1 ? n * rec : 0);
	for (uint64_t i = 0; rc == 1 && i < n; i++)
		if (rp_le64(p + i * rec) > (size - 1) / RP_JR_BLOCK)
			rc = -2;
	for (uint64_t i = 0; rc == 1 && i < nord; i++)
		if (rp_le64(q + i * JR_ORDERED) > (size - 1) / RP_JR_BLOCK)
			rc = -2;
	if (rc == 1 && hashed) {
		int m = matches_volume(fd_dev, base, size, p, n, q, nord);
		rc = m == 1 ? 1 : m == 0 ? -3 : -1;
	}
	if (rc == 1) {
		struct rp_jr_block *b = rp_xcalloc(n ? n : 1, sizeof *b);
		size_t skip = hashed ? JR_HASH : 0;
		for (uint64_t i = 0; i < n; i++, p += rec) {
			b[i].no = rp_le64(p);
			b[i].data = rp_xmalloc(RP_JR_BLOCK);
			memcpy(b[i].data, p + 8 + skip, RP_JR_BLOCK);
		}
		*out = b;
		*nout = (size_t)n;
	}
	int e = errno;
	free(buf);
	errno = e;
	return rc;
}

int rp_jr_put(int fd, uint64_t base, uint64_t size, const struct rp_jr_block *b, size_t n)
{
	/* Runs of consecutive blocks go out in one pwritev each (a file's data: thousands of
	 * blocks, a few calls). */
	struct iovec iov[256];
	for (size_t i = 0; i < n;) {
		uint64_t off = b[i].no * RP_JR_BLOCK;
		if (off >= size) {
			errno = EINVAL;
			return -1;
		}
		size_t k = 0;
		while (i < n && k < sizeof iov / sizeof *iov && b[i].no == off / RP_JR_BLOCK + k) {
			size_t l = block_len(b[i].no, size);
			iov[k].iov_base = b[i].data;
			iov[k++].iov_len = l;
			i++;
			if (l < RP_JR_BLOCK)
				break; /* the partition's last block */
		}
		if (rp_pwritev_all(fd, iov, (int)k, (off_t)(base + off)) < 0)
			return -1;
	}
	return 0;
}

int rp_jr_apply(int fd, uint64_t base, uint64_t size, const struct rp_jr_block *b, size_t n)
{
	return rp_jr_put(fd, base, size, b, n) < 0 ? -1 : fsync(fd);
}

void rp_jr_free(struct rp_jr_block *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].data);
	free(b);
}
