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

/* One loop for all three: without at_offset it writes at the file position; reading stops with EIO
 * where the file ends first. */
static int io_all(int fd, uint8_t *p, size_t len, uint64_t offset, int at_offset, int reading)
{
	while (len) {
		if (at_offset && offset > INT64_MAX) {
			errno = EINVAL;
			return -1;
		}
		ssize_t n = reading	? pread(fd, p, len, (off_t)offset)
			    : at_offset ? pwrite(fd, p, len, (off_t)offset)
					: write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

int rp_write_all(int fd, const void *buf, size_t len)
{
	return io_all(fd, (uint8_t *)buf, len, 0, 0, 0);
}

int rp_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset)
{
	return io_all(fd, (uint8_t *)buf, len, offset, 1, 0);
}

int rp_pwritev_all(int fd, struct iovec *iov, int cnt, uint64_t offset)
{
	while (cnt > 0) {
		if (offset > INT64_MAX) {
			errno = EINVAL;
			return -1;
		}
		ssize_t n = pwritev(fd, iov, cnt, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		offset += (uint64_t)n;
		/* Past what was written: whole buffers dropped, a partial one advanced. */
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

int rp_pread_all(int fd, void *buf, size_t len, uint64_t offset)
{
	return io_all(fd, buf, len, offset, 1, 1);
}
