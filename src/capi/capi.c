/*
 * capi.c — structural checks of CAPI machine key container files, their file names, and a
 * builder of synthetic containers for tests.  See capi.h; layout in ntfs-3g.md section 9.
 *
 * Verdict rules.  A broken verdict gets the file quarantined, so only a file that plainly is a
 * damaged CAPI container is called broken; anything else that is not well-formed is
 * UNRECOGNIZED and left alone:
 *   EMPTY       0 bytes.
 *   ZEROED      every byte is 0 (a crash before the data reached the disk).
 *   TRUNCATED   the first DWORD is version 2 and the file ends before the 40-byte header or
 *               before 40 + the eight part lengths (summed without overflow).  Every header
 *               length the file holds must be plausible (name <= 1024 bytes, parts <= 1 MiB),
 *               otherwise the first DWORD is taken as a coincidence: UNRECOGNIZED.
 *   MALFORMED   version 2, plausible lengths that fit the file, and then: the name has no NUL
 *               within name_len, is empty or holds a control character; a non-empty public blob
 *               is not RSA1 with modulus length = bits/8 + 8 and blob length = 20 + modulus
 *               length; a non-empty private or export-flag blob is not a DPAPI blob (version 1,
 *               provider df9d8cd0-1501-11d1-8c7a-00c04fc297eb, every length inside it, ending
 *               exactly at the end of its slot); or there is no private key at all.
 *               A version other than 2 is MALFORMED only when everything else above checks out
 *               (the header is then recognisably CAPI and only its version is damaged).
 *   UNRECOGNIZED anything else, and every file shaped like a CNG key (44-byte header, UTF-16
 *               ASCII name at offset 44), even when the CAPI rules would call it broken.
 * Bytes after the declared parts are allowed and counted in info->trailing.  Non-ASCII name
 * bytes (ANSI code pages) are accepted; they show as \xNN in info->name.  Nothing is decrypted:
 * the DPAPI contents are opaque.
 */
#include "util/bytes.h"
#include "capi/capi.h"
#include "util/hash.h"
#include "util/text.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPI_HEADER_LEN 40
#define CAPI_VERSION 2
#define NAME_LEN_MAX 1024
#define PART_LEN_MAX (1u << 20)
#define RSA1_HEADER_LEN 20
#define RSA_BITS_MAX 16384
#define DPAPI_VERSION 1
#define CNG_HEADER_LEN 44

static const uint8_t dpapi_provider[16] = {0xd0, 0x8c, 0x9d, 0xdf, 0x01, 0x15, 0xd1, 0x11,
					   0x8c, 0x7a, 0x00, 0xc0, 0x4f, 0xc2, 0x97, 0xeb};

/* Header fields in file order (ten le32). */
enum {
	H_VERSION,
	H_RESERVED,
	H_NAME,
	H_SIG_PUB,
	H_SIG_PRIV,
	H_EXCH_PUB,
	H_EXCH_PRIV,
	H_HASH,
	H_SIG_FLAG,
	H_EXCH_FLAG,
	H_COUNT
};

static const char *const field_names[H_COUNT] = {
    "version",	    "reserved",	     "name_len", "sig_pub_len",		"sig_priv_len",
    "exch_pub_len", "exch_priv_len", "hash_len", "sig_export_flag_len", "exch_export_flag_len",
};

