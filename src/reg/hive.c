/*
 * hive.c — opening a hive image with libhivex and reading keys and values.
 *
 * hivex wants a file name, so the image lives in a memfd (or, without memfd, a temp file that
 * is unlinked as soon as it exists) and hivex opens "/proc/self/fd/N".  Nothing is written to
 * disk.  hivex's read-only open maps the memfd's pages: the hive's one copy.  (A clean image is
 * read by the lazy backend instead, hive_lazy.c: install.c and edit.c try that first.)  Every hivex
 * call that can fail is checked: hivex returns 0 with errno set on an error and 0 with errno 0 for
 * "not found", so errno is cleared before each lookup.
 */
#include "reg/reg_internal.h"

#include "util/bytes.h"
#include "util/file.h"
#include "util/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int reg_memfile_create(reg_memfile *mf, const char *what, const uint8_t *data, size_t len,
		       rp_err *err)
{
	mf->fd = memfd_create("rdprescue-hive", MFD_CLOEXEC);
	mf->in_tmpdir = mf->fd < 0;
	if (mf->fd < 0) {
		const char *dir = getenv("TMPDIR");
		char tmpl[4096];
		snprintf(tmpl, sizeof tmpl, "%s/rdprescue-hive-XXXXXX", dir && *dir ? dir : "/tmp");
		mf->fd = mkstemp(tmpl);
		if (mf->fd < 0)
			return rp_fail(
			    err, RP_EXIT_UNUSABLE,
			    "cannot create a scratch file for the hive (memfd: unavailable, "
			    "%s: %s); set TMPDIR to a writable directory",
			    tmpl, strerror(errno));
		/* Unlinked at once: the file lives only as long as the descriptor. */
		unlink(tmpl);
	}
	snprintf(mf->path, sizeof mf->path, "/proc/self/fd/%d", mf->fd);
	if (data && rp_write_all(mf->fd, data, len) < 0) {
		reg_memfile_failed(mf, what ? what : "the hive", errno, err);
		reg_memfile_close(mf);
		return -1;
	}
	return 0;
}

int reg_memfile_read(reg_memfile *mf, uint8_t **data, size_t *len, rp_err *err)
{
	struct stat st;
	if (fstat(mf->fd, &st) < 0)
		return rp_fail(err, RP_EXIT_UNUSABLE, "cannot read back the written hive: %s",
			       strerror(errno));
	size_t size = (size_t)st.st_size;
	uint8_t *buf = rp_xmalloc(size ? size : 1);
	if (rp_pread_all(mf->fd, buf, size, 0) < 0) {
		int e = errno;
		free(buf);
		return rp_fail(err, RP_EXIT_UNUSABLE, "cannot read back the written hive: %s",
			       strerror(e));
	}
	*data = buf;
	*len = size;
	return 0;
}

int reg_memfile_failed(const reg_memfile *mf, const char *path, int e, rp_err *err)
{
	return rp_fail(err, RP_EXIT_UNUSABLE, "cannot hold %s in a scratch file (%s): %s; %s", path,
		       mf->in_tmpdir ? "in TMPDIR" : "in memory", strerror(e),
		       mf->in_tmpdir ? "free space there or set TMPDIR to another directory"
				     : "free memory or raise the file-size limit (ulimit -f)");
}

void reg_memfile_close(reg_memfile *mf)
{
	if (mf->fd >= 0)
		close(mf->fd);
	mf->fd = -1;
}

/* hivex_open failed with errno e: the message, with what to do. */
static int hivex_open_failed(const char *what, int e, rp_err *err)
{
	char *shown = rp_escape(what);
	rp_fail(err, RP_EXIT_UNUSABLE,
		"hive %s: hivex cannot open it (%s); the hive is damaged or not a registry hive",
		shown, e ? strerror(e) : "unknown error");
	free(shown);
	return -1;
}

hive_h *reg_hivex_open(const char *what, const uint8_t *data, size_t len, int flags, rp_err *err)
{
	reg_memfile mf;
	if (reg_memfile_create(&mf, what, data, len, err) < 0)
		return NULL;
	errno = 0;
	hive_h *hx = hivex_open(mf.path, flags);
	int e = errno;
	/* hivex has read or mapped the file through its own descriptor by now. */
	reg_memfile_close(&mf);
	if (!hx)
		hivex_open_failed(what, e, err);
	return hx;
}

char *reg_display(const char *hive, const char *key)
{
	const char *p = key, *start;
	size_t n;
	char *joined = rp_xstrdup(hive);
	while ((n = reg_next_component(&p, &start)) != 0) {
		char *next = rp_xasprintf("%s\\%.*s", joined, (int)n, start);
		free(joined);
		joined = next;
	}
	char *shown = rp_escape(joined);
	free(joined);
	return shown;
}

