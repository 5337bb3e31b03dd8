/*
 * edit.c — applying a batch of edits to a copy of a hive image.
 *
 * Two writers, chosen per edit (hive-format.md §9, §11):
 *   - in place: a REG_DWORD set over an existing inline REG_DWORD overwrites the 4 data bytes
 *     of its vk record.  No allocation, nothing else moves.
 *   - hivex: everything else, in one writable hivex open and one hivex_commit.  hivex rewrites
 *     every value of a key it touches and stores each in one cell, so a key holding a value
 *     over 16,344 bytes (a db record on disk) is refused rather than damaged.
 * In-place writes go to the bytes first and hivex opens the result, so a later hivex rewrite of
 * the same key copies the new DWORD.  An in-place candidate that an earlier hivex edit touches
 * (same value, or a deleted ancestor key) goes through hivex to keep the batch order.
 * Every result is sealed (regf's clean base block), reopened and each edit read back before it
 * is returned, so that what is read back is what is written; the reopened hive can be handed on
 * for the caller's own reading back.
 */
#include "util/bytes.h"
#include "reg/reg_internal.h"
#include "regf/regf.h"

#include "util/fault.h"
#include "util/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BASE_BLOCK 4096
#define MAX_KEY_NAME 255
#define MAX_VALUE_NAME 16383
/* vk record fields, as offsets from the cell start (the value handle). */
#define VK_SIG 4
#define VK_DATA_LEN 8
#define VK_DATA 12
#define VK_TYPE 16
#define VK_MIN_CELL 24
#define VK_INLINE_DWORD 0x80000004u

static int value_name_equal(const rp_edit *a, const rp_edit *b)
{
	/* key edits (delete, create) name no value */
	if (!a->value || !b->value || a->kind == RP_EDIT_DELETE_KEY ||
	    a->kind == RP_EDIT_CREATE_KEY || b->kind == RP_EDIT_DELETE_KEY ||
	    b->kind == RP_EDIT_CREATE_KEY)
		return 0;
	return reg_path_equal(a->key, b->key) && rp_strcasecmp(a->value, b->value) == 0;
}

static int validate_edit(const rp_hive *h, const rp_edit *e, size_t i, rp_err *err)
{
	if (e->kind != RP_EDIT_SET && e->kind != RP_EDIT_DELETE_VALUE &&
	    e->kind != RP_EDIT_DELETE_KEY && e->kind != RP_EDIT_CREATE_KEY)
		return rp_fail(err, RP_EXIT_PROBLEMS, "edit %zu for hive %s has an unknown kind %d",
			       i + 1, h->name, (int)e->kind);
	if (!e->key)
		return rp_fail(err, RP_EXIT_PROBLEMS, "edit %zu for hive %s names no key", i + 1,
			       h->name);
	if (e->kind == RP_EDIT_DELETE_KEY || e->kind == RP_EDIT_CREATE_KEY)
		return 0;
	if (!e->value)
		return rp_fail(err, RP_EXIT_PROBLEMS, "edit %zu for hive %s names no value", i + 1,
			       h->name);
	if (strlen(e->value) > MAX_VALUE_NAME) {
		char *shown = reg_display(h->name, e->key);
		rp_fail(err, RP_EXIT_PROBLEMS,
			"%s: a value name of %zu bytes is longer than the registry allows (%d)",
			shown, strlen(e->value), MAX_VALUE_NAME);
		free(shown);
		return -1;
	}
	if (e->kind == RP_EDIT_SET && e->len && !e->data)
		return rp_fail(err, RP_EXIT_PROBLEMS, "edit %zu for hive %s has no data", i + 1,
			       h->name);
	return 0;
}

/* 1 when edit i can be written in place (offset of its vk cell in *vk), 0 when not, -1 on a
 * hivex error.  via_hivex tells which earlier edits go through hivex. */
