/*
 * rp-testfs — populates and inspects NTFS test images through rdprescue's own vol/ layer
 * (used by the scenario tests to build fixtures; not installed).
 *
 *   rp-testfs IMG[@PARTNO] put LOCALFILE VOLPATH   mkdirs the parents, then write_file
 *   rp-testfs IMG[@PARTNO] mkdir VOLPATH
 *   rp-testfs IMG[@PARTNO] cat VOLPATH             file to stdout
 *   rp-testfs IMG[@PARTNO] ls VOLPATH              one "d|f|r name" line per entry
 *   rp-testfs IMG[@PARTNO] setsd VOLPATH SDFILE    binary self-relative SD
 *   rp-testfs IMG[@PARTNO] getsd VOLPATH           binary SD to stdout
 *   rp-testfs IMG[@PARTNO] rm VOLPATH
 *   rp-testfs IMG[@PARTNO] hiberfil                /hiberfil.sys (8 KiB, "HIBR"): a hibernated
 * volume
 *
 * PARTNO: partition number; default the last NTFS partition; 0 = a bare NTFS image.
 * Exit 0 on success, otherwise one line on stderr and the rp_exit code.
 */
#include "disk/disk.h"
#include "util/text.h"
#include "vol/vol.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr,
		"usage: rp-testfs IMG[@PARTNO] put LOCAL VOLPATH | mkdir VOLPATH | cat "
		"VOLPATH | ls VOLPATH | setsd VOLPATH SDFILE | getsd VOLPATH | rm VOLPATH | "
		"hiberfil\n");
	return RP_EXIT_USAGE;
}

static int read_local(const char *path, uint8_t **data, size_t *len, rp_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return rp_fail(err, RP_EXIT_USAGE, "%s: %s", path, strerror(errno));
	size_t cap = 65536, n = 0;
	uint8_t *buf = rp_xmalloc(cap);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			buf = rp_xrealloc(buf, cap *= 2);
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return rp_fail(err, RP_EXIT_USAGE, "%s: read error", path);
	}
	*data = buf;
	*len = n;
	return 0;
}

/* The byte range of the partition asked for. */
static int find_part(const char *img, int partno, uint64_t *offset, uint64_t *size, rp_err *err)
{
	rp_disk disk;
	if (rp_disk_probe(&disk, img, err) < 0)
		return -1;
	int rc = -1;
	for (size_t i = disk.nparts; i-- > 0;) {
		const rp_part *p = &disk.parts[i];
		if ((partno < 0 && p->fs == RP_FS_NTFS) || p->number == partno) {
			*offset = p->offset;
			*size = p->size;
			rc = 0;
			break;
		}
	}
	if (rc < 0)
		rp_fail(err, RP_EXIT_USAGE, "%s: no %s partition %d", img,
			partno < 0 ? "NTFS" : "such", partno);
	rp_disk_free(&disk);
	return rc;
}

static int print_entry(void *ctx, const char *name, const rp_stat *st)
{
	(void)ctx;
	char *shown = rp_escape(name);
	printf("%c %s\n", st->is_reparse ? 'r' : st->is_dir ? 'd' : 'f', shown);
	free(shown);
	return 0;
}

static int put(rp_vol *vol, const char *local, const char *path, rp_err *err)
{
	uint8_t *data;
	size_t len;
	if (read_local(local, &data, &len, err) < 0)
		return -1;
	char *parent = rp_xstrdup(path);
	char *slash = strrchr(parent, '/');
	int rc = 0;
	if (slash) {
		*slash = 0;
		rc = rp_vol_mkdirs(vol, parent, err);
	}
	if (rc == 0)
		rc = rp_vol_write_file(vol, path, data, len, NULL, 0, err);
	free(parent);
	free(data);
	return rc;
}

static int run(rp_vol *vol, const char *cmd, int argc, char **argv, rp_err *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = -1;
	if (!strcmp(cmd, "put") && argc == 2) {
		rc = put(vol, argv[0], argv[1], err);
	} else if (!strcmp(cmd, "mkdir") && argc == 1) {
		rc = rp_vol_mkdirs(vol, argv[0], err);
	} else if (!strcmp(cmd, "cat") && argc == 1) {
		rc = rp_vol_read(vol, argv[0], &data, &len, err);
	} else if (!strcmp(cmd, "getsd") && argc == 1) {
		rc = rp_vol_get_sd(vol, argv[0], &data, &len, err);
	} else if (!strcmp(cmd, "ls") && argc == 1) {
		rc = rp_vol_list(vol, argv[0], print_entry, NULL, err);
	} else if (!strcmp(cmd, "rm") && argc == 1) {
		rc = rp_vol_remove(vol, argv[0], err);
	} else if (!strcmp(cmd, "setsd") && argc == 2) {
		rc = read_local(argv[1], &data, &len, err);
		if (rc == 0)
			rc = rp_vol_set_sd(vol, argv[0], data, len, err);
		free(data);
		data = NULL;
	} else if (!strcmp(cmd, "hiberfil") && argc == 0) {
		uint8_t hib[8192] = {'H', 'I', 'B', 'R'};
		rc = rp_vol_write_file(vol, "hiberfil.sys", hib, sizeof hib, NULL, 0, err);
	} else {
		return rp_fail(err, RP_EXIT_USAGE, "unknown command or wrong arguments: %s", cmd);
	}
	if (rc == 0 && data && fwrite(data, 1, len, stdout) != len)
		rc = rp_fail(err, RP_EXIT_PROBLEMS, "writing to stdout: %s", strerror(errno));
	free(data);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *cmd = argv[2];
	int writable = !strcmp(cmd, "put") || !strcmp(cmd, "mkdir") || !strcmp(cmd, "setsd") ||
		       !strcmp(cmd, "rm") || !strcmp(cmd, "hiberfil");
	char *img = rp_xstrdup(argv[1]);
	int partno = -1;
	char *at = strrchr(img, '@');
	if (at) {
		char *end;
		*at = 0;
		long n = strtol(at + 1, &end, 10);
		if (*end || n < 0 || n > 4096) {
			free(img);
			return usage();
		}
		partno = (int)n;
	}
	rp_err err = {0};
	uint64_t offset = 0, size = 0;
	rp_vol *vol = NULL;
	int rc = find_part(img, partno, &offset, &size, &err);
	if (rc == 0)
		rc = rp_vol_open_ntfs(&vol, img, offset, size, writable, &err);
	if (rc == 0)
		rc = run(vol, cmd, argc - 3, argv + 3, &err);
	if (vol && rp_vol_close(vol, &err) < 0)
		rc = -1;
	free(img);
	if (rc < 0) {
		fprintf(stderr, "rp-testfs: %s\n", err.msg);
		return err.exit_code ? err.exit_code : 1;
	}
	return 0;
}