size_t reg_next_component(const char **p, const char **start)
{
	const char *s = *p;
	while (*s == '\\')
		s++;
	*start = s;
	while (*s && *s != '\\')
		s++;
	*p = s;
	return (size_t)(s - *start);
}

static int ascii_fold(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

static int component_equal(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return 0;
	for (size_t i = 0; i < an; i++)
		if (ascii_fold((unsigned char)a[i]) != ascii_fold((unsigned char)b[i]))
			return 0;
	return 1;
}

/* Compares components; returns 1 when every component of prefix matches key's first ones and
 * sets *key_longer when key has more. */
static int path_prefix(const char *key, const char *prefix, int *key_longer)
{
	const char *k = key, *q = prefix, *ks, *qs;
	for (;;) {
		size_t qn = reg_next_component(&q, &qs);
		size_t kn = reg_next_component(&k, &ks);
		if (qn == 0) {
			*key_longer = kn != 0;
			return 1;
		}
		if (!component_equal(ks, kn, qs, qn))
			return 0;
	}
}

int reg_path_equal(const char *a, const char *b)
{
	int longer;
	return path_prefix(a, b, &longer) && !longer;
}

int reg_path_within(const char *key, const char *ancestor)
{
	int longer;
	return path_prefix(key, ancestor, &longer);
}

const char *reg_damaged(int e)
{
	return e == EIO ? "the volume could not be read" : "the hive is damaged";
}

/* The first of items (0-terminated; freed) whose name equals name, compared as hivex's
 * hivex_node_get_child / hivex_node_get_value compare (decoded, then strcasecmp). */
static size_t first_named(rp_hive *h, size_t *items, char *(*name_of)(rp_hive *, size_t),
			  const char *name)
{
	size_t found = 0;
	for (size_t i = 0; items && items[i] && !found; i++) {
		char *n = name_of(h, items[i]);
		if (!n)
			break;
		if (strcasecmp(n, name) == 0)
			found = items[i];
		free(n);
	}
	free(items);
	return found;
}

hive_node_h reg_get_child(rp_hive *h, hive_node_h node, const char *name)
{
	if (h->ops->get_child)
		return h->ops->get_child(h, node, name);
	return first_named(h, h->ops->children(h, node), h->ops->node_name, name);
}

hive_value_h reg_get_value(rp_hive *h, hive_node_h node, const char *name)
{
	if (h->ops->get_value)
		return h->ops->get_value(h, node, name);
	return first_named(h, h->ops->values(h, node), h->ops->value_key, name);
}

int reg_lookup(rp_hive *h, const char *key, hive_node_h *node, rp_err *err)
{
	errno = 0;
	hive_node_h cur = h->ops->root(h);
	if (!cur) {
		char *shown = rp_escape(h->name);
		rp_fail(err, RP_EXIT_UNUSABLE, "hive %s: no root key (%s); %s", shown,
			strerror(errno), reg_damaged(errno));
		free(shown);
		return -1;
	}
	const char *p = key, *start;
	size_t n;
	while ((n = reg_next_component(&p, &start)) != 0) {
		char *name = rp_xasprintf("%.*s", (int)n, start);
		errno = 0;
		hive_node_h child = reg_get_child(h, cur, name);
		int e = errno;
		free(name);
		if (!child && e) {
			char *upto = rp_xasprintf("%.*s", (int)(p - key), key);
			char *shown = reg_display(h->name, upto);
			rp_fail(err, RP_EXIT_UNUSABLE, "%s: cannot read the key (%s); %s", shown,
				strerror(e), reg_damaged(e));
			free(shown);
			free(upto);
			return -1;
		}
		if (!child)
			return 0;
		cur = child;
	}
	*node = cur;
	return 1;
}

int reg_lookup_hivex(hive_h *hx, const char *hive, const char *key, hive_node_h *node, rp_err *err)
{
	rp_hive h = {.name = (char *)hive, .ops = &reg_hivex_backend, .hx = hx, .fd = -1};
	return reg_lookup(&h, key, node, err);
}

/* Fails with the hive and key in the message, for a hivex error on key. */
static int key_error(rp_hive *h, const char *key, const char *what, int e, rp_err *err)
{
	char *shown = reg_display(h->name, key);
	rp_fail(err, RP_EXIT_UNUSABLE, "%s: cannot %s (%s); %s", shown, what,
		e ? strerror(e) : "unknown error", reg_damaged(e));
	free(shown);
	return -1;
}

/* Moves a malloc'd image into the scratch file from its end backwards, giving back to the
 * allocator what is already copied (realloc shrinks in place), so that the hive is never held
 * twice; image is freed.  what names the hive when the scratch file cannot hold it. */
static int move_to_memfile(reg_memfile *mf, const char *what, uint8_t *image, size_t len,
			   rp_err *err)
{
	if (reg_memfile_create(mf, NULL, NULL, 0, err) < 0) {
		free(image);
		return -1;
	}
	const size_t chunk = (size_t)4 << 20;
	size_t left = len;
	int e = ftruncate(mf->fd, (off_t)len) < 0 ? errno : 0;
	while (!e && left) {
		size_t n = left > chunk ? chunk : left, at = left - n;
		if (rp_pwrite_all(mf->fd, image + at, n, at) < 0) {
			e = errno;
			break;
		}
		left = at;
		if (left)
			image = rp_xrealloc(image, left);
	}
	free(image);
	if (e) {
		reg_memfile_failed(mf, what, e, err);
		reg_memfile_close(mf);
		return -1;
	}
	return 0;
}

/* ---- the hivex backend ---- */

static hive_node_h hx_root(rp_hive *h)
{
	return hivex_root(h->hx);
}

static hive_node_h *hx_children(rp_hive *h, hive_node_h node)
{
	return hivex_node_children(h->hx, node);
}

static char *hx_node_name(rp_hive *h, hive_node_h node)
{
	return hivex_node_name(h->hx, node);
}

static int64_t hx_node_timestamp(rp_hive *h, hive_node_h node)
{
	return hivex_node_timestamp(h->hx, node);
}

static size_t hx_node_nr_values(rp_hive *h, hive_node_h node)
{
	return hivex_node_nr_values(h->hx, node);
}

static hive_value_h *hx_values(rp_hive *h, hive_node_h node)
{
	return hivex_node_values(h->hx, node);
}

static char *hx_value_key(rp_hive *h, hive_value_h value)
{
	return hivex_value_key(h->hx, value);
}

static char *hx_value_value(rp_hive *h, hive_value_h value, hive_type *type, size_t *len)
{
	return hivex_value_value(h->hx, value, type, len);
}

static int hx_read(rp_hive *h, uint64_t off, void *buf, size_t len)
{
	if (off > h->len || len > h->len - off) {
		errno = EFAULT;
		return -1;
	}
	memcpy(buf, h->image + off, len);
	return 0;
}

static int hx_copy(rp_hive *h, uint8_t *buf, rp_err *err)
{
	/* From the in-memory file, not through the mapping: the hive's pages are not made
	 * resident a second time. */
	if (rp_pread_all(h->fd, buf, h->len, 0) < 0)
		return rp_fail(err, RP_EXIT_UNUSABLE, "hive %s: cannot copy the hive: %s", h->name,
			       strerror(errno));
	return 0;
}

const reg_backend reg_hivex_backend = {
    .root = hx_root,
    .children = hx_children,
    .node_name = hx_node_name,
    .node_timestamp = hx_node_timestamp,
    .node_nr_values = hx_node_nr_values,
    .values = hx_values,
    .value_key = hx_value_key,
    .value_value = hx_value_value,
    .read = hx_read,
    .copy = hx_copy,
};

int reg_hive_open_memfile(rp_hive **out, const char *name, reg_memfile *mf, size_t len, rp_err *err)
{
	/* hivex maps the file read-only (shared): the hive's one copy.  Our own mapping of the
	 * same pages is for the few places that read single cells (rp_hive_image, security
	 * cells); only the pages they touch become resident through it. */
	errno = 0;
	hive_h *hx = hivex_open(mf->path, 0);
	int e = errno;
	if (!hx) {
		reg_memfile_close(mf);
		return hivex_open_failed(name, e, err);
	}
	void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, mf->fd, 0);
	if (map == MAP_FAILED) {
		e = errno;
		hivex_close(hx);
		reg_memfile_close(mf);
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "hive %s: cannot map the hive (%zu bytes): %s", name, len,
			       strerror(e));
	}
	rp_hive *h = rp_xcalloc(1, sizeof *h);
	h->name = rp_xstrdup(name);
	h->ops = &reg_hivex_backend;
	h->image = map;
	h->len = len;
	h->fd = mf->fd;
	h->hx = hx;
	*out = h;
	return 0;
}

