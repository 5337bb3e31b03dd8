/* file.c — whole host files into memory (see file.h). */
#include "util/file.h"
#include "util/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rp_stream_read(FILE *f, uint8_t **data, size_t *len)
{
	size_t cap = 1 << 16, n = 0, got;
	uint8_t *buf = rp_xmalloc(cap);
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		buf = rp_grow(buf, &cap, n + 1, 1);
	}
	if (ferror(f)) {
		int saved = errno;
		free(buf);
		errno = saved ? saved : EIO;
		return -1;
	}
	*data = buf;
	*len = n;
	return 0;
}

int rp_file_read(const char *path, uint8_t **data, size_t *len, int exit_code, rp_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return rp_fail(err, exit_code, "cannot open %s: %s", path, strerror(errno));
	int rc = rp_stream_read(f, data, len);
	if (rc < 0)
		rp_fail(err, exit_code, "cannot read %s: %s", path, strerror(errno));
	fclose(f);
	return rc;
}

int rp_file_first_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char *ok = fgets(buf, (int)size, f);
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

enum io_mode { IO_WRITE, IO_PWRITE, IO_PREAD };

/* One loop for them all, over cnt buffers (iov is changed): IO_WRITE writes at the file
 * position; reading stops with EIO where the file ends first. */
static int io_vec(int fd, struct iovec *iov, int cnt, uint64_t offset, enum io_mode mode)
{
	while (cnt > 0) {
		if (mode != IO_WRITE && offset > INT64_MAX) {
			errno = EINVAL;
			return -1;
		}
		ssize_t n = mode == IO_PREAD	? preadv(fd, iov, cnt, (off_t)offset)
			    : mode == IO_PWRITE ? pwritev(fd, iov, cnt, (off_t)offset)
						: writev(fd, iov, cnt);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		offset += (uint64_t)n;
		/* Past what was done: whole buffers dropped, a partial one advanced. */
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static int io_all(int fd, void *buf, size_t len, uint64_t offset, enum io_mode mode)
{
	struct iovec iov = {buf, len};
	return io_vec(fd, &iov, len ? 1 : 0, offset, mode);
}

int rp_write_all(int fd, const void *buf, size_t len)
{
	return io_all(fd, (void *)buf, len, 0, IO_WRITE);
}

int rp_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset)
{
	return io_all(fd, (void *)buf, len, offset, IO_PWRITE);
}

int rp_pwritev_all(int fd, struct iovec *iov, int cnt, uint64_t offset)
{
	return io_vec(fd, iov, cnt, offset, IO_PWRITE);
}

int rp_pread_all(int fd, void *buf, size_t len, uint64_t offset)
{
	return io_all(fd, buf, len, offset, IO_PREAD);
}
