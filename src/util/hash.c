/* hash.c — see hash.h.  One-shot digests through EVP (OpenSSL 3). */
#include "util/hash.h"
#include "util/task.h"
#include "util/text.h"

#include <openssl/evp.h>
#include <stdlib.h>

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

struct rp_sha256_job {
	const uint8_t *data;
	size_t len;
	char *out;
	rp_task *task;
};

static void sha256_job(void *arg)
{
	rp_sha256_job *j = arg;
	rp_sha256_hex(j->data, j->len, j->out);
}

rp_sha256_job *rp_sha256_hex_start(const uint8_t *data, size_t len, char out[65])
{
	rp_sha256_job *j = rp_xmalloc(sizeof *j);
	*j = (rp_sha256_job){data, len, out, NULL};
	j->task = rp_task_start(sha256_job, j);
	return j;
}

void rp_sha256_hex_wait(rp_sha256_job *job)
{
	if (!job)
		return;
	rp_task_wait(job->task);
	free(job);
}

void rp_sha1(const uint8_t *data, size_t len, uint8_t out[20])
{
	digest(EVP_sha1(), data, len, out);
}

void rp_md5(const uint8_t *data, size_t len, uint8_t out[16])
{
	digest(EVP_md5(), data, len, out);
}
