/*
 * cmd_hive.c — `rdprescue hive FILE [LOG1 LOG2] [--recover OUT]`: shows a hive's base block,
 * the state of its transaction logs and what a replay would do (or why it is refused), and
 * with --recover writes the replayed hive with a clean base block to OUT.
 */
#include "cli/cli.h"
#include "regf/regf.h"
#include "util/err.h"
#include "util/file.h"
#include "util/text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HIVE_USAGE "usage: rdprescue hive FILE [LOG1 LOG2] [--recover OUT]"

/* FILE.<ext> in FILE's directory, any case; NULL when there is none. */
static char *find_log(const char *file, const char *ext)
{
	char *d = rp_xstrdup(file), *b = rp_xstrdup(file);
	char *dir = dirname(d), *base = basename(b);
	char *want = rp_xasprintf("%s.%s", base, ext), *found = NULL;
	DIR *dh = opendir(dir);
	struct dirent *de;
	while (dh && (de = readdir(dh)) != NULL)
		if (rp_strcasecmp(de->d_name, want) == 0) {
			found = rp_xasprintf("%s/%s", dir, de->d_name);
			break;
		}
	if (dh)
		closedir(dh);
	free(want);
	free(d);
	free(b);
	return found;
}

static void print_base_block(const uint8_t *p, size_t len)
{
	rp_regf_base_info b;
	rp_regf_describe_base(p, len, &b);
	if (!b.present) {
		printf("  base block: none (no regf signature)\n");
		return;
	}
	int sum_ok = b.checksum == b.checksum_want;
	char *ename = rp_escape(b.file_name);
	printf("  base block: seq %u/%u (%s), checksum 0x%08x %s, version %u.%u, type %u, "
	       "hive bins 0x%x, flags 0x%x, root 0x%x, file name \"%s\"\n",
	       b.seq1, b.seq2, b.seq1 == b.seq2 && sum_ok ? "clean" : "dirty", b.checksum,
	       sum_ok ? "ok" : "BAD", b.major, b.minor, b.type, b.hbins_size, b.flags, b.root,
	       ename);
	free(ename);
}

static void print_log(const char *label, const char *path, const uint8_t *data, size_t len)
{
	char *epath = path ? rp_escape(path) : NULL;
	rp_regf_log_info li;
	rp_regf_describe_log(data, len, &li);
	if (!path || !li.present) {
		printf("  %s: %s\n", label, path ? "empty (0 bytes)" : "absent");
		free(epath);
		return;
	}
	printf("  %s %s: ", label, epath);
	if (!li.base_valid)
		printf("base block invalid (%s)", li.problem);
	else if (!strcmp(li.format, "new")) {
		printf("new format, base block valid (seq %u), ", li.seq1);
		if (li.entries)
			printf("%u entries (seq %u-%u)", li.entries, li.first_seq, li.last_seq);
		else
			printf("no valid entry");
		if (li.remnants)
			printf(", %u remnant entries (highest seq %u)", li.remnants,
			       li.remnant_max_seq);
	} else {
		printf("old format, base block valid (seq %u), ", li.seq1);
		if (li.problem[0])
			printf("unusable: %s", li.problem);
		else
			printf("%u dirty pages of 512 bytes", li.dirty_pages);
	}
	printf("\n");
	free(epath);
}

