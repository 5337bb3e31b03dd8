/*
 * cert.c — SystemCertificates store Blobs: the property-record walk, the certificate through
 * OpenSSL, and the CERT_KEY_PROV_INFO property that names the private key.  See cert.h;
 * format in ntfs-3g.md section 10 and rdp-registry.md section 7.
 *
 * Prop 0x02 as Wine's crypt32 serializes it: seven le32 {container-name offset, provider-name
 * offset, provider type, flags, parameter count, parameter offset, key spec}, then the
 * parameters (four le32 each), then the UTF-16 strings; offsets count from the start of the
 * property data and 0 means "absent".
 */
#include "util/bytes.h"
#include "cert/cert.h"
#include "util/hash.h"
#include "util/text.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROP_KEY_PROV_INFO 0x02
#define PROP_SHA1 0x03
#define PROP_CERT 0x20
#define PROP_HEADER_LEN 12
#define KEY_PROV_HEADER_LEN 28
#define KEY_PROV_PARAM_LEN 16
#define CRYPT_MACHINE_KEYSET 0x20
#define PROV_RSA_FULL 1
#define AT_KEYEXCHANGE 1

static void upper_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}

/* The last OpenSSL error as text, for messages. */
static const char *ssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());
	return r ? r : "no OpenSSL reason";
}

/* RFC 2253 one-line form of a name, escaped for a terminal. */
static int name_to_text(const X509_NAME *name, const char *which, char *out, size_t out_size,
			rp_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio)
		return rp_fail(err, RP_EXIT_PROBLEMS, "certificate %s: out of memory in OpenSSL",
			       which);
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) {
		BIO_free(bio);
		return rp_fail(err, RP_EXIT_PROBLEMS, "certificate %s cannot be printed: %s", which,
			       ssl_reason());
	}
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	char *text = rp_xmalloc((size_t)(n > 0 ? n : 0) + 1);
	if (n > 0)
		memcpy(text, data, (size_t)n);
	text[n > 0 ? n : 0] = 0;
	BIO_free(bio);
	char *escaped = rp_escape(text);
	snprintf(out, out_size, "%s", escaped);
	free(escaped);
	free(text);
	return 0;
}

static int time_to_epoch(const ASN1_TIME *t, const char *which, time_t *out, rp_err *err)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return rp_fail(err, RP_EXIT_PROBLEMS, "certificate %s is not a valid ASN.1 time",
			       which);
	*out = timegm(&tm);
	return 0;
}

/* A UTF-16 string at a property-relative offset, NUL-terminated inside the property. */
static int prov_string(const uint8_t *p, uint32_t n, uint32_t off, const char *which, char *out,
		       size_t out_size, rp_err *err)
{
	out[0] = 0;
	if (off == 0)
		return 0;
	if (off < KEY_PROV_HEADER_LEN || off >= n)
		return rp_fail(err, RP_EXIT_PROBLEMS,
			       "key provider info: %s offset %u is not in the string area "
			       "(28..%u) of the %u-byte property",
			       which, off, n, n);
	size_t end = off;
	while (end + 1 < n && (p[end] || p[end + 1]))
		end += 2;
	if (end + 1 >= n)
		return rp_fail(err, RP_EXIT_PROBLEMS,
			       "key provider info: %s at offset %u has no NUL within the %u-byte "
			       "property",
			       which, off, n);
	char *utf8 = rp_utf16_to_utf8(p + off, end + 2 - off);
	char *escaped = rp_escape(utf8);
	snprintf(out, out_size, "%s", escaped);
	free(escaped);
	free(utf8);
	return 0;
}

