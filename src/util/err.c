/* err.c — see err.h. */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int rp_fail(rp_err *err, int exit_code, const char *fmt, ...)
{
	if (!err || err->msg[0])
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	err->exit_code = exit_code;
	return -1;
}

void rp_err_prefix(rp_err *err, const char *fmt, ...)
{
	if (!err)
		return;
	char head[512], old[sizeof err->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	/* A message cut at 1 KiB is still one useful line; the return value is not needed. */
	if (snprintf(err->msg, sizeof err->msg, "%s: %s", head, old) < 0)
		err->msg[0] = 0;
}

void rp_err_suffix(rp_err *err, const char *fmt, ...)
{
	if (!err || !err->msg[0])
		return;
	size_t n = strlen(err->msg);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof err->msg - n, fmt, ap);
	va_end(ap);
}

void rp_err_clear(rp_err *err)
{
	if (err) {
		err->exit_code = 0;
		err->msg[0] = 0;
	}
}
