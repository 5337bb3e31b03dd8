/*
 * test_util.c — util/text.h's growing array (rp_grow) and string builder (rp_strbuf), and
 * util/file.h's whole-file read on an empty and a missing file.
 */
#include "test.h"
#include "util/file.h"
#include "util/text.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	uint32_t *v = NULL;
	size_t cap = 0, n = 0, moves = 0;
	for (uint32_t i = 0; i < 100000; i++) {
		uint32_t *old = v;
		v = rp_grow(v, &cap, n + 1, sizeof *v);
		moves += v != old;
		v[n++] = i;
	}
	int ok = 1;
	for (uint32_t i = 0; i < 100000; i++)
		ok &= v[i] == i;
	CHECK(ok && cap >= n, "rp_grow: 100,000 appends kept (capacity %zu)", cap);
	CHECK(moves <= 14, "rp_grow doubles: %zu reallocations for 100,000 elements", moves);
	size_t before = cap;
	CHECK(rp_grow(v, &cap, 10, sizeof *v) == v && cap == before,
	      "rp_grow with room: same pointer and capacity");
	free(v);
	cap = 0;
	char *b = rp_grow(NULL, &cap, 1, 1);
	CHECK(b && cap == 16, "rp_grow from nothing: 16 elements (%zu)", cap);
	free(b);

	rp_strbuf s = {0};
	CHECK(s.s == NULL, "rp_strbuf: empty is NULL");
	rp_strbuf_add(&s, "ab");
	rp_strbuf_addf(&s, "%d-%s", 42, "x");
	for (int i = 0; i < 1000; i++)
		rp_strbuf_add(&s, "0123456789");
	CHECK(s.len == 10006 && strlen(s.s) == s.len && !strncmp(s.s, "ab42-x0123", 10),
	      "rp_strbuf: add and addf, 10,006 bytes, NUL-terminated (%zu)", s.len);
	free(s.s);

	char path[] = "/tmp/test_util.XXXXXX";
	int fd = mkstemp(path);
	uint8_t *data = NULL;
	size_t len = 1;
	rp_err err = {0};
	CHECK(fd >= 0 && rp_file_read(path, &data, &len, 3, &err) == 0 && data && len == 0,
	      "rp_file_read: an empty file is 0 bytes, not NULL");
	free(data);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	CHECK(rp_file_read(path, &data, &len, 3, &err) < 0 && err.exit_code == 3 &&
		  strstr(err.msg, path),
	      "rp_file_read: a missing file fails with the exit code given and names it (%s)",
	      err.msg);
	TEST_DONE();
}