/* tmp + fsync + rename + fsync of the directory. */
static int write_durably(const char *out, const uint8_t *img, size_t len, rp_err *err)
{
	char *tmp = rp_xasprintf("%s.tmp", out);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = -1;
	if (fd < 0) {
		rp_fail(err, RP_EXIT_WRITE_FAILED, "cannot create %s: %s", tmp, strerror(errno));
		goto done;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, img + off, len - off);
		if (w <= 0) {
			rp_fail(err, RP_EXIT_WRITE_FAILED, "cannot write %s: %s", tmp,
				strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	if (off == len && fsync(fd) < 0)
		rp_fail(err, RP_EXIT_WRITE_FAILED, "cannot fsync %s: %s", tmp, strerror(errno));
	if (close(fd) < 0 && off == len)
		rp_fail(err, RP_EXIT_WRITE_FAILED, "cannot close %s: %s", tmp, strerror(errno));
	if (err->msg[0]) {
		unlink(tmp);
		goto done;
	}
	if (rename(tmp, out) < 0) {
		rp_fail(err, RP_EXIT_WRITE_FAILED, "cannot rename %s to %s: %s", tmp, out,
			strerror(errno));
		unlink(tmp);
		goto done;
	}
	char *d = rp_xstrdup(out);
	int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		rp_fail(err, RP_EXIT_WRITE_FAILED, "cannot fsync the directory of %s: %s", out,
			strerror(errno));
	else
		rc = 0;
	if (dfd >= 0)
		close(dfd);
	free(d);
done:
	free(tmp);
	return rc;
}

int cmd_hive(int argc, char **argv)
{
	const char *pos[3] = {NULL, NULL, NULL}, *out = NULL;
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--recover")) {
			if (++i >= argc || out)
				return cli_fail(RP_EXIT_USAGE, "--recover needs one OUT file; %s",
						HIVE_USAGE);
			out = argv[i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			char *e = rp_escape(argv[i]);
			int rc = cli_fail(RP_EXIT_USAGE, "unknown option %s; %s", e, HIVE_USAGE);
			free(e);
			return rc;
		} else if (npos < 3) {
			pos[npos++] = argv[i];
		} else {
			return cli_fail(RP_EXIT_USAGE, "too many files; %s", HIVE_USAGE);
		}
	}
	if (npos != 1 && npos != 3)
		return cli_fail(RP_EXIT_USAGE,
				"give the hive FILE, optionally with LOG1 and LOG2; %s",
				HIVE_USAGE);

	char *paths[4] = {rp_xstrdup(pos[0]), NULL, NULL, NULL}; /* FILE, LOG1, LOG2, LOG */
	if (npos == 3) {
		paths[1] = rp_xstrdup(pos[1]);
		paths[2] = rp_xstrdup(pos[2]);
	} else {
		paths[1] = find_log(pos[0], "LOG1");
		paths[2] = find_log(pos[0], "LOG2");
		paths[3] = find_log(pos[0], "LOG");
	}

	rp_err err = {0};
	uint8_t *data[4] = {NULL, NULL, NULL, NULL};
	size_t lens[4] = {0, 0, 0, 0};
	int rc = RP_EXIT_OK;
	for (int i = 0; i < 4; i++)
		if (paths[i] &&
		    rp_file_read(paths[i], &data[i], &lens[i], RP_EXIT_UNUSABLE, &err) < 0) {
			char *e = rp_escape(err.msg);
			rc = cli_fail(err.exit_code, "%s; check the path and permissions", e);
			free(e);
			goto out;
		}

	char *bcopy = rp_xstrdup(paths[0]), *ename = rp_escape(basename(bcopy));
	char *epath = rp_escape(paths[0]);
	printf("Hive %s\n", epath);
	print_base_block(data[0], lens[0]);
	print_log("LOG1", paths[1], data[1], lens[1]);
	print_log("LOG2", paths[2], data[2], lens[2]);
	if (npos == 1)
		print_log("LOG", paths[3], data[3], lens[3]);

	rp_regf_files files = {.primary = data[0],
			       .primary_len = lens[0],
			       .log1 = data[1],
			       .log1_len = lens[1],
			       .log2 = data[2],
			       .log2_len = lens[2],
			       .log = data[3],
			       .log_len = lens[3],
			       .name = ename};
	uint8_t *img = NULL;
	size_t len = 0;
	rp_regf_recovery info;
	if (rp_regf_recover(&files, &img, &len, &info, &err) < 0) {
		printf("Replay: refused\n");
		rc = cli_fail(err.exit_code, "%s", err.msg);
		goto out_names;
	}
	printf("Replay: %s\n", info.detail);
	printf("  highest sequence number seen %u: a clean write uses %u\n", info.max_seq,
	       info.max_seq + 1);
	if (rp_regf_check(img, len, &err) < 0) {
		printf("Check: failed\n");
		rc = cli_fail(err.exit_code, "%s: %s; restore it from a backup or RegBack", ename,
			      err.msg);
		goto out_img;
	}
	printf("Check: ok (structure of the %s hive)\n", info.was_dirty ? "replayed" : "clean");
	if (out) {
		char *eout = rp_escape(out);
		if (rp_regf_finalize(img, &len, info.max_seq + 1, &err) < 0 ||
		    rp_regf_check(img, len, &err) < 0 || write_durably(out, img, len, &err) < 0) {
			char *e = rp_escape(err.msg);
			rc = cli_fail(err.exit_code ? err.exit_code : RP_EXIT_WRITE_FAILED,
				      "writing %s: %s", eout, e);
			free(e);
		} else {
			printf("Wrote %s: seq %u/%u, 0x%zx bytes of hive bins, checksum ok\n", eout,
			       info.max_seq + 1, info.max_seq + 1, len - RP_REGF_BASE_BLOCK);
		}
		free(eout);
	}
out_img:
	free(img);
out_names:
	free(bcopy);
	free(ename);
	free(epath);
out:
	for (int i = 0; i < 4; i++) {
		free(paths[i]);
		free(data[i]);
	}
	return rc;
}
