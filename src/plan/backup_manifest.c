/*
 * backup_manifest.c — manifest.json of the backup archive through jansson (see
 * backup_manifest.h and docs/backup-format.md).
 *
 * Reading is strict on purpose: undo writes what this file names, and the archive may have been
 * crafted, so every key is known, every type checked, every hash 64 lower-case hex digits and
 * every path a relative volume path that cannot climb out of the volume.
 */
#include "plan/backup_manifest.h"
#include "util/hash.h"
#include "util/text.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const action_names[] = {
    [RP_BACKUP_REPLACE] = "replace",	   [RP_BACKUP_SD] = "sd",
    [RP_BACKUP_QUARANTINE] = "quarantine", [RP_BACKUP_KEEP] = "keep",
    [RP_BACKUP_CREATE] = "create",
};
#define N_ACTIONS (sizeof action_names / sizeof action_names[0])

static const char *const top_keys[] = {"schema",       "id",	 "kind",    "created",
				       "tool_version", "target", "install", "entries"};
/* Keys a manifest may leave out (archives written before they existed). */
static const char *const optional_top_keys[] = {"checks"};
static const char *const entry_keys[] = {"n",	      "path",	       "action",       "had_data",
					 "size",      "sha256_before", "sha256_after", "sd",
					 "sd_sha256", "sddl_before",   "sddl_after"};
#define N_KEYS(a) (sizeof a / sizeof a[0])

static int say(char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int say(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
	return -1;
}

int rp_backup_check_id_ok(const char *id, size_t len)
{
	if (!id || len == 0 || len > RP_BACKUP_MAX_CHECK_ID)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return -1;
	}
	return 0;
}

