/* hash.h — SHA-256 and SHA-1 through OpenSSL's libcrypto, as lower-case hex. */
#ifndef RP_HASH_H
#define RP_HASH_H

#include <stddef.h>
#include <stdint.h>

void rp_sha256_hex(const uint8_t *data, size_t len, char out[65]);
/* rp_sha256_hex on a thread of its own (util/task.h): out is written by rp_sha256_hex_wait's
 * return; data must not change until then. */
typedef struct rp_sha256_job rp_sha256_job;
rp_sha256_job *rp_sha256_hex_start(const uint8_t *data, size_t len, char out[65]);
void rp_sha256_hex_wait(rp_sha256_job *job);
void rp_sha1(const uint8_t *data, size_t len, uint8_t out[20]);
void rp_md5(const uint8_t *data, size_t len, uint8_t out[16]);

#endif
