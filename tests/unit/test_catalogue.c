/*
 * test_catalogue.c — the catalogue (src/checks/catalogue.def) against itself and the docs:
 * ids unique and well formed, every entry complete, README.md's table row for each check is
 * "| ID | LOOKS_AT |" word for word, docs/checks.md has a section and docs/rdprescue.1.md a
 * line naming it.  (t_docs checks the same three files against `rdprescue --help`.)
 */
#include "checks/checks.h"
#include "test.h"
#include "util/file.h"

#include <ctype.h>
#include <string.h>

/* The file as a NUL-terminated string; NULL when it cannot be read. */
static char *read_text(const char *path)
{
	uint8_t *data;
	size_t len;
	rp_err err = {0};
	if (rp_file_read(path, &data, &len, 1, &err) < 0)
		return NULL;
	char *s = malloc(len + 1);
	memcpy(s, data, len);
	s[len] = 0;
	free(data);
	return s;
}

/* A line of text starting with prefix (at the start of a line) that also holds needle. */
static int has_line(const char *text, const char *prefix, const char *needle)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (strncmp(p, prefix, strlen(prefix)) != 0)
			continue;
		char *line = strndup(p, n);
		int hit = strstr(line, needle) != NULL;
		free(line);
		if (hit)
			return 1;
	}
	return 0;
}

static int well_formed(const char *id)
{
	const char *dot = strchr(id, '.');
	if (!dot || dot == id || !dot[1] || strchr(dot + 1, '.'))
		return 0;
	for (const char *p = id; *p; p++)
		if (!islower((unsigned char)*p) && *p != '.' && *p != '_')
			return 0;
	return 1;
}

int main(void)
{
	CHECK(rp_ncheck > 0, "the catalogue has checks (%zu)", rp_ncheck);
	for (size_t i = 0; i < rp_ncheck; i++) {
		const rp_check *c = &rp_checks[i];
		CHECK(well_formed(c->id), "%s: id is family.name in lower case", c->id);
		CHECK(c->run && c->title[0] && c->looks_at[0], "%s: entry point, title, looks-at",
		      c->id);
		CHECK(rp_check_find(c->id) == c, "%s: found by its id, once", c->id);
	}
	char *readme = read_text("README.md"), *checks = read_text("docs/checks.md"),
	     *man = read_text("docs/rdprescue.1.md");
	if (NEED(readme && checks && man, "README.md, docs/checks.md, docs/rdprescue.1.md read")) {
		for (size_t i = 0; i < rp_ncheck; i++) {
			const rp_check *c = &rp_checks[i];
			char row[1024], head[128], item[128];
			snprintf(row, sizeof row, "| %s | %s |", c->id, c->looks_at);
			snprintf(head, sizeof head, "%s", c->id);
			snprintf(item, sizeof item, "`%s`", c->id);
			CHECK(has_line(readme, row, ""),
			      "README.md: the row of %s is the catalogue's", c->id);
			CHECK(has_line(checks, "## ", head), "docs/checks.md: a section on %s",
			      c->id);
			CHECK(has_line(man, "- ", item), "docs/rdprescue.1.md: an item on %s",
			      c->id);
		}
	}
	free(readme);
	free(checks);
	free(man);
	TEST_DONE();
}
