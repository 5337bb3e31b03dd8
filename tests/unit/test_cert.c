/*
 * test_cert.c — certificate store Blobs: real X.509 certificates made here with OpenSSL
 * (self-signed RSA 2048, expired / not yet valid / valid), written with rp_cert_build_blob and
 * parsed back, their thumbprints checked against the openssl command; a real exported root-CA
 * Blob (tests/data/cert/, source in its README); and every malformed shape refused.
 */
#include "cert/cert.h"
#include "test.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define DAY 86400

static const char *const provider = "Microsoft Enhanced Cryptographic Provider v1.0";

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static EVP_PKEY *rsa_key(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *key = NULL;
	if (ctx && EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) > 0)
		EVP_PKEY_generate(ctx, &key);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* DER of a certificate for CN=cn valid [nb, na], signed by signer (self-signed when
 * signer == key and issuer_cn == cn).  malloc'd. */
static uint8_t *make_cert(const char *cn, const char *issuer_cn, time_t nb, time_t na,
			  EVP_PKEY *key, EVP_PKEY *signer, size_t *len)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	ASN1_TIME_set(X509_getm_notBefore(x), nb);
	ASN1_TIME_set(X509_getm_notAfter(x), na);
	X509_NAME *subject = X509_NAME_new(), *issuer = X509_NAME_new();
	X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
				   0);
	X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC, (const unsigned char *)issuer_cn, -1,
				   -1, 0);
	X509_set_subject_name(x, subject);
	X509_set_issuer_name(x, issuer);
	X509_set_pubkey(x, key);
	/* Like Windows' RDP certificate: key and data encipherment, server authentication. */
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ku = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage,
						 "critical,keyEncipherment,dataEncipherment");
	X509_EXTENSION *eku = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, "serverAuth");
	X509_add_ext(x, ku, -1);
	X509_add_ext(x, eku, -1);
	X509_EXTENSION_free(ku);
	X509_EXTENSION_free(eku);
	X509_sign(x, signer, EVP_sha256());
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	X509_NAME_free(subject);
	X509_NAME_free(issuer);
	X509_free(x);
	*len = n > 0 ? (size_t)n : 0;
	uint8_t *copy = malloc(*len);
	memcpy(copy, der, *len);
	OPENSSL_free(der);
	return copy;
}

/* The SHA-1 fingerprint as the openssl command prints it, without colons. */
static int openssl_fingerprint(const uint8_t *der, size_t len, char out[41])
{
	char path[] = "/tmp/test_cert_XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	int wrote = write(fd, der, len) == (ssize_t)len;
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "openssl x509 -inform DER -in %s -noout -fingerprint -sha1",
		 path);
	FILE *p = wrote ? popen(cmd, "r") : NULL;
	char line[256] = "";
	if (p) {
		if (!fgets(line, sizeof line, p))
			line[0] = 0;
		pclose(p);
	}
	unlink(path);
	const char *eq = strchr(line, '=');
	if (!eq)
		return -1;
	size_t o = 0;
	for (const char *s = eq + 1; *s && o < 40; s++)
		if (*s != ':' && *s != '\n')
			out[o++] = *s;
	out[o] = 0;
	return o == 40 ? 0 : -1;
}

static void test_roundtrip(EVP_PKEY *key, const char *label, time_t nb, time_t na, int want)
{
	size_t der_len;
	uint8_t *der = make_cert("host", "host", nb, na, key, key, &der_len);
	uint8_t *blob = NULL;
	size_t len = 0;
	rp_err err = {0};
	CHECK(rp_cert_build_blob(der, der_len, "TSSecKeySet1", provider, &blob, &len, &err) == 0,
	      "%s: Blob built%s%s", label, err.msg[0] ? ": " : "", err.msg);
	rp_cert_info info;
	int rc = rp_cert_parse_blob(blob, len, &info, &err);
	CHECK(rc == 0, "%s: Blob parsed%s%s", label, err.msg[0] ? ": " : "", err.msg);
	CHECK(strcmp(info.subject, "CN=host") == 0 && strcmp(info.issuer, "CN=host") == 0,
	      "%s: subject and issuer CN=host (%s / %s)", label, info.subject, info.issuer);
	CHECK(info.not_before == nb && info.not_after == na, "%s: validity read back exactly",
	      label);
	time_t now = time(NULL);
	int state = now > info.not_after ? -1 : now < info.not_before ? 1 : 0;
	CHECK(state == want, "%s: %s", label,
	      want < 0	 ? "expired"
	      : want > 0 ? "not yet valid"
			 : "valid now");
	char fp[41];
	CHECK(openssl_fingerprint(der, der_len, fp) == 0 && strcmp(fp, info.thumbprint) == 0,
	      "%s: thumbprint %s equals openssl's fingerprint", label, info.thumbprint);
	CHECK(info.has_sha1_prop && strcmp(info.sha1_prop, info.thumbprint) == 0,
	      "%s: SHA-1 property equals the thumbprint", label);
	CHECK(info.has_key_prov && strcmp(info.container, "TSSecKeySet1") == 0 &&
		  strcmp(info.provider, provider) == 0,
	      "%s: key provider info names TSSecKeySet1 / %s", label, info.provider);
	CHECK(info.prov_type == 1 && info.key_flags == 0x20 && info.key_spec == 1,
	      "%s: PROV_RSA_FULL, CRYPT_MACHINE_KEYSET, AT_KEYEXCHANGE", label);
	CHECK(info.self_signed, "%s: self-signed (without keyCertSign, like the RDP certificate)",
	      label);
	free(blob);
	free(der);
}

