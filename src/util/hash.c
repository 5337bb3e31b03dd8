/* hash.c — see hash.h.  One-shot digests through EVP (OpenSSL 3). */
#include "util/hash.h"
#include "util/text.h"

#include <openssl/evp.h>

static void digest(const EVP_MD *md, const uint8_t *data, size_t len, uint8_t *out)
{
	unsigned int n = 0;
	EVP_Digest(data, len, out, &n, md, NULL);
}

void rp_sha256_hex(const uint8_t *data, size_t len, char out[65])
{
	uint8_t d[32];
	digest(EVP_sha256(), data, len, d);
	rp_hex(d, sizeof d, out);
}

void rp_sha1(const uint8_t *data, size_t len, uint8_t out[20])
{
	digest(EVP_sha1(), data, len, out);
}

void rp_md5(const uint8_t *data, size_t len, uint8_t out[16])
{
	digest(EVP_md5(), data, len, out);
}