int rp_backup_path_ok(const char *path, size_t len)
{
	if (!path || len == 0 || memchr(path, '\0', len) || memchr(path, '\\', len))
		return -1;
	const char *p = path, *end = path + len;
	while (p <= end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *stop = slash ? slash : end;
		size_t n = (size_t)(stop - p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return -1;
		p = stop + 1;
	}
	return 0;
}

const char *rp_backup_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static int hex64_ok(const char *s)
{
	if (!s || strlen(s) != 64)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

/* ---- building ---- */

/* json_string() refuses invalid UTF-8; NULL stays JSON null. */
static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Sets key to val (consumed); a NULL val (a failed constructor) or a failed set counts as failure.
 */
static int put(json_t *obj, const char *key, json_t *val)
{
	return val && json_object_set_new(obj, key, val) == 0 ? 0 : -1;
}

static json_t *build_entry(const rp_backup_entry *e, size_t n, char *why, size_t why_size)
{
	if ((unsigned)e->action >= N_ACTIONS) {
		say(why, why_size, "entry %zu has an unknown action %d", n, (int)e->action);
		return NULL;
	}
	if (!e->path || rp_backup_path_ok(e->path, strlen(e->path))) {
		char *shown = rp_escape(e->path ? e->path : "(none)");
		say(why, why_size, "entry %zu: \"%s\" is not a relative '/'-separated volume path",
		    n, shown);
		free(shown);
		return NULL;
	}
	if (e->had_data &&
	    (!hex64_ok(e->sha256_before) || (uint64_t)e->len > RP_BACKUP_MAX_MEMBER)) {
		say(why, why_size,
		    "entry %zu (%s): no SHA-256 of the original or larger than 4 GiB", n, e->path);
		return NULL;
	}
	if (e->sha256_after[0] && !hex64_ok(e->sha256_after)) {
		say(why, why_size, "entry %zu (%s): sha256_after is not 64 hex digits", n, e->path);
		return NULL;
	}
	if (e->sd && (e->sd_len == 0 || e->sd_len > RP_BACKUP_MAX_SD)) {
		say(why, why_size, "entry %zu (%s): security descriptor of %zu bytes", n, e->path,
		    e->sd_len);
		return NULL;
	}
	char sd_hash[65] = "";
	if (e->sd)
		rp_sha256_hex(e->sd, e->sd_len, sd_hash);
	json_t *o = json_object();
	int bad = !o;
	bad |= put(o, "n", json_integer((json_int_t)n));
	bad |= put(o, "path", json_string(e->path));
	bad |= put(o, "action", json_string(action_names[e->action]));
	bad |= put(o, "had_data", json_boolean(e->had_data));
	bad |= put(o, "size", json_integer(e->had_data ? (json_int_t)e->len : 0));
	bad |= put(o, "sha256_before", e->had_data ? json_string(e->sha256_before) : json_null());
	bad |= put(o, "sha256_after", string_or_null(e->sha256_after[0] ? e->sha256_after : NULL));
	bad |= put(o, "sd", json_boolean(e->sd != NULL));
	bad |= put(o, "sd_sha256", string_or_null(e->sd ? sd_hash : NULL));
	bad |= put(o, "sddl_before", string_or_null(e->sddl_before));
	bad |= put(o, "sddl_after", string_or_null(e->sddl_after));
	if (bad) {
		say(why, why_size, "entry %zu: path or SDDL is not valid UTF-8", n);
		json_decref(o);
		return NULL;
	}
	return o;
}

char *rp_backup_manifest_build(const rp_backup *b, char *why, size_t why_size)
{
	if (!b->id || !b->kind || !b->created) {
		say(why, why_size, "the backup has no id, kind or created time");
		return NULL;
	}
	if (b->nentries > RP_BACKUP_MAX_ENTRIES) {
		say(why, why_size, "%zu entries is more than the %d a backup holds", b->nentries,
		    RP_BACKUP_MAX_ENTRIES);
		return NULL;
	}
	json_t *install = json_null();
	if (b->install) {
		json_error_t jerr;
		json_decref(install);
		install = json_loads(b->install, 0, &jerr);
		if (!json_is_object(install)) {
			json_decref(install);
			say(why, why_size, "the installation description is not a JSON object%s%s",
			    install ? "" : ": ", install ? "" : jerr.text);
			return NULL;
		}
	}
	if (b->nchecks > RP_BACKUP_MAX_CHECKS) {
		say(why, why_size, "%zu checks is more than the %d a backup names", b->nchecks,
		    RP_BACKUP_MAX_CHECKS);
		return NULL;
	}
	for (size_t i = 0; i < b->nchecks; i++)
		if (!b->checks || rp_backup_check_id_ok(b->checks[i], strlen(b->checks[i]))) {
			say(why, why_size, "check %zu is not a check id", i);
			return NULL;
		}
	json_t *root = json_object(), *entries = json_array();
	int bad = !root || !entries;
	bad |= put(root, "schema", json_string(RP_BACKUP_SCHEMA));
	bad |= put(root, "id", json_string(b->id));
	bad |= put(root, "kind", json_string(b->kind));
	bad |= put(root, "created", json_string(b->created));
	bad |= put(root, "tool_version", string_or_null(b->tool_version));
	bad |= put(root, "target", string_or_null(b->target));
	bad |= put(root, "install", install);
	if (b->checks) {
		json_t *checks = json_array();
		bad |= put(root, "checks", checks);
		for (size_t i = 0; !bad && i < b->nchecks; i++)
			bad |= json_array_append_new(checks, json_string(b->checks[i]));
	}
	bad |= put(root, "entries", entries);
	if (bad) {
		json_decref(root);
		say(why, why_size, "id, kind, created, tool_version or target is not valid UTF-8");
		return NULL;
	}
	for (size_t i = 0; i < b->nentries; i++) {
		json_t *e = build_entry(&b->entries[i], i, why, why_size);
		if (!e || json_array_append_new(entries, e)) {
			json_decref(root);
			if (e)
				say(why, why_size, "out of memory building manifest.json");
			return NULL;
		}
	}
	char *text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (!text)
		say(why, why_size, "out of memory building manifest.json");
	return text;
}

/* ---- reading ---- */

static int keys_known(json_t *obj, const char *const *keys, size_t nkeys,
		      const char *const *optional, size_t noptional, const char **unknown)
{
	const char *key;
	json_t *val;
	json_object_foreach(obj, key, val)
	{
		size_t k = 0, o = 0;
		while (k < nkeys && strcmp(key, keys[k]))
			k++;
		while (k == nkeys && o < noptional && strcmp(key, optional[o]))
			o++;
		if (k == nkeys && o == noptional) {
			*unknown = key;
			return 0;
		}
	}
	for (size_t k = 0; k < nkeys; k++)
		if (!json_object_get(obj, keys[k])) {
			*unknown = keys[k];
			return 0;
		}
	return 1;
}

/* A JSON string without embedded NUL, copied; *out stays NULL for JSON null when nullable. */
static int get_string(json_t *obj, const char *key, int nullable, char **out)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (nullable && json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	*out = rp_xstrdup(json_string_value(v));
	return 0;
}

/* A hash field: 64 lower-case hex digits, or null when allowed. */
static int get_hash(json_t *obj, const char *key, int present, char out[65])
{
	json_t *v = json_object_get(obj, key);
	out[0] = 0;
	if (!present)
		return json_is_null(v) ? 0 : -1;
	if (!json_is_string(v) || !hex64_ok(json_string_value(v)))
		return -1;
	memcpy(out, json_string_value(v), 65);
	return 0;
}

static int read_entry(json_t *o, size_t n, rp_backup_entry *e, rp_backup_expect *x, char *why,
		      size_t why_size)
{
	const char *key = NULL;
	if (!json_is_object(o))
		return say(why, why_size, "manifest.json entry %zu is not an object", n);
	if (!keys_known(o, entry_keys, N_KEYS(entry_keys), NULL, 0, &key)) {
		char *shown = rp_escape(key);
		say(why, why_size, "manifest.json entry %zu: unknown or missing field \"%s\"", n,
		    shown);
		free(shown);
		return -1;
	}
	json_t *jn = json_object_get(o, "n"), *path = json_object_get(o, "path");
	json_t *action = json_object_get(o, "action"), *size = json_object_get(o, "size");
	if (!json_is_integer(jn) || json_integer_value(jn) != (json_int_t)n)
		return say(why, why_size, "manifest.json entry %zu: \"n\" is not %zu", n, n);
	if (!json_is_string(path) ||
	    rp_backup_path_ok(json_string_value(path), json_string_length(path))) {
		char *shown = rp_escape(json_is_string(path) ? json_string_value(path) : "(none)");
		say(why, why_size,
		    "manifest.json entry %zu: path \"%s\" is not a relative volume path "
		    "(no \"..\", \".\", empty component, backslash or leading '/')",
		    n, shown);
		free(shown);
		return -1;
	}
	e->path = rp_xstrdup(json_string_value(path));
	size_t a = 0;
	while (json_is_string(action) && a < N_ACTIONS &&
	       strcmp(json_string_value(action), action_names[a]))
		a++;
	if (!json_is_string(action) || a == N_ACTIONS)
		return say(why, why_size, "manifest.json entry %zu (%s): unknown action", n,
			   e->path);
	e->action = (rp_backup_action)a;
	json_t *had = json_object_get(o, "had_data"), *sd = json_object_get(o, "sd");
	if (!json_is_boolean(had) || !json_is_boolean(sd))
		return say(why, why_size,
			   "manifest.json entry %zu (%s): had_data or sd is not true "
			   "or false",
			   n, e->path);
	e->had_data = json_is_true(had);
	x->has_sd = json_is_true(sd);
	if (!json_is_integer(size) || json_integer_value(size) < 0 ||
	    (uint64_t)json_integer_value(size) > RP_BACKUP_MAX_MEMBER ||
	    (!e->had_data && json_integer_value(size) != 0))
		return say(why, why_size,
			   "manifest.json entry %zu (%s): size is not a byte count up to 4 GiB "
			   "(0 when had_data is false)",
			   n, e->path);
	e->len = (size_t)json_integer_value(size);
	if (get_hash(o, "sha256_before", e->had_data, e->sha256_before) ||
	    get_hash(o, "sd_sha256", x->has_sd, x->sd_sha256))
		return say(why, why_size,
			   "manifest.json entry %zu (%s): sha256_before or sd_sha256 is not 64 hex "
			   "digits (or not null when there is no data)",
			   n, e->path);
	json_t *after = json_object_get(o, "sha256_after");
	if (get_hash(o, "sha256_after", !json_is_null(after), e->sha256_after))
		return say(why, why_size,
			   "manifest.json entry %zu (%s): sha256_after is not 64 hex "
			   "digits or null",
			   n, e->path);
	if (get_string(o, "sddl_before", 1, &e->sddl_before) ||
	    get_string(o, "sddl_after", 1, &e->sddl_after))
		return say(why, why_size,
			   "manifest.json entry %zu (%s): sddl_before or sddl_after is not a "
			   "string or null",
			   n, e->path);
	return 0;
}

/* The optional "checks": absent (NULL, not recorded), or an array of at most
 * RP_BACKUP_MAX_CHECKS distinct check ids. */
static int read_checks(json_t *checks, rp_backup *b, char *why, size_t why_size)
{
	if (!checks)
		return 0;
	if (!json_is_array(checks) || json_array_size(checks) > RP_BACKUP_MAX_CHECKS)
		return say(why, why_size, "manifest.json: checks is not an array of at most %d",
			   RP_BACKUP_MAX_CHECKS);
	size_t n = json_array_size(checks);
	b->checks = rp_xcalloc(n ? n : 1, sizeof *b->checks);
	for (size_t i = 0; i < n; i++) {
		json_t *id = json_array_get(checks, i);
		if (!json_is_string(id) ||
		    rp_backup_check_id_ok(json_string_value(id), json_string_length(id)))
			return say(why, why_size,
				   "manifest.json: checks[%zu] is not a check id (a-z, 0-9, '.', "
				   "'_', '-', at most %d characters)",
				   i, RP_BACKUP_MAX_CHECK_ID);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(b->checks[k], json_string_value(id)))
				return say(why, why_size, "manifest.json: checks names %s twice",
					   b->checks[k]);
		b->checks[i] = rp_xstrdup(json_string_value(id));
		b->nchecks = i + 1;
	}
	return 0;
}

static int read_root(json_t *root, rp_backup *b, rp_backup_expect **expect, char *why,
		     size_t why_size)
{
	const char *key = NULL;
	if (!json_is_object(root))
		return say(why, why_size, "manifest.json is not a JSON object");
	json_t *schema = json_object_get(root, "schema");
	if (!json_is_string(schema) || strcmp(json_string_value(schema), RP_BACKUP_SCHEMA)) {
		char *shown = rp_escape(json_is_string(schema) ? json_string_value(schema) : "");
		say(why, why_size, "manifest.json has schema \"%s\", not \"%s\"", shown,
		    RP_BACKUP_SCHEMA);
		free(shown);
		return -1;
	}
	/* The id first, so that every later complaint can name the backup. */
	if (get_string(root, "id", 0, &b->id))
		return say(why, why_size, "manifest.json: id is not a string");
	if (!keys_known(root, top_keys, N_KEYS(top_keys), optional_top_keys,
			N_KEYS(optional_top_keys), &key)) {
		char *shown = rp_escape(key);
		say(why, why_size, "manifest.json: unknown or missing field \"%s\"", shown);
		free(shown);
		return -1;
	}
	if (get_string(root, "kind", 0, &b->kind) || get_string(root, "created", 0, &b->created) ||
	    get_string(root, "tool_version", 1, &b->tool_version) ||
	    get_string(root, "target", 1, &b->target))
		return say(why, why_size,
			   "manifest.json: id, kind, created, tool_version or target "
			   "is not a string");
	json_t *install = json_object_get(root, "install");
	if (json_is_object(install)) {
		b->install = json_dumps(install, JSON_COMPACT);
		if (!b->install)
			return say(why, why_size, "out of memory reading manifest.json");
	} else if (!json_is_null(install)) {
		return say(why, why_size, "manifest.json: install is not an object or null");
	}
	if (read_checks(json_object_get(root, "checks"), b, why, why_size) < 0)
		return -1;
	json_t *entries = json_object_get(root, "entries");
	if (!json_is_array(entries) || json_array_size(entries) > RP_BACKUP_MAX_ENTRIES)
		return say(why, why_size, "manifest.json: entries is not an array of at most %d",
			   RP_BACKUP_MAX_ENTRIES);
	size_t n = json_array_size(entries);
	b->entries = rp_xcalloc(n, sizeof *b->entries);
	b->nentries = n;
	*expect = rp_xcalloc(n, sizeof **expect);
	for (size_t i = 0; i < n; i++)
		if (read_entry(json_array_get(entries, i), i, &b->entries[i], &(*expect)[i], why,
			       why_size))
			return -1;
	return 0;
}

int rp_backup_manifest_read(const char *json, size_t len, rp_backup *b, rp_backup_expect **expect,
			    char *why, size_t why_size)
{
	json_error_t jerr;
	*expect = NULL;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		char *shown = rp_escape(jerr.text);
		say(why, why_size, "manifest.json is not valid JSON (line %d: %s)", jerr.line,
		    shown);
		free(shown);
		return -1;
	}
	int rc = read_root(root, b, expect, why, why_size);
	json_decref(root);
	return rc;
}