static void test_other_shapes(EVP_PKEY *key, EVP_PKEY *ca)
{
	time_t now = time(NULL);
	size_t der_len;
	uint8_t *der = make_cert("host", "Some CA", now - DAY, now + DAY, key, ca, &der_len);
	uint8_t *blob = NULL;
	size_t len = 0;
	rp_err err = {0};
	rp_cert_info info;
	rp_cert_build_blob(der, der_len, NULL, NULL, &blob, &len, &err);
	CHECK(rp_cert_parse_blob(blob, len, &info, &err) == 0 && !info.has_key_prov &&
		  info.container[0] == 0,
	      "Blob without a container has no key provider info");
	CHECK(!info.self_signed && strcmp(info.issuer, "CN=Some CA") == 0,
	      "certificate issued by another key is not self-signed (%s)", info.issuer);
	free(blob);
	free(der);

	uint8_t *forged = make_cert("host", "host", now - DAY, now + DAY, key, ca, &der_len);
	rp_cert_build_blob(forged, der_len, NULL, NULL, &blob, &len, &err);
	CHECK(rp_cert_parse_blob(blob, len, &info, &err) == 0 && !info.self_signed,
	      "issuer name = subject but signed by another key is not self-signed");
	free(blob);
	free(forged);
	der = make_cert("host", "Some CA", now - DAY, now + DAY, key, ca, &der_len);

	/* A record with property id 0 ends the walk. */
	rp_cert_build_blob(der, der_len, "TSSecKeySet1", provider, &blob, &len, &err);
	uint8_t *longer = calloc(1, len + 40);
	memcpy(longer, blob, len);
	CHECK(rp_cert_parse_blob(longer, len + 40, &info, &err) == 0,
	      "a zero property id after the certificate ends the walk");
	free(longer);

	struct {
		const char *what;
		size_t off;
		uint32_t value;
		const char *expect;
	} cases[] = {
	    {"reserved field 2", 4, 2, "reserved"},
	    {"length past the end", 8, 0x7fffffff, "remain"},
	    {"certificate property renamed to 0x21", 0, 0, "0x20"},
	};
	/* The third case rewrites the id of the last record (the certificate). */
	size_t cert_rec = len - der_len - 12;
	cases[2].off = cert_rec;
	cases[2].value = 0x21;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t *b = malloc(len);
		memcpy(b, blob, len);
		wr32(b + cases[i].off, cases[i].value);
		rp_err e = {0};
		CHECK(rp_cert_parse_blob(b, len, &info, &e) < 0 &&
			  e.exit_code == RP_EXIT_PROBLEMS && strstr(e.msg, cases[i].expect),
		      "%s refused (%s)", cases[i].what, e.msg);
		free(b);
	}

	uint8_t *zero_first = calloc(1, 12 + len);
	memcpy(zero_first + 12, blob, len);
	rp_err e1 = {0};
	CHECK(rp_cert_parse_blob(zero_first, 12 + len, &info, &e1) < 0 && strstr(e1.msg, "0x20"),
	      "a zero property id before the certificate leaves it missing (%s)", e1.msg);
	free(zero_first);

	int all_refused = 1;
	for (size_t cut = 0; cut < len; cut++) {
		rp_err e = {0};
		all_refused &= rp_cert_parse_blob(blob, cut, &info, &e) < 0 && e.msg[0];
	}
	CHECK(all_refused, "every truncation of the Blob (%zu cuts) is refused", len);
	free(blob);

	uint8_t *padded = malloc(der_len + 1);
	memcpy(padded, der, der_len);
	padded[der_len] = 0;
	rp_cert_build_blob(padded, der_len + 1, NULL, NULL, &blob, &len, &err);
	rp_err e2 = {0};
	CHECK(rp_cert_parse_blob(blob, len, &info, &e2) < 0 && strstr(e2.msg, "trailing"),
	      "DER with a trailing byte refused (%s)", e2.msg);
	free(blob);
	free(padded);

	uint8_t junk[100];
	memset(junk, 0x30, sizeof junk);
	rp_cert_build_blob(junk, sizeof junk, NULL, NULL, &blob, &len, &err);
	rp_err e3 = {0};
	CHECK(rp_cert_parse_blob(blob, len, &info, &e3) < 0 && strstr(e3.msg, "not DER"),
	      "bytes that are not a certificate refused (%s)", e3.msg);
	free(blob);
	free(der);
}