int reg_hive_open_owned(rp_hive **out, const char *name, const char *what, uint8_t *image,
			size_t len, rp_err *err)
{
	reg_memfile mf;
	*out = NULL;
	if (move_to_memfile(&mf, what, image, len, err) < 0)
		return -1;
	return reg_hive_open_memfile(out, name, &mf, len, err);
}

int rp_hive_open(rp_hive **out, const char *name, const uint8_t *image, size_t len, rp_err *err)
{
	reg_memfile mf;
	*out = NULL;
	if (reg_memfile_create(&mf, name, image, len, err) < 0)
		return -1;
	return reg_hive_open_memfile(out, name, &mf, len, err);
}

int reg_hive_read_image(const rp_hive *h, uint8_t **image, rp_err *err)
{
	uint8_t *buf = rp_xmalloc(h->len ? h->len : 1);
	if (h->ops->copy((rp_hive *)h, buf, err) < 0) {
		free(buf);
		return -1;
	}
	*image = buf;
	return 0;
}

void rp_hive_close(rp_hive *h)
{
	if (!h)
		return;
	if (h->hx)
		hivex_close(h->hx);
	if (h->image)
		munmap((void *)h->image, h->len);
	if (h->fd >= 0)
		close(h->fd);
	rp_regf_reader_close(h->reader);
	if (h->mem_owned)
		free(h->mem);
	free(h->src.path);
	free(h->name);
	free(h);
}

