/*
 * file.h — reading a whole host file (a backup given with --backup, a hive given to `hive`).
 * Files on the Windows volume are read through vol/, never with these.
 */
#ifndef RP_FILE_H
#define RP_FILE_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Reads f to its end (malloc'd, never NULL on success); -1 on a read error (errno kept). */
int rp_stream_read(FILE *f, uint8_t **data, size_t *len);
/* Reads a whole host file; on failure err says which file and why, with exit_code. */
int rp_file_read(const char *path, uint8_t **data, size_t *len, int exit_code, rp_err *err);

#endif
