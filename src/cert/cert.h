/*
 * cert.h — certificates in the registry's SystemCertificates stores.
 *
 * A store entry's Blob is a sequence of property records {le32 id, le32 1, le32 len, bytes};
 * property 0x20 is the DER certificate (decoded with OpenSSL's d2i_X509), 0x02 the key
 * provider info that names the private key's container, 0x03 the SHA-1 thumbprint.
 */
#ifndef RP_CERT_H
#define RP_CERT_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct rp_cert_info {
	char subject[256]; /* RFC 2253 one-line, escaped for a terminal */
	char issuer[256];
	time_t not_before, not_after;
	char thumbprint[41]; /* upper-case hex SHA-1 of the DER */
	int has_sha1_prop;   /* property 0x03 present */
	char sha1_prop[41];
	int has_key_prov;    /* property 0x02 parsed */
	char container[260]; /* key container name (UTF-8, escaped) */
	char provider[260];
	uint32_t prov_type; /* 1 PROV_RSA_FULL (CAPI), 0 CNG */
	uint32_t key_flags; /* 0x20 CRYPT_MACHINE_KEYSET */
	uint32_t key_spec;
	int self_signed;
} rp_cert_info;

/* Parses a Blob and its certificate.  Fails (RP_EXIT_PROBLEMS) on malformed records, a missing
 * or undecodable 0x20 property, or DER with trailing bytes. */
int rp_cert_parse_blob(const uint8_t *blob, size_t len, rp_cert_info *info, rp_err *err);

/* Builds a Blob from DER and an optional key container (tests, and documentation of the
 * format).  malloc'd. */
int rp_cert_build_blob(const uint8_t *der, size_t der_len, const char *container,
		       const char *provider, uint8_t **blob, size_t *len, rp_err *err);

#endif
