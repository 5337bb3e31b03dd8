/*
 * regfile.c — .reg files: parsing "Windows Registry Editor Version 5.00" / "REGEDIT4" text into
 * edits, and exporting a subtree of a hive as version 5.00 text.
 *
 * Input comes from users and from disks: it is decoded to UTF-8 (UTF-16LE with BOM, or UTF-8
 * with or without BOM), NUL characters are refused, every token is bounds-checked against the
 * end of its line, and lengths are capped.  Errors name the line.
 *
 * A REGEDIT4 file is ANSI: its text is read as Windows-1252 (regedit uses the machine's ANSI
 * code page, 1252 on Western systems) and its hex(1), hex(2) and hex(7) data are ANSI bytes,
 * stored as UTF-16LE as regedit does.
 *
 * Forms: [KEY], [-KEY], "name"=..., @=..., with "string", dword:<8 hex digits>, hex:bytes,
 * hex(N):bytes and - (delete the value).  A line ending in a backslash continues on the next.
 * Every [KEY] line gives an RP_EDIT_CREATE_KEY entry (regedit creates a key without values
 * too), followed by the entries of its values.
 */
#include "reg/reg_internal.h"

#include "util/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_V5 "Windows Registry Editor Version 5.00"
#define HEADER_V4 "REGEDIT4"
/* hivex refuses longer data (HIVEX_MAX_VALUE_LEN); nothing legitimate comes close. */
#define MAX_VALUE_DATA 8000000
#define MAX_VALUE_NAME 16383
#define MAX_KEY_PATH 32767
/* Column after which exported hex data continues on the next line, as regedit does. */
#define HEX_WRAP 76

/* Windows-1252 (the ANSI code page REGEDIT4 files are read in) for 0x80..0x9F; the other bytes
 * are their own code points. */