static int inplace_target(rp_hive *h, const rp_edit *edits, const char *via_hivex, size_t i,
			  size_t *vk, rp_err *err)
{
	const rp_edit *e = &edits[i];
	if (e->kind != RP_EDIT_SET || e->type != RP_REG_DWORD || e->len != 4)
		return 0;
	for (size_t j = 0; j < i; j++) {
		if (!via_hivex[j])
			continue;
		if (edits[j].kind == RP_EDIT_DELETE_KEY && reg_path_within(e->key, edits[j].key))
			return 0;
		if (edits[j].kind != RP_EDIT_DELETE_KEY && value_name_equal(e, &edits[j]))
			return 0;
	}
	hive_node_h node;
	int found = reg_lookup(h, e->key, &node, err);
	if (found <= 0)
		return found;
	errno = 0;
	hive_value_h v = reg_get_value(h, node, e->value);
	if (!v) {
		if (!errno)
			return 0;
		char *shown = reg_display(h->name, e->key);
		rp_fail(err, RP_EXIT_UNUSABLE,
			"%s: hivex cannot read the value list (%s); the hive is damaged", shown,
			strerror(errno));
		free(shown);
		return -1;
	}
	/* The handle is the vk cell's offset in the file; check the record before trusting it. */
	uint8_t cell[VK_MIN_CELL];
	if (v > h->len || h->len - v < VK_MIN_CELL || h->ops->read(h, v, cell, sizeof cell) < 0)
		return 0;
	int32_t cell_size = (int32_t)rp_le32(cell);
	if (cell_size > -VK_MIN_CELL || (size_t) - (int64_t)cell_size > h->len - v)
		return 0;
	if (memcmp(cell + VK_SIG, "vk", 2) != 0 || rp_le32(cell + VK_DATA_LEN) != VK_INLINE_DWORD ||
	    rp_le32(cell + VK_TYPE) != RP_REG_DWORD)
		return 0;
	*vk = v;
	return 1;
}

/* Refuses when hivex's rewrite of every value of node would damage a value: one other than
 * skip (the value being replaced or deleted) holding more than one cell can, or new data that
 * is itself too long. */
static int check_rewritable(hive_h *hx, const char *hive, const char *key, hive_node_h node,
			    hive_value_h skip, size_t new_len, rp_err *err)
{
	char *shown = reg_display(hive, key);
	int rc = 0;
	if (new_len > REG_MAX_CELL_DATA) {
		rc = rp_fail(err, RP_EXIT_PROBLEMS,
			     "cannot write a value of %zu bytes to %s: the hive writer stores at "
			     "most %d bytes per value correctly; write it on the running system",
			     new_len, shown, REG_MAX_CELL_DATA);
		goto out;
	}
	errno = 0;
	hive_value_h *values = hivex_node_values(hx, node);
	if (!values) {
		rc = rp_fail(err, RP_EXIT_UNUSABLE,
			     "%s: hivex cannot read the value list (%s); the hive is damaged",
			     shown, strerror(errno));
		goto out;
	}
	for (size_t i = 0; values[i] && rc == 0; i++) {
		if (values[i] == skip)
			continue;
		hive_type t;
		size_t len;
		errno = 0;
		if (hivex_value_type(hx, values[i], &t, &len) < 0)
			rc = rp_fail(err, RP_EXIT_UNUSABLE,
				     "%s: hivex cannot read a value (%s); the hive is damaged",
				     shown, strerror(errno));
		else if (len > REG_MAX_CELL_DATA)
			rc = rp_fail(
			    err, RP_EXIT_PROBLEMS,
			    "cannot rewrite %s: it holds a value of %zu bytes that the hive "
			    "writer would damage (it rewrites every value of the key and "
			    "cannot store more than %d bytes per value); make this change "
			    "on the running system instead",
			    shown, len, REG_MAX_CELL_DATA);
	}
	free(values);
out:
	free(shown);
	return rc;
}

static int printable_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
			return 0;
	return 1;
}

/* Finds key in a writable hive, creating the missing keys. */
static int lookup_or_create(hive_h *hx, const char *hive, const char *key, hive_node_h *node,
			    rp_err *err)
{
	hive_node_h cur = hivex_root(hx);
	const char *p = key, *start;
	size_t n;
	while ((n = reg_next_component(&p, &start)) != 0) {
		char *name = rp_xasprintf("%.*s", (int)n, start);
		char *upto = rp_xasprintf("%.*s", (int)(p - key), key);
		char *shown = reg_display(hive, upto);
		errno = 0;
		hive_node_h child = cur ? hivex_node_get_child(hx, cur, name) : 0;
		int rc = 0;
		if (!child && (errno || !cur)) {
			rc = rp_fail(err, RP_EXIT_UNUSABLE,
				     "%s: hivex cannot read the key (%s); the hive is damaged",
				     shown, strerror(errno));
		} else if (!child && (n > MAX_KEY_NAME || !printable_ascii(name, n))) {
			/* hivex sorts and hashes names over UTF-8 bytes with an ASCII-only case
			 * fold: a non-ASCII name would land out of order. */
			rc = rp_fail(err, RP_EXIT_PROBLEMS,
				     "cannot create the key %s: its name is not printable ASCII of "
				     "at most %d characters; choose an ASCII name",
				     shown, MAX_KEY_NAME);
		} else if (!child) {
			errno = 0;
			child = hivex_node_add_child(hx, cur, name);
			if (!child)
				rc = rp_fail(err, RP_EXIT_UNUSABLE,
					     "cannot create the key %s: hivex fails (%s)", shown,
					     strerror(errno));
		}
		free(shown);
		free(upto);
		free(name);
		if (rc < 0)
			return -1;
		cur = child;
	}
	*node = cur;
	return 0;
}

