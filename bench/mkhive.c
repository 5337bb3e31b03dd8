/*
 * mkhive.c — enlarges a registry hive for the benchmarks (make bench), through libhivex (a
 * writer independent of rdprescue):
 *
 *   mkhive HIVE KEYNAME MB
 *
 * Adds KEYNAME under the root of HIVE with groups of subkeys until the hive holds about MB
 * megabytes: every subkey has a string, a DWORD and a 3,000-byte binary value (half of it
 * pseudo-random, half repeated text, so that compression sees something like a real hive).
 * Values stay below 16 KiB, so no big-data records.  Exit 0, or 1 with a message on stderr.
 */
#include <errno.h>
#include <hivex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KEYS_PER_GROUP 300
#define BLOB_LEN 3000

static int die(const char *what, const char *arg)
{
	fprintf(stderr, "mkhive: %s %s: %s\n", what, arg, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: mkhive HIVE KEYNAME MB\n");
		return 2;
	}
	const char *path = argv[1];
	long mb = strtol(argv[3], NULL, 10);
	struct stat st;
	if (mb <= 0 || stat(path, &st) != 0)
		return die("cannot use", path);
	/* ~6.8 KiB of hive per subkey (hivex places cells generously). */
	long want = mb * 1024 * 1024 - (long)st.st_size;
	long keys = want > 0 ? want / 6960 : 0;

	hive_h *h = hivex_open(path, HIVEX_OPEN_WRITE);
	if (!h)
		return die("cannot open", path);
	hive_node_h top = hivex_node_add_child(h, hivex_root(h), argv[2]);
	if (!top)
		return die("cannot add", argv[2]);
	uint32_t seed = 0x12345678;
	unsigned char blob[BLOB_LEN];
	char name[64], text[128];
	/* UTF-16LE string data. */
	unsigned char sz[256];
	for (long g = 0; g * KEYS_PER_GROUP < keys; g++) {
		snprintf(name, sizeof name, "Group%04ld", g);
		hive_node_h grp = hivex_node_add_child(h, top, name);
		if (!grp)
			return die("cannot add", name);
		for (long k = 0; k < KEYS_PER_GROUP && g * KEYS_PER_GROUP + k < keys; k++) {
			snprintf(name, sizeof name, "Product%06ld", g * KEYS_PER_GROUP + k);
			hive_node_h n = hivex_node_add_child(h, grp, name);
			if (!n)
				return die("cannot add", name);
			for (size_t i = 0; i < BLOB_LEN; i++) {
				seed = seed * 1103515245u + 12345u;
				blob[i] = i < BLOB_LEN / 2
					      ? (unsigned char)(seed >> 16)
					      : (unsigned char)("InstallSource "[i % 14]);
			}
			int tl = snprintf(text, sizeof text, "Benchmark product %ld",
					  g * KEYS_PER_GROUP + k);
			size_t szl = 0;
			for (int i = 0; i <= tl && szl + 2 <= sizeof sz; i++) {
				sz[szl++] = (unsigned char)text[i];
				sz[szl++] = 0;
			}
			uint32_t dw = (uint32_t)k;
			hive_set_value vals[3] = {
			    {.key = (char *)"DisplayName",
			     .t = hive_t_REG_SZ,
			     .len = szl,
			     .value = (char *)sz},
			    {.key = (char *)"Version",
			     .t = hive_t_REG_DWORD,
			     .len = 4,
			     .value = (char *)&dw},
			    {.key = (char *)"Data",
			     .t = hive_t_REG_BINARY,
			     .len = BLOB_LEN,
			     .value = (char *)blob},
			};
			if (hivex_node_set_values(h, n, 3, vals, 0) != 0)
				return die("cannot set values of", name);
		}
	}
	if (hivex_commit(h, NULL, 0) != 0)
		return die("cannot write", path);
	hivex_close(h);
	return 0;
}
