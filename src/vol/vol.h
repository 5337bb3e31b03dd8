/*
 * vol.h — one interface to a Windows volume, two backends.
 *
 *  - ntfs: libntfs-3g on the disk itself, opened at the partition's byte offset (no mount, no
 *    FUSE, no loop device, no root for image files);
 *  - dir: a directory where the volume is already mounted (ntfs-3g, ntfs3, a Windows share).
 *
 * Paths are volume-relative UTF-8 with '/' separators ("Windows/System32/config/SYSTEM"; a
 * leading '/' is accepted) and are looked up case-insensitively, as Windows does.
 *
 * Writes never follow reparse points: if the target or any parent directory is a junction,
 * symlink or other reparse point, the write is refused (RP_EXIT_PROBLEMS, message says which).
 * Files are replaced, never half-written (write_file).  After a failed write the volume must not
 * be touched again: callers close it and report (RP_EXIT_WRITE_FAILED).
 */
#ifndef RP_VOL_H
#define RP_VOL_H

#include "disk/disk.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct rp_vol rp_vol;

typedef struct rp_stat {
	int exists;
	int is_dir;
	int is_reparse;	  /* junction, symlink, WOF/dedup or any other reparse point */
	int is_encrypted; /* EFS */
	uint64_t size;
	uint32_t attributes; /* FILE_ATTRIBUTE_* (dir backend: best effort) */
} rp_stat;

/* Volume state that decides whether Windows will accept changes (read on open). */
typedef struct rp_vol_state {
	int hibernated;	 /* hiberfil.sys holds a hibernation or Fast Startup image */
	int log_unclean; /* $LogFile needs replay (unclean shutdown) */
	int log_v2;	 /* $LogFile restart page 2.0: Windows 8+ kept metadata cached */
	int dirty_flag;	 /* VOLUME_IS_DIRTY: Windows wants chkdsk */
	int read_only;	 /* device or image not writable by us */
	/* What an interrupted run of rdprescue left (ntfs backend, see ntfs_journal.c): */
	int replayed;	     /* its last change was completed from the journal on this open */
	int journal_pending; /* read-only open: that change is seen, written by the next fix/undo */
	int journal_dropped; /* an incomplete journal: nothing of it had reached the volume */
	int journal_stale;   /* read-only open: a journal that does not match the volume (it
				changed since): not laid over; the next read-write open refuses and
				renames it aside */
	int journal_unreadable; /* read-only open: a journal that cannot be read: not laid over;
				   the next read-write open refuses */
	int marked_dirty;	/* rdprescue set the dirty flag (this run while writing, or an
				   interrupted one); cleared when the write completes */
	int stale_mark;		/* read-only open: rdprescue's dirty mark without the flag (a run
				   killed between clearing the flag and removing the mark); the next
				   read-write open removes it */
} rp_vol_state;

/* name: the entry's real-case name (escape before printing).  Return non-zero to stop. */
typedef int (*rp_vol_list_cb)(void *ctx, const char *name, const rp_stat *st);

/* Opens the NTFS volume at [offset, offset+size) of the disk data of dev_path (for a VHD the
 * footer is outside that range).  writable=0 mounts read-only and never writes a byte.
 * writable=1 mounts read-write; a hibernated / Fast Startup / unclean volume is then refused with
 * RP_EXIT_UNUSABLE and a message naming the cause and the way out. */
int rp_vol_open_ntfs(rp_vol **out, const char *dev_path, uint64_t offset, uint64_t size,
		     int writable, rp_err *err);
int rp_vol_open_dir(rp_vol **out, const char *dir, int writable, rp_err *err);
/* Opens the FAT file system (an EFI system partition) at [offset, offset+size) of dev_path.
 * Only reads, plus in-place rewrites of existing files at their size (fat.c). */
int rp_vol_open_fat(rp_vol **out, const char *dev_path, uint64_t offset, uint64_t size,
		    int writable, rp_err *err);

/* The boot volume (EFI system partition or System Reserved) beside the Windows one: its paths
 * are "<boot>/EFI/Microsoft/Boot/BCD" on the Windows volume's rp_vol, so that backup, undo and
 * read-back work on both through one handle.  No Windows file name can contain '<'. */
