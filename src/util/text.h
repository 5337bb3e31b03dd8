/*
 * text.h — strings from the disk.
 *
 * Everything read from the disk (key names, value data, file names, certificate subjects) is
 * untrusted: escape it before it reaches a terminal.  UTF-16LE <-> UTF-8 conversion for
 * registry and NTFS names, and Windows-style case-insensitive comparison of ASCII/UTF-8.
 */
#ifndef RP_TEXT_H
#define RP_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Copy of s safe for a terminal: control characters, DEL, invalid UTF-8 and C1 controls become
 * \xNN escapes; backslash stays as is.  Returns malloc'd memory (never NULL: aborts on OOM). */
char *rp_escape(const char *s);

/* UTF-16LE (len bytes, stops at a NUL unit) to malloc'd UTF-8.  Lone surrogates become U+FFFD. */
char *rp_utf16_to_utf8(const uint8_t *u16, size_t len);

/* UTF-8 to malloc'd UTF-16LE with a terminating NUL unit; *out_len counts bytes including it.
 * Returns NULL on invalid UTF-8. */
uint8_t *rp_utf8_to_utf16(const char *s, size_t *out_len);

/* Case-insensitive comparison as Windows does for the ASCII range (enough for every name the
 * tool looks up itself). */
int rp_strcasecmp(const char *a, const char *b);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void rp_hex(const uint8_t *b, size_t n, char *out);

/* Memory helpers that abort on exhaustion: the tool cannot do anything useful without memory,
 * and a half-built plan must never be executed. */
void *rp_xmalloc(size_t n);
void *rp_xcalloc(size_t n, size_t size);
void *rp_xrealloc(void *p, size_t n);
char *rp_xstrdup(const char *s);
char *rp_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The one way to grow an array: returns p with room for at least need elements of size bytes,
 * *cap updated (doubled, from 16); p unchanged when it has room.  Aborts on exhaustion or on a
 * size that overflows. */
void *rp_grow(void *p, size_t *cap, size_t need, size_t size);

/* A growing NUL-terminated string: rp_strbuf b = {0}; rp_strbuf_add(&b, "..."); then b.s
 * (malloc'd; NULL while nothing was added). */
typedef struct rp_strbuf {
	char *s;
	size_t len, cap;
} rp_strbuf;

void rp_strbuf_add(rp_strbuf *b, const char *s);
void rp_strbuf_addf(rp_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
