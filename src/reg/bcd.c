/*
 * bcd.c — finding and reading the BCD store (see bcd.h).  Only reads; the store is edited like
 * any hive, by plan/ (reg/edit.c on the recovered image, backup, verified write, undo).
 */
#include "reg/bcd.h"
#include "util/bytes.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many entries are shown (a real store holds a handful). */
#define MAX_ENTRIES 64

static const struct {
	const char *dir;
	const char *where;
} places[] = {
    {RP_VOL_BOOT "/EFI/Microsoft/Boot", "the EFI system partition"},
    {RP_VOL_BOOT "/Boot", "the System Reserved partition"},
    {"Boot", "the Windows volume"},
};

char *rp_bcd_element_key(const char *id, const char *element)
{
	return rp_xasprintf("Objects\\%s\\Elements\\%s", id, element);
}

const char *rp_bcd_safeboot_name(int v, char *buf, size_t n)
{
	static const char *names[] = {"minimal", "network", "dsrepair"};
	if (v >= 0 && v < 3)
		return names[v];
	snprintf(buf, n, "value %d", v);
	return buf;
}

/* The element's data, or NULL (value freed by the caller). */
static int element(rp_hive *h, const char *id, const char *el, rp_value *v)
{
	char *key = rp_bcd_element_key(id, el);
	rp_err ignored = {0};
	int got = rp_hive_get(h, key, "Element", v, &ignored);
	free(key);
	return got == 1;
}

static char *element_string(rp_hive *h, const char *id, const char *el)
{
	rp_value v = {0};
	char *s = NULL;
	if (element(h, id, el, &v) && v.type == RP_REG_SZ && v.len >= 2)
		s = rp_utf16_to_utf8(v.data, v.len & ~(size_t)1);
	rp_value_free(&v);
	return s;
}

static int element_bool(rp_hive *h, const char *id, const char *el)
{
	rp_value v = {0};
	int on = element(h, id, el, &v) && v.len >= 1 && v.data[0] != 0;
	rp_value_free(&v);
	return on;
}

static int element_int(rp_hive *h, const char *id, const char *el)
{
	rp_value v = {0};
	int out = -1;
	if (element(h, id, el, &v)) {
		uint64_t x = 0;
		for (size_t i = 0; i < v.len && i < 8; i++)
			x |= (uint64_t)v.data[i] << (8 * i);
		out = x > 99 ? 99 : (int)x;
	}
	rp_value_free(&v);
	return out;
}

static void add_entry(rp_bcd *bcd, rp_hive *h, const char *id)
{
	for (size_t i = 0; i < bcd->n; i++)
		if (rp_strcasecmp(bcd->entries[i].id, id) == 0)
			return;
	char *key = rp_xasprintf("Objects\\%s", id);
	rp_err ignored = {0};
	int exists = rp_hive_key_exists(h, key, &ignored) == 1;
	free(key);
	if (!exists || bcd->n >= MAX_ENTRIES)
		return;
	bcd->entries = rp_xrealloc(bcd->entries, (bcd->n + 1) * sizeof *bcd->entries);
	rp_bcd_entry *e = &bcd->entries[bcd->n++];
	memset(e, 0, sizeof *e);
	e->id = rp_xstrdup(id);
	e->description = element_string(h, id, RP_BCD_DESCRIPTION);
	e->is_default = bcd->default_id && rp_strcasecmp(bcd->default_id, id) == 0;
	e->safeboot = element_int(h, id, RP_BCD_SAFEBOOT);
	e->alt_shell = element_bool(h, id, RP_BCD_ALT_SHELL);
	e->ems = element_bool(h, id, RP_BCD_EMS);
}

/* The display order (REG_MULTI_SZ of GUID strings), then the default if it is not in it. */
static void read_entries(rp_bcd *bcd)
{
	rp_hive *h = bcd->file.hive;
	bcd->default_id = element_string(h, RP_BCD_BOOTMGR, RP_BCD_DEFAULT);
	rp_value v = {0};
	if (element(h, RP_BCD_BOOTMGR, RP_BCD_DISPLAY, &v) && v.type == RP_REG_MULTI_SZ) {
		size_t start = 0;
		for (size_t i = 0; i + 1 < v.len; i += 2) {
			if (v.data[i] || v.data[i + 1])
				continue;
			if (i > start) {
				char *id = rp_utf16_to_utf8(v.data + start, i - start);
				if (id)
					add_entry(bcd, h, id);
				free(id);
			}
			start = i + 2;
		}
	}
	rp_value_free(&v);
	if (bcd->default_id)
		add_entry(bcd, h, bcd->default_id);
}

void rp_bcd_load(rp_vol *vol, rp_bcd *bcd)
{
	memset(bcd, 0, sizeof *bcd);
	char *first_error = NULL;
	for (size_t i = 0; i < sizeof places / sizeof places[0] && !bcd->found; i++) {
		rp_stat st;
		rp_err err = {0};
		if (rp_vol_stat(vol, places[i].dir, &st, &err) < 0) {
			if (!first_error && rp_vol_boot_note(vol))
				first_error = rp_xstrdup(rp_vol_boot_note(vol));
			continue;
		}
		if (!st.exists || !st.is_dir)
			continue;
		if (rp_hive_file_load(vol, places[i].dir, "BCD", &bcd->file, &err) < 0) {
			if (!bcd->error)
				bcd->error = rp_xasprintf("the BCD store on %s cannot be read: %s",
							  places[i].where, err.msg);
			rp_hive_file_free(&bcd->file);
			continue;
		}
		if (!bcd->file.path)
			continue;
		bcd->found = 1;
		bcd->where = rp_xstrdup(places[i].where);
	}
	if (bcd->found) {
		free(bcd->error);
		bcd->error = NULL;
		read_entries(bcd);
	} else if (!bcd->error && first_error) {
		bcd->error = first_error;
		first_error = NULL;
	}
	free(first_error);
}

const rp_bcd_entry *rp_bcd_default(const rp_bcd *bcd)
{
	for (size_t i = 0; i < bcd->n; i++)
		if (bcd->entries[i].is_default)
			return &bcd->entries[i];
	return NULL;
}

void rp_bcd_free(rp_bcd *bcd)
{
	if (!bcd)
		return;
	rp_hive_file_free(&bcd->file);
	for (size_t i = 0; i < bcd->n; i++) {
		free(bcd->entries[i].id);
		free(bcd->entries[i].description);
	}
	free(bcd->entries);
	free(bcd->error);
	free(bcd->where);
	free(bcd->default_id);
	memset(bcd, 0, sizeof *bcd);
}