#define RP_VOL_BOOT "<boot>"
/* vol takes boot over (closed with it). */
void rp_vol_attach_boot(rp_vol *vol, rp_vol *boot);
/* Records why no boot volume is attached (shown when a <boot> path is used). */
void rp_vol_set_boot_note(rp_vol *vol, const char *note);
/* Why the boot partition could not be opened, or NULL. */
const char *rp_vol_boot_note(const rp_vol *vol);
/* Syncs and closes; reports a failed write-back.  NULL is a no-op. */
int rp_vol_close(rp_vol *vol, rp_err *err);

const char *rp_vol_backend(const rp_vol *vol); /* "ntfs" or "dir" */
const char *rp_vol_label(const rp_vol *vol);   /* volume label ("" when none) */
const rp_vol_state *rp_vol_get_state(const rp_vol *vol);
/* Why Windows would not accept changes to this volume (hibernated, Fast Startup, unclean
 * journal: the message says what to do), or NULL. */
const char *rp_vol_write_refusal(const rp_vol *vol);
/* Whether an interrupted run of rdprescue left something a read-write open completes or clears
 * (a journaled change, an incomplete journal, its dirty flag), or refuses (a stale journal:
 * the read-write open fails with RP_EXIT_UNUSABLE and renames it aside). */
int rp_vol_interrupted(const rp_vol *vol);

/* st->exists = 0 for a missing path (returns 0); -1 only for real errors. */
int rp_vol_stat(rp_vol *vol, const char *path, rp_stat *st, rp_err *err);
/* Reads a whole file (malloc'd).  Missing file: -1 with RP_EXIT_UNUSABLE. */
int rp_vol_read(rp_vol *vol, const char *path, uint8_t **data, size_t *len, rp_err *err);
/* Bytes [off, off + len) of a file into buf, the file opened and closed again around the read
 * (nothing stays open between calls): how reg/ reads the cells of a big hive it does not copy.
 * A range past the file's end is an error (EIO: the file is shorter than its caller saw).  0 on
 * success; -1 as rp_vol_read, and RP_EXIT_UNUSABLE with "cannot" when the backend has no such
 * read (rp_vol_can_read_range says whether path's volume has it). */
int rp_vol_read_range(rp_vol *vol, const char *path, uint64_t off, uint8_t *buf, size_t len,
		      rp_err *err);
int rp_vol_can_read_range(rp_vol *vol, const char *path);
/* Entries of a directory, "." / ".." and 8.3 aliases skipped, in directory order. */
int rp_vol_list(rp_vol *vol, const char *dir, rp_vol_list_cb cb, void *ctx, rp_err *err);
/* The file's self-relative security descriptor (malloc'd). */
int rp_vol_get_sd(rp_vol *vol, const char *path, uint8_t **sd, size_t *len, rp_err *err);

/* An entry of a directory being walked (rp_vol_walk), valid during its callback only. */
typedef struct rp_vol_entry rp_vol_entry;
typedef int (*rp_vol_walk_cb)(void *ctx, const char *name, const rp_stat *st, rp_vol_entry *ent);
/* rp_vol_list, handing the callback each entry as well: what it reads through ent comes from
 * the very file listed, without looking its name up again (ntfs: the inode stays open during
 * the callback; a folder of 100,000 files is read without 100,000 index lookups).  The
 * callback must not write to vol. */
int rp_vol_walk(rp_vol *vol, const char *dir, rp_vol_walk_cb cb, void *ctx, rp_err *err);
/* Reads the entry's file whole (malloc'd), as rp_vol_read would by its path; a file above max
 * bytes is refused (-1, RP_EXIT_UNUSABLE, "File too large") without being read. */
int rp_vol_entry_read(rp_vol_entry *ent, uint64_t max, uint8_t **data, size_t *len, rp_err *err);
/* The entry's self-relative security descriptor (malloc'd), as rp_vol_get_sd by its path. */
int rp_vol_entry_get_sd(rp_vol_entry *ent, uint8_t **sd, size_t *len, rp_err *err);

/* ---- writes (volume opened writable) ---- */
int rp_vol_set_sd(rp_vol *vol, const char *path, const uint8_t *sd, size_t len, rp_err *err);
/* Creates every missing directory of dir. */
int rp_vol_mkdirs(rp_vol *vol, const char *dir, rp_err *err);
/* Creates path or replaces it atomically: write "<name>.rdprescue-tmp" in the same directory,
 * read it back and compare, give it sd (when sd is NULL: the replaced file's SD and attributes,
 * or for a new file what the directory passes on), then swap names with link/unlink so the
 * volume holds the old or the new file, never a mix.  The parent directory must exist. */