static rp_capi_verdict verdict(rp_capi_info *info, rp_capi_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static rp_capi_verdict verdict(rp_capi_info *info, rp_capi_verdict v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(info->reason, sizeof info->reason, fmt, ap);
	va_end(ap);
	info->verdict = v;
	return v;
}

int rp_capi_is_broken(rp_capi_verdict v)
{
	return v == RP_CAPI_EMPTY || v == RP_CAPI_ZEROED || v == RP_CAPI_TRUNCATED ||
	       v == RP_CAPI_MALFORMED;
}

/* Index of the first header field (present in the first len bytes) whose value no real
 * container has, or -1. */
static int implausible_field(const uint8_t *buf, size_t len)
{
	for (int i = H_NAME; i < H_COUNT && (size_t)(i + 1) * 4 <= len; i++) {
		uint32_t v = rp_le32(buf + i * 4);
		if (v > (i == H_NAME ? NAME_LEN_MAX : PART_LEN_MAX))
			return i;
	}
	return -1;
}

/* A CNG key file: 44-byte header whose name_len (offset 8) covers a UTF-16 name at offset 44 made
 * of at least two printable ASCII units, NUL-terminated or filling name_len exactly. */
static int looks_like_cng(const uint8_t *buf, size_t len, char *name, size_t name_size)
{
	if (len < CNG_HEADER_LEN)
		return 0;
	uint32_t name_len = rp_le32(buf + 8);
	if (name_len < 4 || name_len % 2 || name_len > NAME_LEN_MAX ||
	    name_len > len - CNG_HEADER_LEN)
		return 0;
	const uint8_t *u = buf + CNG_HEADER_LEN;
	size_t units = 0;
	while (units < name_len / 2) {
		uint8_t lo = u[units * 2], hi = u[units * 2 + 1];
		if (lo == 0 && hi == 0)
			break;
		if (hi != 0 || lo < 0x20 || lo > 0x7e)
			return 0;
		if (units + 1 < name_size)
			name[units] = (char)lo;
		units++;
	}
	if (units < 2)
		return 0;
	name[units < name_size ? units : name_size - 1] = 0;
	return 1;
}

/* Container name into info->name: printable ASCII as is, other bytes as \xNN. */
static void copy_name(const uint8_t *p, size_t n, char *out, size_t out_size)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < out_size; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f)
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, out_size - o, "\\x%02x", p[i]);
	}
	out[o] = 0;
}

static void format_guid(const uint8_t *g, char out[37])
{
	snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", rp_le32(g),
		 g[4] | g[5] << 8, g[6] | g[7] << 8, g[8], g[9], g[10], g[11], g[12], g[13], g[14],
		 g[15]);
}

/* Checks an RSA1 public key blob; fills *bits or writes why it is wrong. */
static int check_rsa1(const uint8_t *p, uint32_t n, const char *what, uint32_t *bits, char *why,
		      size_t why_size)
{
	if (n < RSA1_HEADER_LEN) {
		snprintf(why, why_size,
			 "%s public blob is %u bytes, shorter than the 20-byte RSA1 header", what,
			 n);
		return -1;
	}
	if (memcmp(p, "RSA1", 4) != 0) {
		snprintf(why, why_size, "%s public blob magic is %02x%02x%02x%02x, expected RSA1",
			 what, p[0], p[1], p[2], p[3]);
		return -1;
	}
	uint32_t mod_len = rp_le32(p + 4), bit_len = rp_le32(p + 8);
	if (bit_len == 0 || bit_len % 8 || bit_len > RSA_BITS_MAX) {
		snprintf(why, why_size,
			 "%s public blob bit length %u is not a multiple of 8 in 8..%u", what,
			 bit_len, RSA_BITS_MAX);
		return -1;
	}
	if (mod_len != bit_len / 8 + 8) {
		snprintf(why, why_size, "%s public blob modulus length %u, expected %u for %u bits",
			 what, mod_len, bit_len / 8 + 8, bit_len);
		return -1;
	}
	if (n != RSA1_HEADER_LEN + mod_len) {
		snprintf(why, why_size, "%s public blob is %u bytes, expected %u (20 + modulus %u)",
			 what, n, RSA1_HEADER_LEN + mod_len, mod_len);
		return -1;
	}
	*bits = bit_len;
	return 0;
}

/* Reads a le32 at *off, or fails naming the field. */
static int dpapi_u32(const uint8_t *p, uint32_t n, size_t *off, uint32_t *v, const char *what,
		     const char *field, char *why, size_t why_size)
{
	if (n - *off < 4) {
		snprintf(why, why_size,
			 "%s DPAPI blob (%u bytes) ends inside its %s field at offset %zu", what, n,
			 field, *off);
		return -1;
	}
	*v = rp_le32(p + *off);
	*off += 4;
	return 0;
}

