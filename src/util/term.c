/*
 * term.c — terminal width, colour and word wrapping (see term.h).
 */
#include "util/term.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int rp_term_isatty(FILE *out)
{
	return out && isatty(fileno(out));
}

size_t rp_term_width(FILE *out)
{
	struct winsize ws;
	if (rp_term_isatty(out) && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col > 500 ? 500 : ws.ws_col;
	return 80;
}

int rp_term_colour(FILE *out)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	if (nc && *nc)
		return 0;
	if (term && strcmp(term, "dumb") == 0)
		return 0;
	return rp_term_isatty(out);
}

void rp_term_paint(FILE *out, int sgr, const char *s)
{
	if (rp_term_colour(out))
		fprintf(out, "\033[%dm%s\033[0m", sgr, s);
	else
		fputs(s, out);
}

/* Where to cut a word of n bytes that must fit in room columns: after the last '\' or '/'
 * within room (but not in its first quarter), else at room.  Never splits a UTF-8 sequence. */
static size_t cut_at(const char *w, size_t n, size_t room)
{
	if (n <= room)
		return n;
	for (size_t i = room; i > room / 4; i--)
		if (w[i - 1] == '\\' || w[i - 1] == '/')
			return i;
	size_t i = room;
	while (i > 1 && ((unsigned char)w[i] & 0xC0) == 0x80)
		i--;
	return i;
}

/* Columns a run of UTF-8 bytes takes (one per character; escapes are plain ASCII). */
static size_t cols(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

void rp_wrap(FILE *out, const char *text, size_t col, size_t indent, size_t width)
{
	if (indent + 10 > width)
		indent = width > 10 ? width - 10 : 0;
	const char *p = text;
	while (*p) {
		size_t sp = strspn(p, " ");
		const char *w = p + sp;
		size_t n = strcspn(w, " ");
		if (!n) /* trailing spaces */
			break;
		if (col + sp + cols(w, n) <= width) {
			fwrite(p, 1, sp + n, out);
			col += sp + cols(w, n);
			p = w + n;
			continue;
		}
		/* Break before the word, unless the line holds nothing but its indent yet. */
		if (col > indent) {
			fprintf(out, "\n%*s", (int)indent, "");
			col = indent;
		} else if (sp) {
			fwrite(p, 1, sp, out);
			col += sp;
		}
		while (n) {
			size_t room = width > col ? width - col : 1;
			size_t k = cols(w, n) <= room ? n : cut_at(w, n, room);
			fwrite(w, 1, k, out);
			col += cols(w, k);
			w += k;
			n -= k;
			if (n) {
				fprintf(out, "\n%*s", (int)indent, "");
				col = indent;
			}
		}
		p = w;
	}
}