/* Key provider info with bad offsets: built by hand around a valid certificate. */
static void test_bad_key_prov(EVP_PKEY *key)
{
	size_t der_len;
	time_t now = time(NULL);
	uint8_t *der = make_cert("host", "host", now - DAY, now + DAY, key, key, &der_len);
	uint8_t *blob = NULL;
	size_t len = 0;
	rp_err err = {0};
	rp_cert_build_blob(der, der_len, "TSSecKeySet1", provider, &blob, &len, &err);
	struct {
		const char *what;
		size_t field;
		uint32_t value;
	} cases[] = {
	    {"container offset past the property", 0, 0x10000},
	    {"container offset inside the header", 0, 8},
	    {"parameter table past the property", 16, 1000},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t *b = malloc(len);
		memcpy(b, blob, len);
		wr32(b + 12 + cases[i].field, cases[i].value);
		if (cases[i].field == 16)
			wr32(b + 12 + 20, 28);
		rp_cert_info info;
		rp_err e = {0};
		CHECK(rp_cert_parse_blob(b, len, &info, &e) < 0 && strstr(e.msg, "key provider"),
		      "%s refused (%s)", cases[i].what, e.msg);
		free(b);
	}
	/* Overwrite the provider name's NUL and everything after it inside the property. */
	uint8_t *b = malloc(len);
	memcpy(b, blob, len);
	uint32_t prop_len = (uint32_t)b[8] | (uint32_t)b[9] << 8;
	b[12 + prop_len - 2] = 'x';
	rp_cert_info info;
	rp_err e = {0};
	CHECK(rp_cert_parse_blob(b, len, &info, &e) < 0 && strstr(e.msg, "NUL"),
	      "provider name without NUL refused (%s)", e.msg);
	free(b);
	free(blob);
	free(der);
}

static uint8_t *read_hex_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	uint8_t *out = malloc(1 << 16);
	size_t n = 0;
	int c, hi = -1;
	while ((c = fgetc(f)) != EOF && n < (1 << 16)) {
		int v = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	fclose(f);
	*len = n;
	return out;
}

static void test_real_blob(void)
{
	char path[512];
	const char *here = __FILE__;
	const char *slash = strrchr(here, '/');
	snprintf(path, sizeof path, "%.*s/../data/cert/jemmylovejenny-root-ca.blob.hex",
		 slash ? (int)(slash - here) : 1, slash ? here : ".");
	size_t len = 0;
	uint8_t *blob = read_hex_file(path, &len);
	CHECK(blob && len == 1806, "real exported Blob read (%zu bytes from %s)", len, path);
	if (!blob)
		return;
	rp_cert_info info;
	rp_err err = {0};
	CHECK(rp_cert_parse_blob(blob, len, &info, &err) == 0, "real Blob parsed%s%s",
	      err.msg[0] ? ": " : "", err.msg);
	CHECK(strcmp(info.subject, "CN=JemmyLoveJenny EV Root CA,OU=pki.jemmylovejenny.tk,"
				   "O=JemmyLoveJenny PKI Service,C=CN") == 0,
	      "real Blob subject (%s)", info.subject);
	CHECK(strcmp(info.thumbprint, "E403A1DFC8F377E0F4AA43A83EE9EA079A1F55F2") == 0,
	      "real Blob thumbprint equals its registry key name (%s)", info.thumbprint);
	CHECK(info.has_sha1_prop && strcmp(info.sha1_prop, info.thumbprint) == 0,
	      "real Blob SHA-1 property equals the thumbprint");
	CHECK(info.not_after == 4102444799 && info.not_before == 946684800,
	      "real Blob validity 2000-01-01 .. 2099-12-31 23:59:59 (%lld .. %lld)",
	      (long long)info.not_before, (long long)info.not_after);
	CHECK(info.self_signed && !info.has_key_prov, "real root CA: self-signed, no key link");
	free(blob);
}

int main(void)
{
	EVP_PKEY *key = rsa_key(), *ca = rsa_key();
	CHECK(key && ca, "RSA 2048 keys generated");
	if (!key || !ca)
		TEST_DONE();
	time_t now = time(NULL);
	test_roundtrip(key, "expired", now - 400 * DAY, now - 200 * DAY, -1);
	test_roundtrip(key, "not yet valid", now + 10 * DAY, now + 200 * DAY, 1);
	test_roundtrip(key, "valid", now - 10 * DAY, now + 170 * DAY, 0);
	test_other_shapes(key, ca);
	test_bad_key_prov(key);
	test_real_blob();
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca);
	TEST_DONE();
}