/* Reads a le32 length and skips that many bytes, or fails naming the field. */
static int dpapi_var(const uint8_t *p, uint32_t n, size_t *off, const char *what, const char *field,
		     char *why, size_t why_size)
{
	uint32_t v;
	if (dpapi_u32(p, n, off, &v, what, field, why, why_size) < 0)
		return -1;
	if (v > n - *off) {
		snprintf(why, why_size,
			 "%s DPAPI %s length %u at offset %zu runs past the blob's %u bytes", what,
			 field, v, *off - 4, n);
		return -1;
	}
	*off += v;
	return 0;
}

/* Checks that a private-key or export-flag slot holds exactly one DPAPI blob. */
static int check_dpapi(const uint8_t *p, uint32_t n, const char *what, char *why, size_t why_size)
{
	if (n < 4 + 16) {
		snprintf(why, why_size,
			 "%s DPAPI blob is %u bytes, too short for version and provider", what, n);
		return -1;
	}
	uint32_t version = rp_le32(p);
	if (version != DPAPI_VERSION) {
		snprintf(why, why_size, "%s DPAPI blob version is %u, expected %u", what, version,
			 DPAPI_VERSION);
		return -1;
	}
	if (memcmp(p + 4, dpapi_provider, 16) != 0) {
		char guid[37];
		format_guid(p + 4, guid);
		snprintf(
		    why, why_size,
		    "%s DPAPI provider GUID is %s, expected df9d8cd0-1501-11d1-8c7a-00c04fc297eb",
		    what, guid);
		return -1;
	}
	size_t off = 20;
	uint32_t ignored;
	/* master-key version, master-key GUID, flags */
	if (dpapi_u32(p, n, &off, &ignored, what, "master-key version", why, why_size) < 0)
		return -1;
	if (n - off < 16) {
		snprintf(why, why_size, "%s DPAPI blob (%u bytes) ends inside its master-key GUID",
			 what, n);
		return -1;
	}
	off += 16;
	if (dpapi_u32(p, n, &off, &ignored, what, "flags", why, why_size) < 0 ||
	    dpapi_var(p, n, &off, what, "description", why, why_size) < 0 ||
	    dpapi_u32(p, n, &off, &ignored, what, "encryption algorithm", why, why_size) < 0 ||
	    dpapi_u32(p, n, &off, &ignored, what, "encryption key length", why, why_size) < 0 ||
	    dpapi_var(p, n, &off, what, "salt", why, why_size) < 0 ||
	    dpapi_var(p, n, &off, what, "HMAC key", why, why_size) < 0 ||
	    dpapi_u32(p, n, &off, &ignored, what, "hash algorithm", why, why_size) < 0 ||
	    dpapi_u32(p, n, &off, &ignored, what, "hash length", why, why_size) < 0 ||
	    dpapi_var(p, n, &off, what, "HMAC2", why, why_size) < 0 ||
	    dpapi_var(p, n, &off, what, "data", why, why_size) < 0 ||
	    dpapi_var(p, n, &off, what, "signature", why, why_size) < 0)
		return -1;
	if (off != n) {
		snprintf(why, why_size, "%s DPAPI blob ends at byte %zu but its slot is %u bytes",
			 what, off, n);
		return -1;
	}
	return 0;
}