int rp_vol_write_file(rp_vol *vol, const char *path, const uint8_t *data, size_t len,
		      const uint8_t *sd, size_t sd_len, rp_err *err);
/* Refuses (RP_EXIT_UNUSABLE, saying what is wrong and to run chkdsk) when the directory index
 * that holds path is damaged around it: path or its .rdprescue-tmp/-old listed twice, or listed
 * with no file behind it (what an older rdprescue killed while writing left).  Reads only;
 * called before anything is written. */
int rp_vol_check_entry(rp_vol *vol, const char *path, rp_err *err);
/* Removes a file (quarantine: only after its bytes are safe in a verified backup). */
int rp_vol_remove(rp_vol *vol, const char *path, rp_err *err);
/* 0 when rp_vol_write_file(path, len bytes) is possible on this backend; otherwise -1 with a
 * message (RP_EXIT_UNUSABLE), nothing written.  Called before the backup is made. */
int rp_vol_check_replace(rp_vol *vol, const char *path, size_t len, rp_err *err);
/* Free bytes on the volume (ntfs: free clusters from $Bitmap; dir: what the mount grants). */
int rp_vol_free_space(rp_vol *vol, uint64_t *bytes, rp_err *err);
/* 0 when need bytes (plus room for metadata) are free; otherwise -1 with RP_EXIT_UNUSABLE and a
 * message saying how much is free and needed.  Called before the first write, so that a full
 * volume is refused without a byte written. */
int rp_vol_check_room(rp_vol *vol, uint64_t need, rp_err *err);

/* ---- Windows installations on a target ---- */

typedef struct rp_install {
	int index;	 /* 1-based, the number --install takes */
	int part_number; /* partition number (0: bare image or mounted directory) */
	uint64_t offset, size;
	char label[64];	  /* volume label (from the disk: escape before printing) */
	char fs_note[64]; /* e.g. "BitLocker" for a volume that could not be looked into */
} rp_install;

typedef struct rp_target {
	char *path;
	int is_dir;   /* a mounted directory */
	rp_disk disk; /* when not a directory */
	rp_install *installs;
	size_t ninstalls;
	int bitlocker_parts; /* BitLocker partitions seen (not searchable) */
	/* The boot partition: the EFI system partition (FAT), else an NTFS partition without
	 * Windows that holds Boot/BCD (System Reserved).  boot_part 0: none found. */
	int boot_part;
	rp_fs boot_fs;
	uint64_t boot_offset, boot_size;
	const char *write_command; /* "fix", "undo", "acl": named in refusals (NULL: "fix") */
	/* held[i]: installation i+1's volume as the probe opened it (read-only), until the
	 * first rp_target_open(read-only) takes it; NULL after that (target.c owns these). */
	rp_vol **held;
} rp_target;

/* Probes a target (disk, image, VHD, device or directory) and finds every volume that holds
 * Windows (Windows/System32/config/SYSTEM), mounting each candidate read-only.  No Windows:
 * RP_EXIT_UNUSABLE with a message (and BitLocker named when that is why).  The read-only volume
 * of each installation found stays open (t->held) for rp_target_check_write and the first
 * rp_target_open(read-only): one mount per phase, not three. */
int rp_target_probe(rp_target *t, const char *path, rp_err *err);
void rp_target_free(rp_target *t);
/* Up front, before anything is scanned or written: 0 when installation index may be written
 * now.  Refused (RP_EXIT_UNUSABLE, one message with the way out): a read-only or in-use device
 * or image (rp_disk_check_write), a directory this user cannot write, a volume Windows left
 * hibernated or unclean.  Remembers command for the refusals of later writable opens. */
int rp_target_check_write(rp_target *t, int index, const char *command, rp_err *err);
/* Opens the volume of installation index (1-based; 0 = the only one, error if several), with
 * the boot partition attached under RP_VOL_BOOT when there is one (opened the same way; when it
 * cannot be opened, the reason is kept as the volume's boot note and the open still succeeds).
 * Read-only: the first open of an installation hands out the probe's volume (the caller owns
 * it), later ones mount anew.  Read-write: every volume the probe still holds is closed first
 * (they would lock the partition, and go stale once it is written). */
int rp_target_open(const rp_target *t, int index, int writable, rp_vol **vol,
		   const rp_install **inst, rp_err *err);

#endif
