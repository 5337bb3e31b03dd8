/*
 * file.h — reading a host file: a whole one (a backup given with --backup, a hive given to
 * `hive`), or the first line of a sysfs file; writing all of a buffer to a host file.
 * Files on the Windows volume are read through vol/, never with these.
 */
#ifndef RP_FILE_H
#define RP_FILE_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

/* Reads f to its end (malloc'd, never NULL on success); -1 on a read error (errno kept). */
int rp_stream_read(FILE *f, uint8_t **data, size_t *len);
/* Reads a whole host file; on failure err says which file and why, with exit_code. */
int rp_file_read(const char *path, uint8_t **data, size_t *len, int exit_code, rp_err *err);
/* The first line of a small host file (sysfs), without its newline; 0 on success, else -1. */
int rp_file_first_line(const char *path, char *buf, size_t size);
/* write(2) / pwrite(2) until all len bytes are written (EINTR retried); -1 with errno. */
int rp_write_all(int fd, const void *buf, size_t len);
int rp_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset);
/* pwritev(2) of cnt buffers (iov is changed) until all are written; -1 with errno. */
int rp_pwritev_all(int fd, struct iovec *iov, int cnt, uint64_t offset);
/* pread(2) until all len bytes are read (EINTR retried); -1 with errno, EIO when the file ends
 * first. */
int rp_pread_all(int fd, void *buf, size_t len, uint64_t offset);

#endif