const uint8_t *rp_hive_image(const rp_hive *h, size_t *len)
{
	*len = h->len;
	return h->image ? h->image : h->mem;
}

const uint8_t *rp_hive_base_block(const rp_hive *h)
{
	if (h->reader)
		return rp_regf_reader_base_block(h->reader);
	return h->len >= RP_REGF_BASE_BLOCK ? h->image : NULL;
}

int rp_hive_key_exists(rp_hive *h, const char *key, rp_err *err)
{
	hive_node_h node;
	return reg_lookup(h, key, &node, err);
}

int rp_hive_key_time(rp_hive *h, const char *key, int64_t *filetime, rp_err *err)
{
	hive_node_h node;
	int found = reg_lookup(h, key, &node, err);
	if (found <= 0)
		return found;
	errno = 0;
	int64_t t = h->ops->node_timestamp(h, node);
	if (t < 0)
		return key_error(h, key, "read its last-write time", errno ? errno : EINVAL, err);
	*filetime = t;
	return 1;
}

/* Key node (nk): the security cell's offset at 0x2C of the record; security record (sk): "sk",
 * the descriptor's length at 0x10 and the descriptor at 0x14.  hivex's node handle is the file
 * offset of the nk cell (its 4-byte size first); cell offsets count from the first hive bin. */
int rp_hive_key_sd(rp_hive *h, const char *key, uint8_t **sd, size_t *len, rp_err *err)
{
	hive_node_h node;
	*sd = NULL;
	*len = 0;
	int found = reg_lookup(h, key, &node, err);
	if (found <= 0)
		return found;
	uint8_t nk[0x30], head[4 + 0x14];
	if (h->ops->read(h, (uint64_t)node + 4, nk, sizeof nk) < 0 || memcmp(nk, "nk", 2) != 0)
		return key_error(h, key, "locate the key node", 0, err);
	uint64_t cell = (uint64_t)rp_le32(nk + 0x2C) + 0x1000;
	if (h->ops->read(h, cell, head, sizeof head) < 0)
		return key_error(h, key, "find its security cell", 0, err);
	int32_t size = (int32_t)rp_le32(head);
	uint64_t room = size < 0 ? (uint64_t)(-(int64_t)size) : (uint64_t)size;
	const uint8_t *sk = head + 4;
	uint32_t sdlen = rp_le32(sk + 0x10);
	if (memcmp(sk, "sk", 2) != 0 || room > h->len - cell || room < 4 + 0x14 ||
	    sdlen > room - 4 - 0x14)
		return key_error(h, key, "read its security cell", 0, err);
	*sd = rp_xmalloc(sdlen ? sdlen : 1);
	if (h->ops->read(h, cell + 4 + 0x14, *sd, sdlen) < 0) {
		free(*sd);
		*sd = NULL;
		return key_error(h, key, "read its security cell", errno, err);
	}
	*len = sdlen;
	return 1;
}

int rp_hive_get(rp_hive *h, const char *key, const char *value, rp_value *out, rp_err *err)
{
	hive_node_h node;
	int found = reg_lookup(h, key, &node, err);
	if (found <= 0)
		return found;
	errno = 0;
	hive_value_h v = reg_get_value(h, node, value);
	if (!v)
		return errno ? key_error(h, key, "read its value list", errno, err) : 0;
	hive_type type;
	size_t len = 0;
	errno = 0;
	char *data = h->ops->value_value(h, v, &type, &len);
	if (!data && (errno || len)) {
		char *what = rp_xasprintf("read the value \"%s\"", value);
		char *shown = rp_escape(what);
		key_error(h, key, shown, errno, err);
		free(shown);
		free(what);
		return -1;
	}
	out->type = (uint32_t)type;
	out->len = len;
	out->data = rp_xmalloc(len);
	if (len)
		memcpy(out->data, data, len);
	free(data);
	return 1;
}

