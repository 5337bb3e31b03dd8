/*
 * version.c — `rdprescue --version`: rdprescue's version, the git commit it was built from and
 * the version of every library linked into the binary.  Where a library can say its own
 * version at run time (OpenSSL, libarchive and the compressors it reports, jansson, zstd,
 * nettle), that is what is printed; libhivex and libntfs-3g have no such call, so the version
 * pkg-config gave at build time is printed (build/gen/version.h, Makefile).  The list is the
 * libraries the link map shows (dist/licences.sh); libacl and liblz4 are on the link line but
 * nothing is taken from them.
 */
#include "cli/cli.h"
#include "gen/version.h"
#include "plan/plan.h"

#include <archive.h>
#include <jansson.h>
#include <lzma.h>
#include <nettle/version.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <zlib.h>
#include <zstd.h>

void cli_version(FILE *out)
{
	fprintf(out, "rdprescue %s (commit %s)\n", RP_VERSION, RP_GIT_COMMIT);
	fputs("linked statically with:\n", out);
	fprintf(out, "  libhivex %s (build time)\n", RP_HIVEX_VERSION);
	fprintf(out, "  libntfs-3g %s (build time)\n", RP_NTFS3G_VERSION);
	fprintf(out, "  %s\n", OpenSSL_version(OPENSSL_VERSION));
	fprintf(out, "  %s\n", archive_version_details());
	fprintf(out, "  jansson %s\n", jansson_version_str());
	fprintf(out, "  zstd %s, xz/liblzma %s, zlib %s\n", ZSTD_versionString(),
		lzma_version_string(), zlibVersion());
	fprintf(out, "  nettle %d.%d\n", nettle_version_major(), nettle_version_minor());
}