/* The value handle named value of node, 0 when absent, or -1 ((size_t)-1) on an error. */
static hive_value_h find_value(hive_h *hx, const char *hive, const char *key, hive_node_h node,
			       const char *value, rp_err *err)
{
	errno = 0;
	hive_value_h v = hivex_node_get_value(hx, node, value);
	if (!v && errno) {
		char *shown = reg_display(hive, key);
		rp_fail(err, RP_EXIT_UNUSABLE,
			"%s: hivex cannot read the value list (%s); the hive is damaged", shown,
			strerror(errno));
		free(shown);
		return (hive_value_h)-1;
	}
	return v;
}

static int hivex_set(hive_h *hx, const char *hive, const rp_edit *e, rp_err *err)
{
	hive_node_h node;
	if (lookup_or_create(hx, hive, e->key, &node, err) < 0)
		return -1;
	hive_value_h old = find_value(hx, hive, e->key, node, e->value, err);
	if (old == (hive_value_h)-1 || check_rewritable(hx, hive, e->key, node, old, e->len, err))
		return -1;
	hive_set_value sv = {.key = (char *)e->value,
			     .t = (hive_type)e->type,
			     .len = e->len,
			     .value = (char *)e->data};
	errno = 0;
	if (rp_fault("reg-hivex-set") || hivex_node_set_value(hx, node, &sv, 0) < 0) {
		char *shown = reg_display(hive, e->key);
		char *value = rp_escape(e->value);
		rp_fail(err, RP_EXIT_UNUSABLE, "%s: hivex cannot set the value \"%s\" (%s)", shown,
			value, strerror(errno));
		free(value);
		free(shown);
		return -1;
	}
	return 0;
}

static void free_set_values(hive_set_value *values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(values[i].key);
		free(values[i].value);
	}
	free(values);
}

static int hivex_delete_value(hive_h *hx, const char *hive, const rp_edit *e, rp_err *err)
{
	hive_node_h node;
	int found = reg_lookup_hivex(hx, hive, e->key, &node, err);
	if (found <= 0)
		return found;
	hive_value_h gone = find_value(hx, hive, e->key, node, e->value, err);
	if (gone == (hive_value_h)-1)
		return -1;
	if (!gone)
		return 0;
	if (check_rewritable(hx, hive, e->key, node, gone, 0, err) < 0)
		return -1;
	char *shown = reg_display(hive, e->key);
	int rc = 0;
	errno = 0;
	hive_value_h *handles = hivex_node_values(hx, node);
	if (!handles) {
		rc = rp_fail(err, RP_EXIT_UNUSABLE,
			     "%s: hivex cannot read the value list (%s); the hive is damaged",
			     shown, strerror(errno));
		free(shown);
		return rc;
	}
	size_t count = 0, kept = 0;
	while (handles[count])
		count++;
	hive_set_value *keep = rp_xcalloc(count, sizeof *keep);
	for (size_t i = 0; i < count && rc == 0; i++) {
		if (handles[i] == gone)
			continue;
		hive_set_value *sv = &keep[kept];
		errno = 0;
		sv->key = hivex_value_key(hx, handles[i]);
		sv->value = sv->key ? hivex_value_value(hx, handles[i], &sv->t, &sv->len) : NULL;
		kept++;
		if (!sv->key || (!sv->value && errno))
			rc = rp_fail(err, RP_EXIT_UNUSABLE,
				     "%s: hivex cannot read a value (%s); the hive is damaged",
				     shown, strerror(errno));
	}
	errno = 0;
	if (rc == 0 && (rp_fault("reg-hivex-delete-value") ||
			hivex_node_set_values(hx, node, kept, keep, 0) < 0))
		rc = rp_fail(err, RP_EXIT_UNUSABLE, "%s: hivex cannot rewrite the values (%s)",
			     shown, strerror(errno));
	free_set_values(keep, kept);
	free(handles);
	free(shown);
	return rc;
}

