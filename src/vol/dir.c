/*
 * dir.c — the mounted-directory backend: a Windows volume already mounted on the host (ntfs-3g,
 * ntfs3, a share).  Names are matched case-insensitively component by component (readdir when
 * the exact name does not exist); symlinks count as reparse points (lstat, never followed for
 * writes); files are replaced with tmp + fsync + rename + fsync(dir); security descriptors go
 * through the system.ntfs_acl extended attribute that ntfs-3g mounts provide.
 */
#include "vol/backend.h"
#include "util/fault.h"
#include "util/file.h"
#include "util/text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define NTFS_ACL_XATTR "system.ntfs_acl"
#define MAX_READ_BYTES ((uint64_t)4 << 30)

/* FILE_ATTRIBUTE_* bits the dir backend can tell from a struct stat. */
#define ATTR_READONLY 0x1u
#define ATTR_DIRECTORY 0x10u
#define ATTR_NORMAL 0x80u
#define ATTR_REPARSE 0x400u

struct dir_priv {
	char *root;
};

static const char *root_of(rp_vol *vol)
{
	return ((struct dir_priv *)vol->priv)->root;
}

static int faulted(const char *point)
{
	if (rp_fault(point)) {
		errno = EIO;
		return 1;
	}
	return 0;
}

static int fail_errno(rp_vol *vol, int code, const char *what, const char *path, rp_err *err)
{
	int e = errno ? errno : EIO;
	char *shown = rp_escape(*path ? path : "/");
	rp_fail(err, code, "%s %s in %s: %s", what, shown, vol->where, strerror(e));
	free(shown);
	errno = e;
	return -1;
}

/* The name in directory host_dir matching name case-insensitively (malloc'd), or NULL. */
static char *match_name(const char *host_dir, const char *name)
{
	DIR *d = opendir(host_dir);
	if (!d)
		return NULL;
	char *found = NULL;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (rp_strcasecmp(de->d_name, name) == 0) {
			found = rp_xstrdup(de->d_name);
			break;
		}
	}
	closedir(d);
	return found;
}

/* Host path of a volume path: each component exactly if it exists, else its case-insensitive
 * match; a missing component is kept as given (*exists = 0).  malloc'd. */
static char *host_path(rp_vol *vol, const char *path, int *exists)
{
	char *out = rp_xstrdup(root_of(vol));
	char *copy = rp_xstrdup(path);
	*exists = 1;
	for (char *save = NULL, *comp = strtok_r(copy, "/", &save); comp;
	     comp = strtok_r(NULL, "/", &save)) {
		char *next = rp_xasprintf("%s/%s", out, comp);
		struct stat st;
		if (*exists && lstat(next, &st) < 0) {
			char *real = match_name(out, comp);
			if (real) {
				free(next);
				next = rp_xasprintf("%s/%s", out, real);
				free(real);
			} else {
				*exists = 0;
			}
		}
		free(out);
		out = next;
	}
	free(copy);
	return out;
}

static void fill_stat(const struct stat *hs, rp_stat *st)
{
	memset(st, 0, sizeof *st);
	st->exists = 1;
	st->is_dir = S_ISDIR(hs->st_mode);
	st->is_reparse = S_ISLNK(hs->st_mode);
	st->size = S_ISREG(hs->st_mode) ? (uint64_t)hs->st_size : 0;
	st->attributes = st->is_dir ? ATTR_DIRECTORY : ATTR_NORMAL;
	if (st->is_reparse)
		st->attributes |= ATTR_REPARSE;
	if (!(hs->st_mode & S_IWUSR))
		st->attributes |= ATTR_READONLY;
}

static int dr_stat(rp_vol *vol, const char *path, rp_stat *st, rp_err *err)
{
	memset(st, 0, sizeof *st);
	int exists;
	char *hp = host_path(vol, path, &exists);
	struct stat hs;
	int rc = 0;
	if (exists && lstat(hp, &hs) == 0)
		fill_stat(&hs, st);
	else if (exists && errno != ENOENT && errno != ENOTDIR)
		rc = fail_errno(vol, RP_EXIT_UNUSABLE, "looking up", path, err);
	free(hp);
	return rc;
}