/* The CAPI rules after the version check (len >= 40).  Fills info and returns the verdict. */
static rp_capi_verdict check_container(const uint8_t *buf, size_t len, rp_capi_info *info)
{
	uint32_t h[H_COUNT];
	for (int i = 0; i < H_COUNT; i++)
		h[i] = rp_le32(buf + i * 4);
	info->version = h[H_VERSION];

	int bad = implausible_field(buf, CAPI_HEADER_LEN);
	if (bad >= 0)
		return verdict(info, RP_CAPI_UNRECOGNIZED,
			       "header %s %u is implausible for a CAPI container", field_names[bad],
			       h[bad]);
	/* Each length is bounded by the plausibility check, so the sum cannot overflow. */
	size_t declared = CAPI_HEADER_LEN;
	for (int i = H_NAME; i < H_COUNT; i++)
		declared += h[i];
	if (declared > len)
		return verdict(info, RP_CAPI_TRUNCATED,
			       "header declares %zu bytes (40 + parts), file has %zu", declared,
			       len);
	info->trailing = len - declared;

	/* Body order: name, hash, sig pub, sig priv, sig flag, exch pub, exch priv, exch flag. */
	const uint8_t *name = buf + CAPI_HEADER_LEN;
	if (h[H_NAME] == 0)
		return verdict(info, RP_CAPI_MALFORMED,
			       "name_len is 0: the name must hold at least its NUL");
	const uint8_t *nul = memchr(name, 0, h[H_NAME]);
	if (!nul)
		return verdict(info, RP_CAPI_MALFORMED, "name (%u bytes) has no NUL terminator",
			       h[H_NAME]);
	size_t name_chars = (size_t)(nul - name);
	if (name_chars == 0)
		return verdict(info, RP_CAPI_MALFORMED, "name is empty (name_len %u)", h[H_NAME]);
	for (size_t i = 0; i < name_chars; i++)
		if (name[i] < 0x20 || name[i] == 0x7f)
			return verdict(info, RP_CAPI_MALFORMED,
				       "name byte 0x%02x at offset %zu is a control character",
				       name[i], CAPI_HEADER_LEN + i);
	copy_name(name, name_chars, info->name, sizeof info->name);

	struct {
		int field;
		const char *what;
		int is_public;
		uint32_t *bits;
	} parts[] = {
	    {H_SIG_PUB, "signature", 1, &info->sig_bits},
	    {H_SIG_PRIV, "signature private", 0, NULL},
	    {H_SIG_FLAG, "signature export-flag", 0, NULL},
	    {H_EXCH_PUB, "exchange", 1, &info->exch_bits},
	    {H_EXCH_PRIV, "exchange private", 0, NULL},
	    {H_EXCH_FLAG, "exchange export-flag", 0, NULL},
	};
	size_t off = CAPI_HEADER_LEN + (size_t)h[H_NAME] + h[H_HASH];
	char why[sizeof info->reason];
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		uint32_t n = h[parts[i].field];
		if (n == 0)
			continue;
		int rc =
		    parts[i].is_public
			? check_rsa1(buf + off, n, parts[i].what, parts[i].bits, why, sizeof why)
			: check_dpapi(buf + off, n, parts[i].what, why, sizeof why);
		if (rc < 0)
			return verdict(info, RP_CAPI_MALFORMED, "%s", why);
		off += n;
	}
	info->has_private = h[H_SIG_PRIV] != 0 || h[H_EXCH_PRIV] != 0;
	if (!info->has_private)
		return verdict(info, RP_CAPI_MALFORMED,
			       "no private key: sig_priv_len and exch_priv_len are both 0");
	if (info->trailing)
		return verdict(
		    info, RP_CAPI_OK,
		    "well-formed (exchange %u bits, signature %u bits), %zu trailing bytes",
		    info->exch_bits, info->sig_bits, info->trailing);
	return verdict(info, RP_CAPI_OK, "well-formed (exchange %u bits, signature %u bits)",
		       info->exch_bits, info->sig_bits);
}