static int hivex_delete_key(hive_h *hx, const char *hive, const rp_edit *e, rp_err *err)
{
	const char *p = e->key, *start;
	if (reg_next_component(&p, &start) == 0)
		return rp_fail(err, RP_EXIT_PROBLEMS, "cannot delete the root key of hive %s",
			       hive);
	hive_node_h node;
	int found = reg_lookup_hivex(hx, hive, e->key, &node, err);
	if (found <= 0)
		return found;
	errno = 0;
	if (rp_fault("reg-hivex-delete-key") || hivex_node_delete_child(hx, node) < 0) {
		char *shown = reg_display(hive, e->key);
		rp_fail(err, RP_EXIT_UNUSABLE, "%s: hivex cannot delete the key (%s)", shown,
			strerror(errno));
		free(shown);
		return -1;
	}
	return 0;
}

/* Opens bytes with hivex for writing, applies the edits marked in via_hivex, commits to an
 * in-memory file and returns the committed image trimmed to 4096 + hive-bins size. */
static int apply_with_hivex(rp_hive *h, const uint8_t *bytes, size_t len, const rp_edit *edits,
			    const char *via_hivex, size_t n, uint8_t **out, size_t *out_len,
			    rp_err *err)
{
	hive_h *hx = reg_hivex_open(h->name, bytes, len, HIVEX_OPEN_WRITE, err);
	if (!hx)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!via_hivex[i])
			continue;
		if (edits[i].kind == RP_EDIT_SET)
			rc = hivex_set(hx, h->name, &edits[i], err);
		else if (edits[i].kind == RP_EDIT_DELETE_VALUE)
			rc = hivex_delete_value(hx, h->name, &edits[i], err);
		else if (edits[i].kind == RP_EDIT_CREATE_KEY) {
			hive_node_h node;
			rc = lookup_or_create(hx, h->name, edits[i].key, &node, err);
		} else
			rc = hivex_delete_key(hx, h->name, &edits[i], err);
	}
	reg_memfile mf = {.fd = -1};
	if (rc == 0)
		rc = reg_memfile_create(&mf, NULL, NULL, 0, err);
	if (rc == 0) {
		errno = 0;
		if (rp_fault("reg-hivex-commit") || hivex_commit(hx, mf.path, 0) < 0)
			rc = rp_fail(err, RP_EXIT_UNUSABLE,
				     "hive %s: hivex cannot write the edited hive (%s)", h->name,
				     strerror(errno));
	}
	hivex_close(hx);
	uint8_t *result = NULL;
	size_t result_len = 0;
	if (rc == 0)
		rc = reg_memfile_read(&mf, &result, &result_len, err);
	reg_memfile_close(&mf);
	if (rc < 0)
		return -1;
	uint32_t hbins = result_len >= BASE_BLOCK ? rp_le32(result + 40) : 0;
	if (!hbins || hbins % 4096 || hbins > result_len - BASE_BLOCK) {
		free(result);
		return rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "hive %s: hivex wrote %zu bytes with a hive-bins size of %u that does "
		    "not fit; nothing was changed",
		    h->name, result_len, hbins);
	}
	*out = result;
	*out_len = BASE_BLOCK + (size_t)hbins;
	return 0;
}

/* Whether a later edit decides what edit i should read back as. */
static int superseded(const rp_edit *edits, size_t n, size_t i)
{
	const rp_edit *e = &edits[i];
	for (size_t j = i + 1; j < n; j++) {
		const rp_edit *l = &edits[j];
		switch (e->kind) {
		case RP_EDIT_SET:
			if (l->kind == RP_EDIT_DELETE_KEY ? reg_path_within(e->key, l->key)
							  : value_name_equal(e, l))
				return 1;
			break;
		case RP_EDIT_DELETE_VALUE:
			if (l->kind == RP_EDIT_SET && value_name_equal(e, l))
				return 1;
			break;
		case RP_EDIT_DELETE_KEY:
			if ((l->kind == RP_EDIT_SET || l->kind == RP_EDIT_CREATE_KEY) &&
			    reg_path_within(l->key, e->key))
				return 1;
			break;
		case RP_EDIT_CREATE_KEY:
			if (l->kind == RP_EDIT_DELETE_KEY && reg_path_within(e->key, l->key))
				return 1;
			break;
		}
	}
	return 0;
}

