/*
 * test_term.c — util/term.c: word wrapping (width, indent, runs of spaces, words wider than a
 * line cut after '\' or '/', UTF-8 never split) and the terminal tests on a file (width 80, no
 * colour, rp_term_paint writes no escape code).
 */
#include "test.h"
#include "util/term.h"

#include <stdlib.h>
#include <string.h>

/* rp_wrap into a string (malloc'd). */
static char *wrap(const char *text, size_t col, size_t indent, size_t width)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	rp_wrap(f, text, col, indent, width);
	fclose(f);
	return buf;
}

/* Longest line in columns (UTF-8 characters). */
static size_t longest(const char *s)
{
	size_t m = 0, c = 0;
	for (; *s; s++) {
		if (*s == '\n') {
			c = 0;
			continue;
		}
		c += ((unsigned char)*s & 0xC0) != 0x80;
		if (c > m)
			m = c;
	}
	return m;
}

int main(void)
{
	char *w = wrap("aaa bbb ccc ddd", 0, 2, 12);
	CHECK(strcmp(w, "aaa bbb ccc\n  ddd") == 0, "wraps at the width, continuation indented");
	free(w);

	w = wrap("PROBLEM  x", 0, 6, 80);
	CHECK(strcmp(w, "PROBLEM  x") == 0, "runs of spaces kept when the line fits");
	free(w);

	w = wrap("abc", 75, 6, 80);
	CHECK(strcmp(w, "abc") == 0, "starts at the given column");
	free(w);
	w = wrap("abcdefgh", 75, 6, 80);
	CHECK(strcmp(w, "\n      abcdefgh") == 0, "a word that does not fit goes to the next line");
	free(w);

	const char *key =
	    "key SYSTEM\\ControlSet001\\Services\\SharedAccess\\Parameters\\FirewallPolicy"
	    "\\FirewallRules\\RemoteDesktop-UserMode-In-TCP = 1";
	w = wrap(key, 0, 8, 40);
	CHECK(longest(w) <= 40, "a long registry path stays within 40 columns (%zu)", longest(w));
	CHECK(strstr(w, "Services\\\n        SharedAccess") != NULL,
	      "the path is cut after a backslash");
	free(w);

	char big[300];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	w = wrap(big, 0, 4, 50);
	CHECK(longest(w) <= 50 && strlen(w) == 299 + 6 * 5,
	      "a word without a cut point is cut hard");
	free(w);

	/* 60 two-byte characters: the cut never splits one. */
	char utf[200] = "";
	for (int i = 0; i < 60; i++)
		strcat(utf, "\xC3\xA9");
	w = wrap(utf, 0, 0, 25);
	int split = 0;
	for (char *p = w; *p; p++)
		split |= *p == '\n' && p > w && (unsigned char)p[-1] == 0xC3;
	CHECK(!split && longest(w) <= 25, "UTF-8 characters are never split");
	free(w);

	w = wrap("", 0, 0, 80);
	CHECK(strcmp(w, "") == 0, "empty text writes nothing");
	free(w);
	w = wrap("a   ", 0, 0, 80);
	CHECK(strcmp(w, "a") == 0, "trailing spaces dropped");
	free(w);

	FILE *f = tmpfile();
	CHECK(f && rp_term_width(f) == 80, "a file is 80 columns wide");
	CHECK(f && !rp_term_colour(f), "no colour into a file");
	rp_term_paint(f, RP_RED, "PROBLEM");
	rewind(f);
	char got[32] = "";
	CHECK(fgets(got, sizeof got, f) && strcmp(got, "PROBLEM") == 0,
	      "rp_term_paint writes no escape code into a file");
	fclose(f);
	TEST_DONE();
}