/* Host path of an existing volume path, or NULL with err. */
static char *existing(rp_vol *vol, const char *what, const char *path, rp_err *err)
{
	int exists;
	char *hp = host_path(vol, path, &exists);
	if (!exists) {
		free(hp);
		errno = ENOENT;
		fail_errno(vol, RP_EXIT_UNUSABLE, what, path, err);
		return NULL;
	}
	return hp;
}

static int read_fd(int fd, uint8_t **data, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	if ((uint64_t)st.st_size > MAX_READ_BYTES) {
		errno = EFBIG;
		return -1;
	}
	size_t size = (size_t)st.st_size;
	uint8_t *buf = rp_xmalloc(size ? size : 1);
	if (rp_pread_all(fd, buf, size, 0) < 0) { /* EIO: it shrank while being read */
		free(buf);
		return -1;
	}
	*data = buf;
	*len = size;
	return 0;
}

static int dr_read(rp_vol *vol, const char *path, uint8_t **data, size_t *len, rp_err *err)
{
	char *hp = existing(vol, "reading", path, err);
	if (!hp)
		return -1;
	int fd = open(hp, O_RDONLY | O_CLOEXEC);
	int rc = 0;
	if (fd < 0 || read_fd(fd, data, len) < 0)
		rc = fail_errno(vol, RP_EXIT_UNUSABLE, "reading", path, err);
	if (fd >= 0)
		close(fd);
	free(hp);
	return rc;
}

static int dr_read_range(rp_vol *vol, const char *path, uint64_t off, uint8_t *buf, size_t len,
			 rp_err *err)
{
	char *hp = existing(vol, "reading", path, err);
	if (!hp)
		return -1;
	int fd = open(hp, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int rc = 0;
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -1;
	} else if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		rc = -1;
	} else if (off > (uint64_t)st.st_size || len > (uint64_t)st.st_size - off) {
		errno = EIO; /* shorter than the caller saw it */
		rc = -1;
	} else {
		rc = rp_pread_all(fd, buf, len, off);
	}
	if (rc < 0)
		fail_errno(vol, RP_EXIT_UNUSABLE, "reading", path, err);
	if (fd >= 0)
		close(fd);
	free(hp);
	return rc;
}

static int dr_list(rp_vol *vol, const char *dir, rp_vol_list_cb cb, void *ctx, rp_err *err)
{
	char *hp = existing(vol, "listing", dir, err);
	if (!hp)
		return -1;
	DIR *d = opendir(hp);
	if (!d) {
		free(hp);
		return fail_errno(vol, RP_EXIT_UNUSABLE, "listing", dir, err);
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat hs;
		rp_stat st;
		if (fstatat(dirfd(d), de->d_name, &hs, AT_SYMLINK_NOFOLLOW) < 0) {
			char *child = rp_xasprintf("%s/%s", dir, de->d_name);
			rc = fail_errno(vol, RP_EXIT_UNUSABLE, "looking up", child, err);
			free(child);
			break;
		}
		fill_stat(&hs, &st);
		if (cb(ctx, de->d_name, &st))
			break;
	}
	closedir(d);
	free(hp);
	return rc;
}

static const char *no_acl_msg = "security descriptors need the ntfs backend (give the disk, not "
				"a mount point) or an ntfs-3g mount";

static int get_sd_host(const char *hp, uint8_t **sd, size_t *len)
{
	ssize_t need = getxattr(hp, NTFS_ACL_XATTR, NULL, 0);
	if (need <= 0) {
		if (need == 0)
			errno = ENODATA;
		return -1;
	}
	uint8_t *buf = rp_xmalloc((size_t)need);
	ssize_t got = getxattr(hp, NTFS_ACL_XATTR, buf, (size_t)need);
	if (got != need) {
		free(buf);
		if (got >= 0)
			errno = EAGAIN; /* changed between the two calls */
		return -1;
	}
	*sd = buf;
	*len = (size_t)need;
	return 0;
}

