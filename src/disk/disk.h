/*
 * disk.h — what is on a disk: image formats and partition tables.
 *
 * TARGET may be a raw disk image, a block device, a fixed VHD (512-byte "conectix" footer; the
 * disk data is everything before it) or a single-partition image (a bare NTFS boot sector at
 * offset 0).  Partition tables: MBR (types 0x07/0x17/0x27, protective 0xEE -> GPT) and GPT
 * (basic data, WinRE, ...).  Every field read from the disk is bounds-checked: the disk may come
 * from a compromised machine.  Probing only reads.
 */
#ifndef RP_DISK_H
#define RP_DISK_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

typedef enum rp_fs {
	RP_FS_UNKNOWN = 0,
	RP_FS_NTFS,	 /* "NTFS    " at offset 3 */
	RP_FS_BITLOCKER, /* "-FVE-FS-" at offset 3: encrypted, refused */
	RP_FS_FAT,	 /* EFI system partition, RDPRESCUE report partition */
} rp_fs;

typedef struct rp_part {
	int number;	 /* 1-based as in the table; 0 for a bare (single-partition) image */
	uint64_t offset; /* bytes from the start of the disk data */
	uint64_t size;	 /* bytes */
	rp_fs fs;
	char type[48]; /* "gpt basic data", "gpt winre", "mbr 0x07", "bare", ... */
	char name[72]; /* GPT partition name (UTF-8, from the disk: escape before printing) */
} rp_part;

typedef struct rp_disk {
	char *path;
	int is_blockdev;
	uint64_t size;	 /* bytes of disk data (a VHD's footer excluded) */
	char format[16]; /* "raw", "vhd", "block" */
	char scheme[8];	 /* "gpt", "mbr", "none" */
	rp_part *parts;
	size_t nparts;
} rp_disk;

/* Opens path read-only, identifies the format and the partitions, closes it again.  Fails with
 * RP_EXIT_UNUSABLE (missing file, not a disk, dynamic/differencing VHD, a partition past the
 * end of the image, ...) or RP_EXIT_USAGE (a directory or special file that is not a disk). */
int rp_disk_probe(rp_disk *disk, const char *path, rp_err *err);
void rp_disk_free(rp_disk *disk);

/* 0 when the volume at [offset, offset+size) of path may be written now; otherwise -1 with
 * RP_EXIT_UNUSABLE and a message naming the cause and the way out (inuse.c): a read-only
 * device (BLKROGET) or image, a /dev node this user may not open ("run as root"), or the same
 * bytes in use elsewhere: mounted through a loop device, a partition or a device-mapper mapping,
 * or held open exclusively.  command ("fix", "undo", "acl") is named in the suggestion. */
int rp_disk_check_write(const char *path, uint64_t offset, uint64_t size, const char *command,
			rp_err *err);

/* Where rp_disk_check_write_in looks for the other users of the bytes.  rp_disk_check_write
 * uses the real ones ("/sys", "/proc/self/mountinfo", "/dev"); the tests build a fake tree of
 * /sys/block, /sys/dev/block, /sys/class/block, a mountinfo file and a /dev with the names. */
typedef struct rp_disk_roots {
	const char *sys;       /* sysfs: block/, dev/block/, class/block/ below it */
	const char *mountinfo; /* the mount table, /proc/self/mountinfo format */
	const char *dev;       /* device nodes: /dev/NAME, /dev/mapper/NAME; a mount's source
				* "/dev/X" is looked up as dev + "/X" */
} rp_disk_roots;

/* rp_disk_check_write with the given roots (NULL: the real ones). */
int rp_disk_check_write_in(const rp_disk_roots *roots, const char *path, uint64_t offset,
			   uint64_t size, const char *command, rp_err *err);

/* A stable identity of the disk behind the block device path (ident.c), the same under every
 * name the disk gets and different for a clone where the hardware says so: "wwid:...",
 * "serial:...", "loop:<backing file>", "gpt:<disk GUID>" or "mbr:<signature>" in out (cut
 * to size).  1 when found; 0 with out "" for a file or when nothing identifies the disk. */
int rp_disk_identity(const char *path, char *out, size_t size);
/* The same with the given sysfs root (roots->sys; NULL: the real one). */
int rp_disk_identity_in(const rp_disk_roots *roots, const char *path, char *out, size_t size);

/* The parsers on memory, for tests and fuzzing.  head holds the first len bytes of the disk data
 * (at least 34 sectors of 512 bytes are read when available); disk_size is the disk data size. */
int rp_disk_parse(const uint8_t *head, size_t len, uint64_t disk_size, rp_disk *disk, rp_err *err);
/* footer = the last 512 bytes of the file.  Returns 1 for a fixed VHD (*data_size set), 0 when
 * the footer is not a VHD footer, -1 (err) for a VHD rdprescue cannot use. */
int rp_disk_parse_vhd_footer(const uint8_t footer[512], uint64_t file_size, uint64_t *data_size,
			     rp_err *err);
/* Classifies a partition from its first sector. */
rp_fs rp_disk_classify(const uint8_t *sector, size_t len);

#endif
