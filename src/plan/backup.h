/*
 * backup.h — the backup archive: every original byte a run changes, written and re-read before
 * the first change, and what `undo` restores from.
 *
 * Format: a pax tar compressed with zstd (libarchive), holding
 *   manifest.json            schema "rdprescue-backup/1" (docs/backup-format.md)
 *   files/<n>/<basename>     the original bytes of entry n (absent when the file did not exist)
 *   sd/<n>.bin               entry n's original security descriptor (self-relative, binary)
 * The manifest names each entry's volume path, action, SHA-256 of the original and of the
 * replacement, and the SDs as SDDL before/after when known.  Reading verifies every hash.
 */
#ifndef RP_BACKUP_H
#define RP_BACKUP_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

typedef enum rp_backup_action {
	RP_BACKUP_REPLACE,    /* file content replaced (hive, Registry.pol) */
	RP_BACKUP_SD,	      /* security descriptor changed, content untouched */
	RP_BACKUP_QUARANTINE, /* broken file moved out of the volume into this archive */
	RP_BACKUP_KEEP,	      /* saved for completeness, not changed (hive logs) */
	RP_BACKUP_CREATE,     /* file created by the run (did not exist) */
} rp_backup_action;

typedef struct rp_backup_entry {
	char *path; /* volume path, '/' separated */
	rp_backup_action action;
	int had_data; /* the file existed: data holds its bytes */
	uint8_t *data;
	size_t len;
	uint8_t *sd; /* original SD (NULL when not recorded) */
	size_t sd_len;
	char sha256_before[65];
	char sha256_after[65]; /* "" when not applicable */
	char *sddl_before;     /* optional */
	char *sddl_after;      /* optional */
} rp_backup_entry;

typedef struct rp_backup {
	char *id;      /* "20261121T123456789Z-<8 hex>" */
	char *kind;    /* "fix", "undo", "acl", "reg" */
	char *created; /* ISO 8601 UTC */
	char *tool_version;
	char *target;  /* the TARGET argument */
	char *install; /* JSON text describing the installation (opaque here) */
	/* fix: the ids of the checks whose changes it holds, in catalogue order; NULL: not
	 * recorded (acl, reg and undo backups, archives written before the field existed) */
	char **checks;
	size_t nchecks;
	rp_backup_entry *entries;
	size_t nentries;
} rp_backup;

/* Appends an entry (copies every buffer and string; computes sha256_before). */
rp_backup_entry *rp_backup_add(rp_backup *b, const char *path, rp_backup_action action,
			       const uint8_t *data, size_t len, int had_data, const uint8_t *sd,
			       size_t sd_len);
/* The same, taking over data (malloc'd or NULL, freed with the backup) instead of copying it;
 * sha256: the hex SHA-256 of data when the caller has just computed it (NULL: computed here).
 * The original is read once and hashed once. */
rp_backup_entry *rp_backup_add_owned(rp_backup *b, const char *path, rp_backup_action action,
				     uint8_t *data, size_t len, int had_data, const char *sha256,
				     const uint8_t *sd, size_t sd_len);
/* Serializes the archive into memory (malloc'd). */
int rp_backup_serialize(const rp_backup *b, uint8_t **out, size_t *len, rp_err *err);
/* Parses an archive, verifying that every file's bytes match the manifest's SHA-256. */
int rp_backup_parse(const uint8_t *buf, size_t len, rp_backup *b, rp_err *err);
/* Parses an archive just serialized from want and checks that it holds exactly want: the same
 * manifest and entries, every file's bytes compared with want's as they are decompressed (not
 * copied, not hashed again).  Nothing of it is kept. */
int rp_backup_verify(const uint8_t *buf, size_t len, const rp_backup *want, rp_err *err);
/* Writes the serialized archive to a host file: temp name, fsync, rename, fsync dir, re-read
 * and compare.  Returns 0 only when the file on disk is byte-identical. */
int rp_backup_write_host(const uint8_t *buf, size_t len, const char *path, rp_err *err);
void rp_backup_free(rp_backup *b);

#endif