void rp_capi_inspect(const uint8_t *buf, size_t len, rp_capi_info *info)
{
	memset(info, 0, sizeof *info);
	if (len == 0) {
		verdict(info, RP_CAPI_EMPTY, "file is empty (0 bytes)");
		return;
	}
	size_t nonzero = 0;
	while (nonzero < len && buf[nonzero] == 0)
		nonzero++;
	if (nonzero == len) {
		verdict(info, RP_CAPI_ZEROED, "all %zu bytes are zero", len);
		return;
	}
	if (len < 4) {
		verdict(info, RP_CAPI_UNRECOGNIZED,
			"%zu bytes: too short to hold a container header", len);
		return;
	}
	char cng_name[64];
	int cng = looks_like_cng(buf, len, cng_name, sizeof cng_name);
	info->version = rp_le32(buf);
	if (info->version == CAPI_VERSION) {
		if (len < CAPI_HEADER_LEN) {
			int bad = implausible_field(buf, len);
			if (bad >= 0)
				verdict(
				    info, RP_CAPI_UNRECOGNIZED,
				    "%zu bytes, header %s %u is implausible for a CAPI container",
				    len, field_names[bad], rp_le32(buf + bad * 4));
			else
				verdict(info, RP_CAPI_TRUNCATED,
					"file is %zu bytes, shorter than the 40-byte header", len);
			return;
		}
		if (rp_capi_is_broken(check_container(buf, len, info)) && cng) {
			memset(info, 0, sizeof *info);
			info->version = rp_le32(buf);
			verdict(info, RP_CAPI_UNRECOGNIZED,
				"looks like a CNG key file (44-byte header, UTF-16 name \"%s\")",
				cng_name);
		}
		return;
	}
	if (cng) {
		verdict(info, RP_CAPI_UNRECOGNIZED,
			"looks like a CNG key file (version %u, UTF-16 name \"%s\")", info->version,
			cng_name);
		return;
	}
	if (len >= CAPI_HEADER_LEN) {
		rp_capi_info probe;
		memset(&probe, 0, sizeof probe);
		if (check_container(buf, len, &probe) == RP_CAPI_OK) {
			*info = probe;
			verdict(
			    info, RP_CAPI_MALFORMED,
			    "version %u, expected 2 (the rest of container \"%s\" is well-formed)",
			    probe.version, probe.name);
			return;
		}
	}
	verdict(info, RP_CAPI_UNRECOGNIZED, "version %u, not 2, and not a CAPI container otherwise",
		info->version);
}

void rp_capi_container_file(const char *container, const char *machine_guid, char *out,
			    size_t out_len)
{
	size_t n = strlen(container);
	uint8_t *lower = rp_xmalloc(n + 1);
	/* ANSI lower-casing of the ASCII range; how Windows folds other bytes is unconfirmed. */
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)container[i];
		lower[i] = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
	}
	lower[n] = 0;
	uint8_t md[16];
	rp_md5(lower, n + 1, md);
	free(lower);
	snprintf(out, out_len, "%08x%08x%08x%08x_%s", rp_le32(md), rp_le32(md + 4), rp_le32(md + 8),
		 rp_le32(md + 12), machine_guid);
}

/* Size of a synthetic DPAPI blob: 32-byte salt and HMAC2, no HMAC key, 64-byte signature. */
static size_t dpapi_blob_size(size_t desc_len, size_t data_len)
{
	return 4 + 16 + 4 + 16 + 4 + 4 + desc_len + 4 + 4 + 4 + 32 + 4 + 4 + 4 + 4 + 32 + 4 +
	       data_len + 4 + 64;
}

/* Writes a synthetic DPAPI blob: random master-key GUID, salt, HMAC2, data and signature. */
static int write_dpapi_blob(uint8_t *p, const uint8_t *desc, size_t desc_len, size_t data_len)
{
	size_t off = 0;
	rp_put_le32(p + off, DPAPI_VERSION);
	off += 4;
	memcpy(p + off, dpapi_provider, 16);
	off += 16;
	rp_put_le32(p + off, 1); /* master-key version */
	off += 4;
	if (RAND_bytes(p + off, 16) != 1) /* master-key GUID */
		return -1;
	off += 16;
	rp_put_le32(p + off, 0); /* flags */
	off += 4;
	rp_put_le32(p + off, (uint32_t)desc_len);
	off += 4;
	memcpy(p + off, desc, desc_len);
	off += desc_len;
	rp_put_le32(p + off, 0x6610); /* CALG_AES_256 */
	rp_put_le32(p + off + 4, 256);
	rp_put_le32(p + off + 8, 32); /* salt */
	off += 12;
	if (RAND_bytes(p + off, 32) != 1)
		return -1;
	off += 32;
	rp_put_le32(p + off, 0);	  /* HMAC key length */
	rp_put_le32(p + off + 4, 0x800e); /* CALG_SHA_512 */
	rp_put_le32(p + off + 8, 512);
	rp_put_le32(p + off + 12, 32); /* HMAC2 */
	off += 16;
	if (RAND_bytes(p + off, 32) != 1)
		return -1;
	off += 32;
	rp_put_le32(p + off, (uint32_t)data_len);
	off += 4;
	if (RAND_bytes(p + off, (int)data_len) != 1)
		return -1;
	off += data_len;
	rp_put_le32(p + off, 64); /* signature */
	off += 4;
	if (RAND_bytes(p + off, 64) != 1)
		return -1;
	return 0;
}

