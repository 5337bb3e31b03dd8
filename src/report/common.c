/* common.c — names shared by the text and JSON reports. */
#include "report/report.h"

const char *rp_status_name(rp_status s)
{
	static const char *names[] = {"ok", "problem", "fixed", "not-fixed", "skipped"};
	return s <= RP_SKIPPED ? names[s] : "?";
}

const char *rp_severity_name(rp_severity s)
{
	static const char *names[] = {"info", "warning", "error"};
	return s <= RP_ERROR ? names[s] : "?";
}
