/*
 * capi.h — CAPI machine key container files (ProgramData/Microsoft/Crypto/RSA/MachineKeys).
 *
 * Structural validation only: the private parts are DPAPI blobs that an offline tool cannot
 * decrypt or recreate.  Layout and rules: ../shared/reference/ntfs-3g.md section 9.
 * Hand-written: no library parses these files.
 */
#ifndef RP_CAPI_H
#define RP_CAPI_H

#include <stddef.h>
#include <stdint.h>

typedef enum rp_capi_verdict {
	RP_CAPI_OK = 0,	      /* well-formed */
	RP_CAPI_EMPTY,	      /* 0 bytes: broken */
	RP_CAPI_ZEROED,	      /* every byte is 0: broken */
	RP_CAPI_TRUNCATED,    /* header lengths add up to more than the file: broken */
	RP_CAPI_MALFORMED,    /* a header or blob that cannot be right: broken */
	RP_CAPI_UNRECOGNIZED, /* not clearly broken, not clearly a CAPI container (CNG, other) */
} rp_capi_verdict;

typedef struct rp_capi_info {
	rp_capi_verdict verdict;
	char reason[160]; /* one line for reports */
	char name[260];	  /* container name from the file (printable ASCII only) */
	uint32_t version;
	uint32_t exch_bits, sig_bits; /* RSA key sizes from the public blobs, 0 when absent */
	int has_private;	      /* at least one private key blob */
	size_t trailing;	      /* bytes after the declared parts (allowed, reported) */
} rp_capi_info;

/* Validates a key file's bytes.  Never fails: the verdict says what it is. */
void rp_capi_inspect(const uint8_t *buf, size_t len, rp_capi_info *info);
/* Broken = empty, zero-filled, truncated or malformed: safe to quarantine. */
int rp_capi_is_broken(rp_capi_verdict v);

/* File name of a container: MD5 of the lower-cased name + NUL, as four little-endian DWORDs in
 * %08x, then "_" and the MachineGuid.  out: at least 33 + 1 + strlen(guid) + 1 bytes. */
void rp_capi_container_file(const char *container, const char *machine_guid, char *out,
			    size_t out_len);

/* Builds a well-formed but SYNTHETIC container for tests and scenario disks: version 2, the
 * name, an exchange RSA1 public blob from a real RSA key of `bits` bits made with OpenSSL, and
 * an exchange private blob and export-flag blob that are structurally consistent DPAPI blobs
 * with random contents (they cannot be decrypted: no Windows could use this key).
 * *out is malloc'd.  Returns 0, or -1 when OpenSSL fails or the arguments are unusable. */
int rp_capi_build_container(const char *name, unsigned bits, uint8_t **out, size_t *len);

#endif
