/*
 * pe.h — the version resource of a Windows executable or driver (PE/COFF), read from its bytes.
 *
 * Only what a report needs: the strings of the VS_VERSIONINFO resource (RT_VERSION, type 16),
 * e.g. CompanyName, FileDescription, FileVersion.  The file may be hostile: every offset and
 * length is checked against the buffer, nothing is trusted, nothing is executed.
 */
#ifndef RP_PE_H
#define RP_PE_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

/* The string name (e.g. "CompanyName") from the first string table of buf's version resource
 * that holds it, as malloc'd UTF-8 in *out.  1 found, 0 the file has no version resource or no
 * such string, -1 the file is not a well-formed PE (err says why). */
int rp_pe_version_string(const uint8_t *buf, size_t len, const char *name, char **out, rp_err *err);

#endif
