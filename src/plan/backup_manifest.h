/*
 * backup_manifest.h — manifest.json of the backup archive (internal to src/plan/backup*.c).
 *
 * Building turns an rp_backup into the JSON text stored as the archive's first member; reading
 * checks that text strictly (schema, every field's type, hash syntax, safe volume paths) and
 * fills an rp_backup whose entries still lack their bytes: the archive reader adds those and
 * checks them against what the manifest promised.
 */
#ifndef RP_BACKUP_MANIFEST_H
#define RP_BACKUP_MANIFEST_H

#include "plan/backup.h"

#define RP_BACKUP_SCHEMA "rdprescue-backup/1"
#define RP_BACKUP_MAX_MEMBER (4ULL << 30) /* no file or SD above 4 GiB */
#define RP_BACKUP_MAX_ENTRIES 1000000
#define RP_BACKUP_MAX_SD (1U << 20) /* self-relative SDs stay far below this */
#define RP_BACKUP_MAX_CHECKS 256    /* check ids one backup names */
#define RP_BACKUP_MAX_CHECK_ID 64   /* bytes of one check id */

/* What the manifest promises about one entry beyond what rp_backup_entry holds. */
typedef struct rp_backup_expect {
	int has_sd;
	char sd_sha256[65];
} rp_backup_expect;

/* 0 when path is a relative volume path: '/' separated, no empty, "." or ".." component, no
 * backslash, no NUL (len counts the bytes, so an embedded NUL is seen). */
int rp_backup_path_ok(const char *path, size_t len);

/* 0 when id (len bytes) looks like a check id: 1 to RP_BACKUP_MAX_CHECK_ID characters of
 * a-z, 0-9, '.', '_', '-'. */
int rp_backup_check_id_ok(const char *id, size_t len);

/* The last component of a path accepted by rp_backup_path_ok (points into path). */
const char *rp_backup_basename(const char *path);

/* manifest.json for b, malloc'd and NUL-terminated; NULL with *why filled (one line) when b
 * cannot be described (missing id, bad path, install not a JSON object). */
char *rp_backup_manifest_build(const rp_backup *b, char *why, size_t why_size);

/* Parses manifest.json into b (entries without data/sd; entry.len is the promised size) and
 * *expect (one per entry, malloc'd).  Returns -1 with *why filled on any deviation. */
int rp_backup_manifest_read(const char *json, size_t len, rp_backup *b, rp_backup_expect **expect,
			    char *why, size_t why_size);

#endif
