/*
 * rp-mkcert.c — test fixtures for scenario disks: certificate store Blobs and CAPI key
 * containers.
 *
 *   rp-mkcert blob --cn NAME --not-before YYYY-MM-DD --not-after YYYY-MM-DD
 *                  [--container NAME] OUT.blob
 *       a self-signed RSA 2048 certificate for CN=NAME (validity from 00:00:00 UTC of the first
 *       date to 00:00:00 UTC of the second) as a registry Blob; prints its thumbprint.
 *   rp-mkcert container NAME OUT
 *       a synthetic, well-formed, undecryptable key container (rp_capi_build_container).
 *   rp-mkcert keyname NAME MACHINEGUID
 *       prints the MachineKeys file name of container NAME (rp_capi_container_file).
 */
#include "capi/capi.h"
#include "cert/cert.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROVIDER "Microsoft Enhanced Cryptographic Provider v1.0"

static int usage(void)
{
	fprintf(stderr, "usage: rp-mkcert blob --cn NAME --not-before YYYY-MM-DD "
			"--not-after YYYY-MM-DD [--container NAME] OUT.blob\n"
			"       rp-mkcert container NAME OUT\n"
			"       rp-mkcert keyname NAME MACHINEGUID\n");
	return 2;
}

static int parse_date(const char *s, time_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return -1;
	*out = timegm(&tm);
	return 0;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -1;
	}
	int ok = fwrite(data, 1, len, f) == len;
	if (fclose(f) != 0 || !ok) {
		perror(path);
		return -1;
	}
	return 0;
}

/* DER of a self-signed RSA 2048 certificate, or NULL. */
static uint8_t *make_cert(const char *cn, time_t nb, time_t na, size_t *len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *key = NULL;
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;
	uint8_t *copy = NULL;
	int n = -1;
	if (ctx && x && name && EVP_PKEY_keygen_init(ctx) > 0 &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) > 0 && EVP_PKEY_generate(ctx, &key) > 0 &&
	    X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), (long)nb) &&
	    ASN1_TIME_set(X509_getm_notBefore(x), nb) && ASN1_TIME_set(X509_getm_notAfter(x), na) &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
				       0) &&
	    X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) &&
	    X509_set_pubkey(x, key) && X509_sign(x, key, EVP_sha256()) > 0)
		n = i2d_X509(x, &der);
	if (n > 0) {
		copy = malloc((size_t)n);
		if (copy) {
			memcpy(copy, der, (size_t)n);
			*len = (size_t)n;
		}
	}
	OPENSSL_free(der);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(ctx);
	return copy;
}

static int cmd_blob(int argc, char **argv)
{
	const char *cn = NULL, *nb_s = NULL, *na_s = NULL, *container = NULL, *out = NULL;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--cn") && i + 1 < argc)
			cn = argv[++i];
		else if (!strcmp(argv[i], "--not-before") && i + 1 < argc)
			nb_s = argv[++i];
		else if (!strcmp(argv[i], "--not-after") && i + 1 < argc)
			na_s = argv[++i];
		else if (!strcmp(argv[i], "--container") && i + 1 < argc)
			container = argv[++i];
		else if (argv[i][0] != '-' && !out)
			out = argv[i];
		else
			return usage();
	}
	time_t nb, na;
	if (!cn || !nb_s || !na_s || !out)
		return usage();
	if (parse_date(nb_s, &nb) < 0 || parse_date(na_s, &na) < 0) {
		fprintf(stderr, "rp-mkcert: dates must be YYYY-MM-DD (got %s, %s)\n", nb_s, na_s);
		return 2;
	}
	size_t der_len = 0;
	uint8_t *der = make_cert(cn, nb, na, &der_len);
	if (!der) {
		fprintf(stderr, "rp-mkcert: OpenSSL could not make the certificate for CN=%s\n",
			cn);
		return 1;
	}
	uint8_t *blob = NULL;
	size_t len = 0;
	rp_err err = {0};
	rp_cert_info info;
	int rc = 1;
	if (rp_cert_build_blob(der, der_len, container, container ? PROVIDER : NULL, &blob, &len,
			       &err) < 0 ||
	    rp_cert_parse_blob(blob, len, &info, &err) < 0)
		fprintf(stderr, "rp-mkcert: %s\n", err.msg);
	else if (write_file(out, blob, len) == 0) {
		printf("%s\n", info.thumbprint);
		rc = 0;
	}
	free(blob);
	free(der);
	return rc;
}

static int cmd_container(int argc, char **argv)
{
	if (argc != 4)
		return usage();
	uint8_t *buf = NULL;
	size_t len = 0;
	if (rp_capi_build_container(argv[2], 2048, &buf, &len) < 0) {
		fprintf(stderr, "rp-mkcert: cannot build a container named \"%s\"\n", argv[2]);
		return 1;
	}
	int rc = write_file(argv[3], buf, len) == 0 ? 0 : 1;
	free(buf);
	return rc;
}

static int cmd_keyname(int argc, char **argv)
{
	if (argc != 4)
		return usage();
	char name[160];
	if (strlen(argv[3]) > sizeof name - 34) {
		fprintf(stderr, "rp-mkcert: MachineGuid \"%s\" is too long\n", argv[3]);
		return 2;
	}
	rp_capi_container_file(argv[2], argv[3], name, sizeof name);
	printf("%s\n", name);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "blob"))
		return cmd_blob(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "container"))
		return cmd_container(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "keyname"))
		return cmd_keyname(argc, argv);
	return usage();
}