static int no_acl_support(void)
{
	return errno == ENODATA || errno == ENOTSUP || errno == EOPNOTSUPP;
}

static int dr_get_sd(rp_vol *vol, const char *path, uint8_t **sd, size_t *len, rp_err *err)
{
	char *hp = existing(vol, "reading the security descriptor of", path, err);
	if (!hp)
		return -1;
	int rc = 0;
	if (get_sd_host(hp, sd, len) < 0) {
		if (no_acl_support()) {
			char *shown = rp_escape(path);
			rc = rp_fail(err, RP_EXIT_PROBLEMS,
				     "reading the security descriptor of %s "
				     "in %s: %s",
				     shown, vol->where, no_acl_msg);
			free(shown);
		} else {
			rc = fail_errno(vol, RP_EXIT_UNUSABLE, "reading the security descriptor of",
					path, err);
		}
	}
	free(hp);
	return rc;
}

static int set_sd_host(rp_vol *vol, const char *hp, const char *path, const uint8_t *sd, size_t len,
		       rp_err *err)
{
	if (!faulted("vol:set_sd") && lsetxattr(hp, NTFS_ACL_XATTR, sd, len, 0) == 0)
		return 0;
	if (no_acl_support()) {
		char *shown = rp_escape(path);
		rp_fail(err, RP_EXIT_PROBLEMS, "setting the security descriptor of %s in %s: %s",
			shown, vol->where, no_acl_msg);
		free(shown);
		return -1;
	}
	return fail_errno(vol, errno == EINVAL ? RP_EXIT_PROBLEMS : RP_EXIT_WRITE_FAILED,
			  "setting the security descriptor of", path, err);
}

static int dr_set_sd(rp_vol *vol, const char *path, const uint8_t *sd, size_t len, rp_err *err)
{
	char *hp = existing(vol, "setting the security descriptor of", path, err);
	if (!hp)
		return -1;
	int rc = set_sd_host(vol, hp, path, sd, len, err);
	free(hp);
	return rc;
}

static int dr_mkdir(rp_vol *vol, const char *path, rp_err *err)
{
	int exists;
	char *hp = host_path(vol, path, &exists);
	int rc = 0;
	if (faulted("vol:mkdir") || mkdir(hp, 0755) < 0)
		rc = fail_errno(vol, RP_EXIT_WRITE_FAILED, "creating directory", path, err);
	free(hp);
	return rc;
}

