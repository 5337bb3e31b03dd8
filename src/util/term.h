/*
 * term.h — what the terminal rdprescue prints to can take: its width (80 when it is not a
 * terminal), whether colour is wanted (a terminal, NO_COLOR unset, TERM not "dumb"), and
 * word wrapping at that width.  Escape codes are only ever written where rp_term_colour says
 * yes, so they never reach a file or a pipe.
 */
#ifndef RP_TERM_H
#define RP_TERM_H

#include <stddef.h>
#include <stdio.h>

/* 1 when out is a terminal. */
int rp_term_isatty(FILE *out);

/* Columns of out: the terminal's width (40..500); 80 on a file or pipe (and a terminal that
 * does not say its width). */
size_t rp_term_width(FILE *out);

/* 1 when colour may be written to out: a terminal, NO_COLOR unset or empty, TERM not dumb. */
int rp_term_colour(FILE *out);

/* SGR colours for rp_term_paint. */
enum { RP_BOLD = 1, RP_RED = 31, RP_GREEN = 32, RP_YELLOW = 33, RP_CYAN = 36 };

/* Writes s, in colour sgr when rp_term_colour(out), else as it is. */
void rp_term_paint(FILE *out, int sgr, const char *s);

/* Writes text word-wrapped: the cursor is at column col; continuation lines start with indent
 * spaces; no line goes past width unless one word is wider than width - indent, which is then
 * cut after a '\' or '/' where it can be, else hard.  Runs of spaces inside the text are kept
 * unless a line breaks there.  No trailing newline is written. */
void rp_wrap(FILE *out, const char *text, size_t col, size_t indent, size_t width);

#endif