/* RSA1 public blob of a freshly generated key: header, modulus little-endian, 8 zero bytes. */
static int write_rsa1_blob(uint8_t *p, unsigned bits)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int rc = -1;
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) <= 0 ||
	    EVP_PKEY_generate(ctx, &pkey) <= 0 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		goto out;
	memcpy(p, "RSA1", 4);
	rp_put_le32(p + 4, bits / 8 + 8);
	rp_put_le32(p + 8, bits);
	rp_put_le32(p + 12, bits / 8 - 1);
	rp_put_le32(p + 16, (uint32_t)BN_get_word(e));
	if (BN_bn2lebinpad(n, p + RSA1_HEADER_LEN, (int)(bits / 8)) < 0)
		goto out;
	memset(p + RSA1_HEADER_LEN + bits / 8, 0, 8);
	rc = 0;
out:
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int rp_capi_build_container(const char *name, unsigned bits, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	size_t name_len = name ? strlen(name) + 1 : 0;
	if (name_len < 2 || name_len > NAME_LEN_MAX || bits < 512 || bits > RSA_BITS_MAX ||
	    bits % 8)
		return -1;
	size_t priv_desc_len, flag_desc_len;
	uint8_t *priv_desc = rp_utf8_to_utf16("Private Key", &priv_desc_len);
	uint8_t *flag_desc = rp_utf8_to_utf16("Export Flag", &flag_desc_len);
	/* Room for an encrypted RSA2 private key (header + modulus + 4.5 moduli of CRT parts),
	 * rounded up to the AES block. */
	size_t priv_data = (20 + (bits / 8 + 8) * 9 / 2 + 15) / 16 * 16;
	size_t pub_len = RSA1_HEADER_LEN + bits / 8 + 8;
	size_t priv_len = dpapi_blob_size(priv_desc_len, priv_data);
	size_t flag_len = dpapi_blob_size(flag_desc_len, 16);
	size_t total = CAPI_HEADER_LEN + name_len + 20 + pub_len + priv_len + flag_len;
	uint8_t *buf = rp_xcalloc(1, total);
	uint32_t h[H_COUNT] = {0};
	h[H_VERSION] = CAPI_VERSION;
	h[H_NAME] = (uint32_t)name_len;
	h[H_EXCH_PUB] = (uint32_t)pub_len;
	h[H_EXCH_PRIV] = (uint32_t)priv_len;
	h[H_HASH] = 20;
	h[H_EXCH_FLAG] = (uint32_t)flag_len;
	for (int i = 0; i < H_COUNT; i++)
		rp_put_le32(buf + i * 4, h[i]);
	size_t off = CAPI_HEADER_LEN;
	memcpy(buf + off, name, name_len);
	off += name_len + 20; /* the hash field stays zero, as on real files */
	int rc = write_rsa1_blob(buf + off, bits);
	off += pub_len;
	if (rc == 0)
		rc = write_dpapi_blob(buf + off, priv_desc, priv_desc_len, priv_data);
	off += priv_len;
	if (rc == 0)
		rc = write_dpapi_blob(buf + off, flag_desc, flag_desc_len, 16);
	free(priv_desc);
	free(flag_desc);
	if (rc < 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = total;
	return 0;
}