static int list_names(rp_hive *h, const char *key, int subkeys, char ***names, size_t *n,
		      rp_err *err)
{
	*names = NULL;
	*n = 0;
	hive_node_h node;
	if (reg_lookup_existing(h, key, &node, err) < 0)
		return -1;
	errno = 0;
	size_t *handles = subkeys ? h->ops->children(h, node) : h->ops->values(h, node);
	if (!handles)
		return key_error(h, key, subkeys ? "list its subkeys" : "list its values", errno,
				 err);
	size_t count = 0;
	while (handles[count])
		count++;
	char **out = rp_xcalloc(count + 1, sizeof *out);
	for (size_t i = 0; i < count; i++) {
		errno = 0;
		out[i] =
		    subkeys ? h->ops->node_name(h, handles[i]) : h->ops->value_key(h, handles[i]);
		if (!out[i]) {
			int e = errno;
			rp_names_free(out, i);
			free(handles);
			return key_error(
			    h, key, subkeys ? "read a subkey name" : "read a value name", e, err);
		}
	}
	free(handles);
	*names = out;
	*n = count;
	return 0;
}

int rp_hive_subkeys(rp_hive *h, const char *key, char ***names, size_t *n, rp_err *err)
{
	return list_names(h, key, 1, names, n, err);
}

int rp_hive_values(rp_hive *h, const char *key, char ***names, size_t *n, rp_err *err)
{
	return list_names(h, key, 0, names, n, err);
}

void rp_names_free(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int rp_hive_count_keys(rp_hive *h, size_t *keys, size_t *values, rp_err *err)
{
	/* Iterative walk; a bitmap of visited node offsets stops cross-linked lists from looping.
	 */
	uint8_t *seen = rp_xcalloc(h->len / 8 + 1, 1);
	size_t cap = 64, top = 0, nkeys = 0, nvalues = 0;
	hive_node_h *stack = rp_xmalloc(cap * sizeof *stack);
	stack[top++] = h->ops->root(h);
	int rc = 0;
	char *hive = reg_display(h->name, "");
	while (top) {
		hive_node_h node = stack[--top];
		if (!node || node >= h->len) {
			rc = rp_fail(err, RP_EXIT_UNUSABLE,
				     "hive %s: a key points outside the hive; the hive is damaged",
				     hive);
			break;
		}
		if (seen[node / 8] & (1u << (node % 8))) {
			rc = rp_fail(err, RP_EXIT_UNUSABLE,
				     "hive %s: the key at offset 0x%zx is reachable twice (loop or "
				     "cross-linked subkey lists); the hive is damaged",
				     hive, node);
			break;
		}
		seen[node / 8] |= (uint8_t)(1u << (node % 8));
		nkeys++;
		errno = 0;
		size_t nv = h->ops->node_nr_values(h, node);
		if (!nv && errno) {
			rc = rp_fail(err, RP_EXIT_UNUSABLE,
				     "hive %s: cannot read the values of the key at offset "
				     "0x%zx (%s); %s",
				     hive, node, strerror(errno), reg_damaged(errno));
			break;
		}
		nvalues += nv;
		errno = 0;
		hive_node_h *children = h->ops->children(h, node);
		if (!children) {
			rc = rp_fail(err, RP_EXIT_UNUSABLE,
				     "hive %s: cannot read the subkeys of the key at offset "
				     "0x%zx (%s); %s",
				     hive, node, strerror(errno), reg_damaged(errno));
			break;
		}
		for (size_t i = 0; children[i]; i++) {
			stack = rp_grow(stack, &cap, top + 1, sizeof *stack);
			stack[top++] = children[i];
		}
		free(children);
	}
	free(stack);
	free(seen);
	free(hive);
	if (rc < 0)
		return -1;
	*keys = nkeys;
	if (values)
		*values = nvalues;
	return 0;
}

int reg_lookup_existing(rp_hive *h, const char *key, hive_node_h *node, rp_err *err)
{
	int found = reg_lookup(h, key, node, err);
	if (found == 0) {
		char *shown = reg_display(h->name, key);
		rp_fail(err, RP_EXIT_PROBLEMS, "%s: no such key", shown);
		free(shown);
	}
	return found == 1 ? 0 : -1;
}