static int parse_key_prov(const uint8_t *p, uint32_t n, rp_cert_info *info, rp_err *err)
{
	if (n < KEY_PROV_HEADER_LEN)
		return rp_fail(
		    err, RP_EXIT_PROBLEMS,
		    "key provider info (prop 0x02) is %u bytes, shorter than its 28-byte "
		    "header",
		    n);
	uint32_t param_count = rp_le32(p + 16), param_off = rp_le32(p + 20);
	if (param_count) {
		uint64_t end = (uint64_t)param_off + (uint64_t)param_count * KEY_PROV_PARAM_LEN;
		if (param_off < KEY_PROV_HEADER_LEN || end > n)
			return rp_fail(
			    err, RP_EXIT_PROBLEMS,
			    "key provider info: %u parameters at offset %u do not fit the "
			    "%u-byte property",
			    param_count, param_off, n);
	}
	if (prov_string(p, n, rp_le32(p), "container name", info->container, sizeof info->container,
			err) < 0 ||
	    prov_string(p, n, rp_le32(p + 4), "provider name", info->provider,
			sizeof info->provider, err) < 0)
		return -1;
	info->prov_type = rp_le32(p + 8);
	info->key_flags = rp_le32(p + 12);
	info->key_spec = rp_le32(p + 24);
	info->has_key_prov = 1;
	return 0;
}

/* Fills the certificate fields from the DER of prop 0x20. */
static int parse_certificate(const uint8_t *der, uint32_t der_len, rp_cert_info *info, rp_err *err)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, der_len);
	if (!x) {
		rp_fail(err, RP_EXIT_PROBLEMS,
			"certificate (prop 0x20, %u bytes) is not DER X.509: %s", der_len,
			ssl_reason());
		ERR_clear_error();
		return -1;
	}
	int rc = -1;
	if (p != der + der_len) {
		rp_fail(err, RP_EXIT_PROBLEMS,
			"certificate (prop 0x20, %u bytes) has %td trailing bytes after its DER",
			der_len, (der + der_len) - p);
		goto out;
	}
	if (name_to_text(X509_get_subject_name(x), "subject", info->subject, sizeof info->subject,
			 err) < 0 ||
	    name_to_text(X509_get_issuer_name(x), "issuer", info->issuer, sizeof info->issuer,
			 err) < 0 ||
	    time_to_epoch(X509_get0_notBefore(x), "notBefore", &info->not_before, err) < 0 ||
	    time_to_epoch(X509_get0_notAfter(x), "notAfter", &info->not_after, err) < 0)
		goto out;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	if (X509_digest(x, EVP_sha1(), md, &md_len) != 1 || md_len != 20) {
		rp_fail(err, RP_EXIT_PROBLEMS, "SHA-1 of the certificate failed: %s", ssl_reason());
		goto out;
	}
	upper_hex(md, 20, info->thumbprint);
	/* Self-signed: issuer name = subject name and its own key verifies the signature.  Not
	 * X509_check_issued: it also demands keyCertSign, which Windows' RDP certificate (key
	 * and data encipherment only) lacks. */
	EVP_PKEY *key = X509_get0_pubkey(x);
	info->self_signed = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0 &&
			    key && X509_verify(x, key) == 1;
	rc = 0;
out:
	X509_free(x);
	ERR_clear_error();
	return rc;
}

int rp_cert_parse_blob(const uint8_t *blob, size_t len, rp_cert_info *info, rp_err *err)
{
	memset(info, 0, sizeof *info);
	const uint8_t *der = NULL, *key_prov = NULL;
	uint32_t der_len = 0, key_prov_len = 0;
	size_t off = 0;
	while (off < len) {
		if (len - off < PROP_HEADER_LEN)
			return rp_fail(
			    err, RP_EXIT_PROBLEMS,
			    "certificate Blob: %zu stray bytes at offset %zu, too few for "
			    "a property header",
			    len - off, off);
		uint32_t id = rp_le32(blob + off), reserved = rp_le32(blob + off + 4),
			 n = rp_le32(blob + off + 8);
		if (id == 0)
			break;
		if (reserved != 1)
			return rp_fail(err, RP_EXIT_PROBLEMS,
				       "certificate Blob: property 0x%x at offset %zu has reserved "
				       "field %u, expected 1",
				       id, off, reserved);
		if (n > len - off - PROP_HEADER_LEN)
			return rp_fail(err, RP_EXIT_PROBLEMS,
				       "certificate Blob: property 0x%x at offset %zu declares %u "
				       "bytes, only %zu remain",
				       id, off, n, len - off - PROP_HEADER_LEN);
		const uint8_t *data = blob + off + PROP_HEADER_LEN;
		if (id == PROP_CERT) {
			if (der)
				return rp_fail(err, RP_EXIT_PROBLEMS,
					       "certificate Blob: a second certificate property "
					       "(0x20) at offset %zu",
					       off);
			der = data;
			der_len = n;
		} else if (id == PROP_SHA1) {
			if (n != 20)
				return rp_fail(
				    err, RP_EXIT_PROBLEMS,
				    "certificate Blob: SHA-1 property (0x03) is %u bytes, "
				    "expected 20",
				    n);
			upper_hex(data, 20, info->sha1_prop);
			info->has_sha1_prop = 1;
		} else if (id == PROP_KEY_PROV_INFO) {
			key_prov = data;
			key_prov_len = n;
		}
		off += PROP_HEADER_LEN + n;
	}
	if (!der)
		return rp_fail(err, RP_EXIT_PROBLEMS,
			       "certificate Blob (%zu bytes) has no certificate property (0x20)",
			       len);
	if (key_prov && parse_key_prov(key_prov, key_prov_len, info, err) < 0)
		return -1;
	return parse_certificate(der, der_len, info, err);
}