static int sync_dir(const char *host_dir)
{
	int fd = open(host_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = faulted("vol:sync") ? -1 : fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* Writes, syncs and re-reads tmp; 0 when it holds exactly data. */
static int write_tmp(const char *tmp, const uint8_t *data, size_t len, mode_t mode)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	for (size_t done = 0; done < len;) {
		ssize_t w = faulted("vol:write") ? -1 : write(fd, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w == 0 ? EIO : errno;
			close(fd);
			errno = e;
			return -1;
		}
		done += (size_t)w;
	}
	if (faulted("vol:sync") || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (close(fd) < 0)
		return -1;
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	uint8_t *back = NULL;
	size_t back_len = 0;
	int rc = read_fd(fd, &back, &back_len);
	close(fd);
	if (rc == 0 && (back_len != len || memcmp(back, data, len) != 0)) {
		errno = EIO;
		rc = -1;
	}
	free(back);
	return rc;
}

/* Cleans up after a write_file that was interrupted before it removed its temporary names (see
 * clear_leftovers in ntfs.c for the rules).  This backend renames, so it leaves at most a
 * "<name>.rdprescue-tmp", but a volume last written through the ntfs backend may also hold a
 * "<name>.rdprescue-old": the original, which gets its name back when the name is missing. */
static int clear_leftovers(rp_vol *vol, const char *path, rp_err *err)
{
	static const char *const suffixes[] = {RP_VOL_TMP_SUFFIX, RP_VOL_OLD_SUFFIX};
	for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
		char *name = rp_xasprintf("%s%s", path, suffixes[i]);
		int exists, has_main;
		char *hp = host_path(vol, name, &exists);
		char *main_hp = host_path(vol, path, &has_main);
		struct stat st;
		int rc = 0;
		if (!exists || lstat(hp, &st) < 0) {
			if (exists && errno != ENOENT)
				rc = fail_errno(vol, RP_EXIT_UNUSABLE, "looking up", name, err);
		} else if (!S_ISREG(st.st_mode)) {
			char *shown = rp_escape(name);
			rc =
			    rp_fail(err, RP_EXIT_PROBLEMS,
				    "writing next to %s in %s: it is in the way and is not a file: "
				    "move it away first",
				    shown, vol->where);
			free(shown);
		} else if (i == 1 && (!has_main || lstat(main_hp, &st) < 0)) {
			/* The real-case name the original had. */
			free(main_hp);
			main_hp = rp_xasprintf("%.*s", (int)(strlen(hp) - strlen(suffixes[i])), hp);
			if (faulted("vol:rename") || rename(hp, main_hp) < 0)
				rc = fail_errno(vol, RP_EXIT_WRITE_FAILED,
						"restoring the original from", name, err);
		} else if (faulted("vol:unlink") || unlink(hp) < 0) {
			rc = fail_errno(vol, RP_EXIT_WRITE_FAILED,
					"removing what an interrupted run left:", name, err);
		}
		free(main_hp);
		free(hp);
		free(name);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int dr_write_file(rp_vol *vol, const char *path, const uint8_t *data, size_t len,
			 const uint8_t *sd, size_t sd_len, rp_err *err)
{
	if (clear_leftovers(vol, path, err) < 0)
		return -1;
	int exists;
	char *hp = host_path(vol, path, &exists);
	char *tmp = rp_xasprintf("%s%s", hp, RP_VOL_TMP_SUFFIX);
	char *parent = rp_xstrdup(hp);
	*strrchr(parent, '/') = 0;
	int rc = -1;
	struct stat old;
	struct stat tst;
	mode_t mode = 0644;
	uint8_t *old_sd = NULL;
	size_t old_sd_len = 0;
	if (exists && lstat(hp, &old) == 0) {
		mode = old.st_mode & 07777;
		/* Keep the SD when the mount exposes it; plain directories have none. */
		if (!sd && get_sd_host(hp, &old_sd, &old_sd_len) < 0 && !no_acl_support()) {
			fail_errno(vol, RP_EXIT_UNUSABLE, "reading the security descriptor of",
				   path, err);
			goto out;
		}
	}
	if (lstat(tmp, &tst) == 0) {
		char *shown = rp_escape(path);
		rp_fail(err, RP_EXIT_PROBLEMS,
			"writing %s in %s: %s%s appeared while writing: is another program "
			"working on this volume?",
			shown, vol->where, shown, RP_VOL_TMP_SUFFIX);
		free(shown);
		goto out;
	}
	if (write_tmp(tmp, data, len, mode) < 0) {
		fail_errno(vol, RP_EXIT_WRITE_FAILED, "writing a temporary copy of", path, err);
		unlink(tmp);
		goto out;
	}
	const uint8_t *want_sd = sd ? sd : old_sd;
	size_t want_len = sd ? sd_len : old_sd_len;
	if (want_sd && set_sd_host(vol, tmp, path, want_sd, want_len, err) < 0) {
		if (err)
			err->exit_code = RP_EXIT_WRITE_FAILED;
		unlink(tmp);
		goto out;
	}
	if (faulted("vol:rename") || rename(tmp, hp) < 0) {
		fail_errno(vol, RP_EXIT_WRITE_FAILED, "renaming the new copy of", path, err);
		unlink(tmp);
		goto out;
	}
	if (sync_dir(parent) < 0) {
		fail_errno(vol, RP_EXIT_WRITE_FAILED, "syncing the directory of", path, err);
		goto out;
	}
	rc = 0;
out:
	free(old_sd);
	free(parent);
	free(tmp);
	free(hp);
	return rc;
}

static int dr_remove(rp_vol *vol, const char *path, rp_err *err)
{
	char *hp = existing(vol, "removing", path, err);
	if (!hp)
		return -1;
	int rc = 0;
	if (faulted("vol:unlink") || unlink(hp) < 0)
		rc = fail_errno(vol, RP_EXIT_WRITE_FAILED, "removing", path, err);
	free(hp);
	return rc;
}

static int dr_sync(rp_vol *vol, rp_err *err)
{
	int fd = open(root_of(vol), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;
	if (fd < 0 || faulted("vol:sync") || syncfs(fd) < 0)
		rc = fail_errno(vol, RP_EXIT_WRITE_FAILED, "syncing", "/", err);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int dr_free_space(rp_vol *vol, uint64_t *bytes, rp_err *err)
{
	struct statvfs fs;
	if (statvfs(root_of(vol), &fs) < 0)
		return fail_errno(vol, RP_EXIT_UNUSABLE, "counting the free space of", "/", err);
	*bytes = (uint64_t)fs.f_bavail * fs.f_frsize;
	return 0;
}

static int dr_close(rp_vol *vol, rp_err *err)
{
	int rc = 0;
	if (vol->writable && !vol->write_failed)
		rc = dr_sync(vol, err);
	struct dir_priv *p = vol->priv;
	free(p->root);
	free(p);
	return rc;
}

const struct rp_vol_ops rp_vol_dir_ops = {
    .name = "dir",
    .stat = dr_stat,
    .read = dr_read,
    .read_range = dr_read_range,
    .list = dr_list,
    .get_sd = dr_get_sd,
    .set_sd = dr_set_sd,
    .mkdir = dr_mkdir,
    .write_file = dr_write_file,
    .remove = dr_remove,
    .sync = dr_sync,
    .free_space = dr_free_space,
    .close = dr_close,
};

int rp_vol_open_dir(rp_vol **out, const char *dir, int writable, rp_err *err)
{
	*out = NULL;
	struct stat st;
	if (stat(dir, &st) < 0)
		return rp_fail(err, RP_EXIT_UNUSABLE, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return rp_fail(err, RP_EXIT_USAGE, "%s is not a directory", dir);
	rp_vol_state state = {0};
	state.read_only = access(dir, W_OK) != 0;
	if (writable && state.read_only)
		return rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "%s is not writable by this user: mount it read-write or run as root", dir);
	struct dir_priv *p = rp_xcalloc(1, sizeof *p);
	p->root = rp_xstrdup(dir);
	size_t n = strlen(p->root);
	while (n > 1 && p->root[n - 1] == '/')
		p->root[--n] = 0;
	rp_vol *vol = rp_vol_new(&rp_vol_dir_ops, dir, writable);
	vol->priv = p;

	/* A hibernated Windows: hiberfil.sys starts with "hibr"/"HIBR" (as libntfs-3g checks). */
	int exists;
	char *hib = host_path(vol, "hiberfil.sys", &exists);
	int fd = exists ? open(hib, O_RDONLY | O_CLOEXEC) : -1;
	char magic[4];
	if (fd >= 0 && read(fd, magic, 4) == 4 && strncasecmp(magic, "hibr", 4) == 0)
		vol->state.hibernated = 1;
	if (fd >= 0)
		close(fd);
	free(hib);
	vol->state.read_only = state.read_only;
	if (writable && vol->state.hibernated) {
		const char *why = rp_vol_state_refusal(&vol->state);
		rp_fail(err, RP_EXIT_UNUSABLE, "cannot write to the Windows volume in %s: %s", dir,
			why);
		vol->writable = 0;
		rp_vol_close(vol, NULL);
		return -1;
	}
	struct statvfs fs;
	if (statvfs(dir, &fs) == 0)
		vol->size = (uint64_t)fs.f_blocks * fs.f_frsize;
	*out = vol;
	return 0;
}