static const uint16_t cp1252_80[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

/* ANSI bytes to UTF-16LE code units (2 * len bytes at out). */
static void ansi_to_utf16(const uint8_t *in, size_t len, uint8_t *out)
{
	for (size_t i = 0; i < len; i++) {
		uint16_t c = in[i] >= 0x80 && in[i] < 0xA0 ? cp1252_80[in[i] - 0x80] : in[i];
		out[2 * i] = (uint8_t)c;
		out[2 * i + 1] = (uint8_t)(c >> 8);
	}
}

typedef struct parser {
	rp_regfile_entry *entries;
	size_t n, cap;
	char *root, *key; /* the current [KEY]; NULL before the first */
	int key_deleted;
	int v4; /* a REGEDIT4 file: hex(1), hex(2) and hex(7) data are ANSI bytes */
	size_t line;
	rp_err *err;
} parser;

static int fail_line(parser *ps, const char *what)
{
	return rp_fail(ps->err, RP_EXIT_USAGE, ".reg line %zu: %s", ps->line, what);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static const char *skip_space(const char *p)
{
	while (is_space(*p))
		p++;
	return p;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Only blanks or a comment may follow a value. */
static int expect_end(parser *ps, const char *p)
{
	p = skip_space(p);
	if (*p && *p != ';')
		return fail_line(ps, "unexpected text after the value");
	return 0;
}

/* Parses "..." at *p (which points at the opening quote) with the escapes \\ and \". */
static char *parse_quoted(parser *ps, const char **p)
{
	const char *s = *p + 1;
	size_t cap = strlen(s) + 1, n = 0;
	char *out = rp_xmalloc(cap);
	for (;; s++) {
		if (!*s) {
			free(out);
			fail_line(ps, "a string has no closing quote");
			return NULL;
		}
		if (*s == '"')
			break;
		if (*s == '\\') {
			if (s[1] != '\\' && s[1] != '"') {
				free(out);
				fail_line(ps, "a backslash in a string must be written \\\\ (only "
					      "\\\\ and \\\" are escapes)");
				return NULL;
			}
			s++;
		}
		out[n++] = *s;
	}
	out[n] = 0;
	*p = s + 1;
	return out;
}

/* hex bytes "01,02, ab" up to the end of the line or a comment. */
static int parse_hex_bytes(parser *ps, const char *p, uint8_t **data, size_t *len)
{
	size_t cap = strlen(p) / 2 + 1, n = 0;
	uint8_t *out = rp_xmalloc(cap);
	p = skip_space(p);
	while (*p && *p != ';') {
		int hi = hex_digit(p[0]);
		int lo = hi >= 0 ? hex_digit(p[1]) : -1;
		if (hi < 0) {
			free(out);
			return fail_line(ps,
					 "hex data must be two-digit bytes separated by commas");
		}
		out[n++] = (uint8_t)(lo >= 0 ? hi << 4 | lo : hi);
		p = skip_space(p + (lo >= 0 ? 2 : 1));
		if (*p == ',')
			p = skip_space(p + 1);
		else if (*p && *p != ';') {
			free(out);
			return fail_line(ps,
					 "hex data must be two-digit bytes separated by commas");
		}
	}
	if (n > MAX_VALUE_DATA) {
		free(out);
		return fail_line(ps, "the value data is longer than 8,000,000 bytes");
	}
	*data = out;
	*len = n;
	return 0;
}

static void free_entry_fields(rp_regfile_entry *e)
{
	free(e->root);
	free((char *)e->edit.key);
	free((char *)e->edit.value);
	free((uint8_t *)e->edit.data);
}

static rp_regfile_entry *new_entry(parser *ps, rp_edit_kind kind)
{
	ps->entries = rp_grow(ps->entries, &ps->cap, ps->n + 1, sizeof *ps->entries);
	rp_regfile_entry *e = &ps->entries[ps->n++];
	memset(e, 0, sizeof *e);
	e->root = rp_xstrdup(ps->root);
	e->edit.kind = kind;
	e->edit.key = rp_xstrdup(ps->key);
	return e;
}

/* [KEY] or [-KEY]: line points after the leading blanks. */
static int parse_key_line(parser *ps, const char *line)
{
	size_t n = strlen(line);
	while (n && is_space(line[n - 1]))
		n--;
	if (n < 2 || line[n - 1] != ']')
		return fail_line(ps, "a key line must end with ]");
	const char *path = line + 1;
	size_t path_len = n - 2;
	int deleted = path_len && path[0] == '-';
	if (deleted) {
		path++;
		path_len--;
	}
	if (path_len > MAX_KEY_PATH)
		return fail_line(ps, "the key path is longer than the registry allows");
	char *full = rp_xasprintf("%.*s", (int)path_len, path);
	if (strchr(full, '[')) {
		free(full);
		return fail_line(ps, "a key path cannot contain [");
	}
	/* The root is the hive: HKEY_LOCAL_MACHINE\SYSTEM, or a single first component. */
	const char *p = full, *start;
	size_t first = reg_next_component(&p, &start);
	if (!first) {
		free(full);
		return fail_line(ps, "the key line names no key");
	}
	const char *root_start = start;
	char *first_name = rp_xasprintf("%.*s", (int)first, start);
	int hklm =
	    !rp_strcasecmp(first_name, "HKEY_LOCAL_MACHINE") || !rp_strcasecmp(first_name, "HKLM");
	free(first_name);
	if (hklm && !reg_next_component(&p, &start)) {
		free(full);
		return fail_line(ps, "name a hive below HKEY_LOCAL_MACHINE (for example "
				     "HKEY_LOCAL_MACHINE\\SYSTEM)");
	}
	free(ps->root);
	free(ps->key);
	ps->root = rp_xasprintf("%.*s", (int)(p - root_start), root_start);
	while (*p == '\\')
		p++;
	ps->key = rp_xstrdup(p);
	ps->key_deleted = deleted;
	free(full);
	/* [-KEY] deletes the key; [KEY] creates it, with or without values (as regedit). */
	new_entry(ps, deleted ? RP_EDIT_DELETE_KEY : RP_EDIT_CREATE_KEY);
	return 0;
}

static int parse_value_data(parser *ps, rp_regfile_entry *e, const char *p)
{
	rp_edit *ed = &e->edit;
	uint8_t *data = NULL;
	size_t len = 0;
	if (*p == '"') {
		char *s = parse_quoted(ps, &p);
		if (!s)
			return -1;
		data = rp_utf8_to_utf16(s, &len);
		free(s);
		if (!data)
			return fail_line(ps, "the string is not valid UTF-8");
		if (len > MAX_VALUE_DATA) {
			free(data);
			return fail_line(ps, "the value data is longer than 8,000,000 bytes");
		}
		ed->type = RP_REG_SZ;
		ed->data = data;
		ed->len = len;
		return expect_end(ps, p);
	}
	if (!strncasecmp(p, "dword:", 6)) {
		p += 6;
		uint32_t v = 0;
		int digits = 0;
		for (; hex_digit(*p) >= 0; p++, digits++)
			v = v << 4 | (uint32_t)hex_digit(*p);
		if (digits < 1 || digits > 8)
			return fail_line(ps, "dword: needs 1 to 8 hex digits");
		data = rp_xmalloc(4);
		for (int i = 0; i < 4; i++)
			data[i] = (uint8_t)(v >> (8 * i));
		ed->type = RP_REG_DWORD;
		ed->data = data;
		ed->len = 4;
		return expect_end(ps, p);
	}
	if (!strncasecmp(p, "hex:", 4)) {
		ed->type = RP_REG_BINARY;
		p += 4;
	} else if (!strncasecmp(p, "hex(", 4)) {
		p += 4;
		uint32_t type = 0;
		int digits = 0;
		for (; hex_digit(*p) >= 0; p++, digits++)
			type = type << 4 | (uint32_t)hex_digit(*p);
		if (digits < 1 || digits > 8 || p[0] != ')' || p[1] != ':')
			return fail_line(ps, "hex(N): needs a type number of 1 to 8 hex digits");
		ed->type = type;
		p += 2;
	} else {
		return fail_line(ps,
				 "unknown value form (use \"text\", dword:, hex:, hex(N): or -)");
	}
	if (parse_hex_bytes(ps, p, &data, &len) < 0)
		return -1;
	if (ps->v4 && (ed->type == RP_REG_SZ || ed->type == RP_REG_EXPAND_SZ ||
		       ed->type == RP_REG_MULTI_SZ)) {
		/* regedit reads REGEDIT4 string data as ANSI and stores it as UTF-16LE */
		uint8_t *wide = rp_xmalloc(2 * len + 1);
		ansi_to_utf16(data, len, wide);
		free(data);
		data = wide;
		len *= 2;
	}
	ed->data = data;
	ed->len = len;
	return 0;
}

/* "name"=... or @=...: line points after the leading blanks. */
static int parse_value_line(parser *ps, const char *line)
{
	if (!ps->root)
		return fail_line(ps, "a value before any [key] line");
	if (ps->key_deleted)
		return fail_line(ps, "a value below a [-key] line that deletes the key");
	const char *p = line;
	char *name;
	if (*p == '@') {
		name = rp_xstrdup("");
		p++;
	} else {
		name = parse_quoted(ps, &p);
		if (!name)
			return -1;
		if (strlen(name) > MAX_VALUE_NAME) {
			free(name);
			return fail_line(ps, "the value name is longer than the registry allows");
		}
	}
	p = skip_space(p);
	if (*p != '=') {
		free(name);
		return fail_line(ps, "expected = after the value name");
	}
	p = skip_space(p + 1);
	if (*p == '-') {
		rp_regfile_entry *e = new_entry(ps, RP_EDIT_DELETE_VALUE);
		e->edit.value = name;
		return expect_end(ps, p + 1);
	}
	rp_regfile_entry *e = new_entry(ps, RP_EDIT_SET);
	e->edit.value = name;
	if (parse_value_data(ps, e, p) < 0) {
		free_entry_fields(e);
		ps->n--;
		return -1;
	}
	return 0;
}

/* The input as NUL-terminated UTF-8, or NULL (err filled). */
static char *decode(const uint8_t *buf, size_t len, rp_err *err)
{
	if (len >= 2 && buf[0] == 0xFF && buf[1] == 0xFE) {
		size_t line = 1;
		if ((len - 2) % 2) {
			rp_fail(
			    err, RP_EXIT_USAGE,
			    ".reg file: UTF-16 text with an odd number of bytes; the file is cut "
			    "short");
			return NULL;
		}
		for (size_t i = 2; i + 1 < len; i += 2) {
			if (buf[i] == '\n' && buf[i + 1] == 0)
				line++;
			if (!buf[i] && !buf[i + 1]) {
				rp_fail(err, RP_EXIT_USAGE, ".reg line %zu: a NUL character", line);
				return NULL;
			}
		}
		return rp_utf16_to_utf8(buf + 2, len - 2);
	}
	if (len >= 2 && buf[0] == 0xFE && buf[1] == 0xFF) {
		rp_fail(err, RP_EXIT_USAGE,
			".reg file: UTF-16 big-endian is not supported; save it as UTF-16LE or "
			"UTF-8");
		return NULL;
	}
	if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF) {
		buf += 3;
		len -= 3;
	}
	const uint8_t *nul = memchr(buf, 0, len);
	if (nul) {
		size_t line = 1;
		for (const uint8_t *q = buf; q < nul; q++)
			line += *q == '\n';
		rp_fail(err, RP_EXIT_USAGE, ".reg line %zu: a NUL character", line);
		return NULL;
	}
	/* REGEDIT4 files are ANSI (Windows-1252), as regedit reads them. */
	size_t lead = 0;
	while (lead < len &&
	       (buf[lead] == ' ' || buf[lead] == '\t' || buf[lead] == '\r' || buf[lead] == '\n'))
		lead++;
	if (len - lead >= strlen(HEADER_V4) && !memcmp(buf + lead, HEADER_V4, strlen(HEADER_V4))) {
		uint8_t *wide = rp_xmalloc(2 * len + 2);
		ansi_to_utf16(buf, len, wide);
		wide[2 * len] = wide[2 * len + 1] = 0;
		char *text = rp_utf16_to_utf8(wide, 2 * len);
		free(wide);
		return text;
	}
	char *text = rp_xmalloc(len + 1);
	memcpy(text, buf, len);
	text[len] = 0;
	return text;
}

/* Next logical line of text at *pos: continuation backslashes joined, trailing blanks and CR
 * dropped.  Returns NULL at the end; *lines counts the physical lines consumed. */
static char *next_line(char **pos, size_t *lines)
{
	if (!**pos)
		return NULL;
	char *out = NULL;
	size_t out_len = 0;
	*lines = 0;
	for (;;) {
		char *s = *pos, *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		*pos = nl ? nl + 1 : s + n;
		(*lines)++;
		const char *piece = s;
		if (out) /* a continuation: leading blanks are indentation */
			while (n && (*piece == ' ' || *piece == '\t')) {
				piece++;
				n--;
			}
		while (n && is_space(piece[n - 1]))
			n--;
		out = rp_xrealloc(out, out_len + n + 1);
		memcpy(out + out_len, piece, n);
		out_len += n;
		out[out_len] = 0;
		const char *first = skip_space(out);
		int continues =
		    out_len && out[out_len - 1] == '\\' && *first != '[' && *first != ';' && **pos;
		if (!continues)
			return out;
		out[--out_len] = 0;
	}
}

int rp_regfile_parse(const uint8_t *buf, size_t len, rp_regfile_entry **entries, size_t *n,
		     rp_err *err)
{
	*entries = NULL;
	*n = 0;
	char *text = decode(buf, len, err);
	if (!text)
		return -1;
	parser ps = {.err = err, .line = 1};
	char *pos = text, *line;
	size_t lines, next = 1;
	int header = 0, rc = 0;
	while (rc == 0 && (line = next_line(&pos, &lines)) != NULL) {
		ps.line = next;
		next += lines;
		const char *p = skip_space(line);
		if (!header) {
			if (*p) {
				ps.v4 = !strcmp(p, HEADER_V4);
				if (strcmp(p, HEADER_V5) && !ps.v4)
					rc = fail_line(&ps,
						       "not a .reg file: the first line must be "
						       "\"" HEADER_V5 "\" or \"" HEADER_V4 "\"");
				header = 1;
			}
		} else if (!*p || *p == ';') {
			/* blank line or comment */
		} else if (*p == '[') {
			rc = parse_key_line(&ps, p);
		} else if (*p == '@' || *p == '"') {
			rc = parse_value_line(&ps, p);
		} else {
			rc = fail_line(&ps, "expected a [key] line, a \"name\"=value line or a "
					    "comment");
		}
		free(line);
	}
	if (rc == 0 && !header)
		rc = rp_fail(err, RP_EXIT_USAGE, ".reg file: empty (no \"" HEADER_V5 "\" line)");
	free(text);
	free(ps.root);
	free(ps.key);
	if (rc < 0) {
		rp_regfile_free(ps.entries, ps.n);
		return -1;
	}
	*entries = ps.entries;
	*n = ps.n;
	return 0;
}

void rp_regfile_free(rp_regfile_entry *entries, size_t n)
{
	if (!entries)
		return;
	for (size_t i = 0; i < n; i++)
		free_entry_fields(&entries[i]);
	free(entries);
}

/* ---- export ---- */

typedef struct exporter {
	rp_hive *h;
	rp_strbuf out;
	rp_err *err;
} exporter;

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return 1;
	return 0;
}

static void add_escaped(rp_strbuf *b, const char *s)
{
	rp_strbuf_add(b, "\"");
	for (; *s; s++) {
		char c[3] = {*s, 0, 0};
		if (*s == '\\' || *s == '"') {
			c[0] = '\\';
			c[1] = *s;
		}
		rp_strbuf_add(b, c);
	}
	rp_strbuf_add(b, "\"");
}

/* The UTF-8 text of a REG_SZ whose data is exactly that text in UTF-16LE plus a NUL unit, so
 * that "text" parses back to the same bytes; NULL when it is not. */
static char *exact_string(const uint8_t *data, size_t len)
{
	if (len < 2 || len % 2 || data[len - 2] || data[len - 1])
		return NULL;
	char *s = rp_utf16_to_utf8(data, len);
	size_t back_len;
	uint8_t *back = has_control(s) ? NULL : rp_utf8_to_utf16(s, &back_len);
	int same = back && back_len == len && !memcmp(back, data, len);
	free(back);
	if (!same) {
		free(s);
		return NULL;
	}
	return s;
}

static void add_value(rp_strbuf *b, const char *name, uint32_t type, const uint8_t *data,
		      size_t len)
{
	size_t line_start = b->len;
	if (*name)
		add_escaped(b, name);
	else
		rp_strbuf_add(b, "@");
	rp_strbuf_add(b, "=");
	char *text = type == RP_REG_SZ ? exact_string(data, len) : NULL;
	if (text) {
		add_escaped(b, text);
		free(text);
	} else if (type == RP_REG_DWORD && len == 4) {
		rp_strbuf_addf(
		    b, "dword:%08x",
		    (unsigned)(data[0] | data[1] << 8 | data[2] << 16 | (unsigned)data[3] << 24));
	} else {
		if (type == RP_REG_BINARY)
			rp_strbuf_add(b, "hex:");
		else
			rp_strbuf_addf(b, "hex(%x):", type);
		for (size_t i = 0; i < len; i++) {
			rp_strbuf_addf(b, i + 1 < len ? "%02x," : "%02x", data[i]);
			if (i + 1 < len && b->len - line_start >= HEX_WRAP) {
				rp_strbuf_add(b, "\\\r\n  ");
				line_start = b->len - 2;
			}
		}
	}
	rp_strbuf_add(b, "\r\n");
}

static int export_fail(exporter *ex, const char *path, const char *what, int e)
{
	char *shown = rp_escape(path);
	if (e)
		rp_fail(ex->err, RP_EXIT_UNUSABLE, "%s: cannot %s (%s); %s", shown, what,
			strerror(e), reg_damaged(e));
	else
		rp_fail(ex->err, RP_EXIT_PROBLEMS, "%s: cannot export: %s", shown, what);
	free(shown);
	return -1;
}

static int export_values(exporter *ex, hive_node_h node, const char *path)
{
	rp_hive *h = ex->h;
	errno = 0;
	hive_value_h *values = h->ops->values(h, node);
	if (!values)
		return export_fail(ex, path, "list the values", errno);
	int rc = 0;
	for (size_t i = 0; values[i] && rc == 0; i++) {
		errno = 0;
		char *name = h->ops->value_key(h, values[i]);
		hive_type type;
		size_t len = 0;
		char *data = name ? h->ops->value_value(h, values[i], &type, &len) : NULL;
		if (!name || (!data && (errno || len)))
			rc = export_fail(ex, path, "read a value", errno);
		else if (has_control(name))
			rc = export_fail(ex, path,
					 "a value name holds a control character that a .reg "
					 "file cannot carry",
					 0);
		else
			add_value(&ex->out, name, (uint32_t)type, (const uint8_t *)data, len);
		free(data);
		free(name);
	}
	free(values);
	return rc;
}

static int export_key(exporter *ex, hive_node_h node, const char *path, unsigned depth)
{
	if (depth > REG_MAX_DEPTH)
		return export_fail(ex, path, "keys nested deeper than 512 levels (a loop?)", 0);
	rp_strbuf_add(&ex->out, "\r\n[");
	rp_strbuf_add(&ex->out, path);
	rp_strbuf_add(&ex->out, "]\r\n");
	if (export_values(ex, node, path) < 0)
		return -1;
	errno = 0;
	hive_node_h *children = ex->h->ops->children(ex->h, node);
	if (!children)
		return export_fail(ex, path, "list the subkeys", errno);
	int rc = 0;
	for (size_t i = 0; children[i] && rc == 0; i++) {
		errno = 0;
		char *name = ex->h->ops->node_name(ex->h, children[i]);
		if (!name) {
			rc = export_fail(ex, path, "read a subkey name", errno);
		} else if (!*name || has_control(name) || strchr(name, '\\')) {
			rc = export_fail(ex, path,
					 "a subkey name is empty or holds a backslash or control "
					 "character that a .reg file cannot carry",
					 0);
		} else {
			char *child = rp_xasprintf("%s\\%s", path, name);
			rc = export_key(ex, children[i], child, depth + 1);
			free(child);
		}
		free(name);
	}
	free(children);
	return rc;
}

int rp_regfile_export(rp_hive *h, const char *key, const char *root_name, char **out, rp_err *err)
{
	hive_node_h node;
	if (reg_lookup_existing(h, key, &node, err) < 0)
		return -1;
	/* The top path as written by the caller, without empty components. */
	char *path = rp_xstrdup(root_name);
	const char *p = key, *start;
	size_t n;
	while ((n = reg_next_component(&p, &start)) != 0) {
		char *longer = rp_xasprintf("%s\\%.*s", path, (int)n, start);
		free(path);
		path = longer;
	}
	exporter ex = {.h = h, .err = err};
	rp_strbuf_add(&ex.out, HEADER_V5 "\r\n");
	int rc = export_key(&ex, node, path, 0);
	free(path);
	if (rc < 0) {
		free(ex.out.s);
		return -1;
	}
	rp_strbuf_add(&ex.out, "\r\n");
	*out = ex.out.s;
	return 0;
}