static uint8_t *put_prop(uint8_t *p, uint32_t id, const uint8_t *data, size_t n)
{
	rp_put_le32(p, id);
	rp_put_le32(p + 4, 1);
	rp_put_le32(p + 8, (uint32_t)n);
	if (n)
		memcpy(p + PROP_HEADER_LEN, data, n);
	return p + PROP_HEADER_LEN + n;
}

int rp_cert_build_blob(const uint8_t *der, size_t der_len, const char *container,
		       const char *provider, uint8_t **blob, size_t *len, rp_err *err)
{
	*blob = NULL;
	*len = 0;
	if (der_len == 0 || der_len > UINT32_MAX / 2)
		return rp_fail(err, RP_EXIT_PROBLEMS,
			       "certificate of %zu bytes cannot go into a Blob", der_len);
	uint8_t *key_prov = NULL;
	size_t key_prov_len = 0;
	if (container) {
		size_t c_len = 0, p_len = 0;
		uint8_t *c16 = rp_utf8_to_utf16(container, &c_len);
		uint8_t *p16 = provider ? rp_utf8_to_utf16(provider, &p_len) : NULL;
		if (!c16 || (provider && !p16)) {
			free(c16);
			free(p16);
			return rp_fail(err, RP_EXIT_PROBLEMS,
				       "key container or provider name is not valid UTF-8");
		}
		key_prov_len = KEY_PROV_HEADER_LEN + c_len + p_len;
		key_prov = rp_xcalloc(1, key_prov_len);
		rp_put_le32(key_prov, KEY_PROV_HEADER_LEN);
		rp_put_le32(key_prov + 4, p16 ? (uint32_t)(KEY_PROV_HEADER_LEN + c_len) : 0);
		rp_put_le32(key_prov + 8, PROV_RSA_FULL);
		rp_put_le32(key_prov + 12, CRYPT_MACHINE_KEYSET);
		rp_put_le32(key_prov + 24, AT_KEYEXCHANGE); /* no parameters: count and offset 0 */
		memcpy(key_prov + KEY_PROV_HEADER_LEN, c16, c_len);
		if (p16)
			memcpy(key_prov + KEY_PROV_HEADER_LEN + c_len, p16, p_len);
		free(c16);
		free(p16);
	}
	uint8_t sha1[20];
	rp_sha1(der, der_len, sha1);
	size_t total = (key_prov ? PROP_HEADER_LEN + key_prov_len : 0) + PROP_HEADER_LEN +
		       sizeof sha1 + PROP_HEADER_LEN + der_len;
	uint8_t *out = rp_xmalloc(total);
	uint8_t *p = out;
	if (key_prov)
		p = put_prop(p, PROP_KEY_PROV_INFO, key_prov, key_prov_len);
	p = put_prop(p, PROP_SHA1, sha1, sizeof sha1);
	put_prop(p, PROP_CERT, der, der_len);
	free(key_prov);
	*blob = out;
	*len = total;
	return 0;
}
