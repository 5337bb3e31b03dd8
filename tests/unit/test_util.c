/*
 * test_util.c — util/text.h's growing array (rp_grow) and string builder (rp_strbuf), and
 * util/file.h's whole-file read on an empty and a missing file, and its whole-buffer write,
 * pwrite and pread (a pipe's 64 KiB buffer makes write return short; a pread past the end).
 */
#include "test.h"
#include "util/file.h"
#include "util/text.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

struct drain {
	int fd;
	uint8_t *buf;
	size_t cap, got;
};

/* Reads the pipe to its end, 1,000 bytes at a time. */
static void *drain(void *arg)
{
	struct drain *d = arg;
	for (;;) {
		size_t want = d->cap - d->got < 1000 ? d->cap - d->got : 1000;
		ssize_t n = want ? read(d->fd, d->buf + d->got, want) : 0;
		if (n <= 0)
			return NULL;
		d->got += (size_t)n;
	}
}

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

	/* write: 1 MiB through a pipe whose reader takes it in pieces. */
	int p[2];
	CHECK(pipe(p) == 0, "a pipe");
	size_t big = 1 << 20;
	uint8_t *out = rp_xmalloc(big), *in = rp_xmalloc(big);
	for (size_t i = 0; i < big; i++)
		out[i] = (uint8_t)(i * 31 + 7);
	pthread_t reader;
	struct drain d = {p[0], in, big, 0};
	CHECK(pthread_create(&reader, NULL, drain, &d) == 0, "a reader thread");
	CHECK(rp_write_all(p[1], out, big) == 0, "rp_write_all: 1 MiB into a 64 KiB pipe");
	close(p[1]);
	pthread_join(reader, NULL);
	CHECK(d.got == big && !memcmp(in, out, big), "the reader got every byte (%zu)", d.got);
	close(p[0]);

	char fpath[] = "/tmp/test_util_io.XXXXXX";
	int f = mkstemp(fpath);
	CHECK(f >= 0 && rp_pwrite_all(f, out, big, 4096) == 0 &&
		  lseek(f, 0, SEEK_END) == 4096 + (off_t)big,
	      "rp_pwrite_all at 4096: the file ends at 4096 + 1 MiB");
	memset(in, 0, big);
	CHECK(rp_pread_all(f, in, big, 4096) == 0 && !memcmp(in, out, big),
	      "rp_pread_all reads the same bytes back");
	errno = 0;
	CHECK(rp_pread_all(f, in, 10, 4096 + big - 5) < 0 && errno == EIO,
	      "rp_pread_all past the end: -1 with EIO (%d)", errno);
	errno = 0;
	CHECK(rp_pwrite_all(-1, out, 1, 0) < 0 && errno == EBADF && rp_write_all(-1, out, 1) < 0,
	      "a bad descriptor: -1 with EBADF");
	if (f >= 0) {
		close(f);
		unlink(fpath);
	}
	free(out);
	free(in);
	TEST_DONE();
}