static int read_back_failure(const rp_hive *h, const rp_edit *e, const char *what, rp_err *err)
{
	char *shown = reg_display(h->name, e->key);
	char *value = e->value ? rp_escape(e->value) : NULL;
	if (value)
		rp_fail(err, RP_EXIT_UNUSABLE,
			"%s value \"%s\" %s after the edit; the hive writer failed, nothing was "
			"changed",
			shown, value, what);
	else
		rp_fail(err, RP_EXIT_UNUSABLE,
			"%s %s after the edit; the hive writer failed, nothing was changed", shown,
			what);
	free(value);
	free(shown);
	return -1;
}

/* Reopens the result and reads every edit back: image itself with the lazy backend (it is
 * sealed, so clean), or a copy with hivex when the lazy reader refuses its bins (hivex then
 * decides).  *keep (when keep is given) gets the reopened hive on success; image must outlive
 * it. */
static int verify(rp_hive *h, const uint8_t *image, size_t len, const rp_edit *edits, size_t n,
		  rp_hive **keep, rp_err *err)
{
	rp_hive *check = NULL;
	int opened = reg_hive_open_image(&check, h->name, (uint8_t *)image, len, 0) == 1
			 ? 0
			 : rp_hive_open(&check, h->name, image, len, err);
	if (opened < 0) {
		rp_err_prefix(err, "the edited hive does not reopen");
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const rp_edit *e = &edits[i];
		if (superseded(edits, n, i))
			continue;
		if (e->kind == RP_EDIT_DELETE_KEY) {
			int exists = rp_hive_key_exists(check, e->key, err);
			if (exists)
				rc = exists < 0 ? -1 : read_back_failure(h, e, "still exists", err);
			continue;
		}
		if (e->kind == RP_EDIT_CREATE_KEY) {
			int exists = rp_hive_key_exists(check, e->key, err);
			if (exists <= 0)
				rc = exists < 0 ? -1 : read_back_failure(h, e, "is missing", err);
			continue;
		}
		rp_value v = {0};
		int found = rp_hive_get(check, e->key, e->value, &v, err);
		if (found < 0)
			rc = -1;
		else if (e->kind == RP_EDIT_DELETE_VALUE && found)
			rc = read_back_failure(h, e, "still exists", err);
		else if (e->kind == RP_EDIT_SET && !found)
			rc = read_back_failure(h, e, "is missing", err);
		else if (e->kind == RP_EDIT_SET &&
			 (v.type != e->type || v.len != e->len ||
			  (e->len && memcmp(v.data, e->data, e->len) != 0)))
			rc = read_back_failure(h, e, "reads back different", err);
		rp_value_free(&v);
	}
	if (rc == 0 && keep)
		*keep = check;
	else
		rp_hive_close(check);
	return rc;
}

int rp_hive_apply(rp_hive *h, const rp_edit *edits, size_t n, uint32_t seq, uint8_t **image,
		  size_t *len, rp_hive **check, rp_err *err)
{
	if (check)
		*check = NULL;
	for (size_t i = 0; i < n; i++)
		if (validate_edit(h, &edits[i], i, err) < 0)
			return -1;
	uint8_t *bytes;
	if (reg_hive_read_image(h, &bytes, err) < 0)
		return -1;
	size_t bytes_len = h->len;
	char *via_hivex = rp_xcalloc(n ? n : 1, 1);
	int any_hivex = 0, rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t vk;
		int inplace = inplace_target(h, edits, via_hivex, i, &vk, err);
		if (inplace < 0)
			rc = -1;
		else if (inplace)
			memcpy(bytes + vk + VK_DATA, edits[i].data, 4);
		else
			any_hivex = via_hivex[i] = 1;
	}
	if (rc == 0 && any_hivex) {
		uint8_t *written = NULL;
		size_t written_len = 0;
		rc = apply_with_hivex(h, bytes, bytes_len, edits, via_hivex, n, &written,
				      &written_len, err);
		if (rc == 0) {
			free(bytes);
			bytes = written;
			bytes_len = written_len;
		}
	}
	free(via_hivex);
	/* Sealed: regf's clean base block with sequence number seq, trimmed to its bin chain. */
	if (rc == 0)
		rc = rp_regf_finalize(bytes, &bytes_len, seq, err);
	if (rc == 0)
		rc = verify(h, bytes, bytes_len, edits, n, check, err);
	if (rc < 0) {
		free(bytes);
		return -1;
	}
	*image = bytes;
	*len = bytes_len;
	return 0;
}
