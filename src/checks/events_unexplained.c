/*
 * events_unexplained.c — what the machine's own event logs say about the findings.
 *
 *  - rp_events_cite (run after the checks): each problem finding gets the events that confirm
 *    it — "Windows logged this: Schannel 36870, 14 times, last 2026-03-02 04:12".  Which event
 *    confirms which check is the rule table's (evtx/rules.c): Schannel 36870 and RCM 1057/1058
 *    -> keys.* and cert.rdp; SCM 7000-7034 naming TermService or a service it needs ->
 *    rdp.services (rdp.firewall for the firewall's services); 7040 for those services says who
 *    changed the start type and when.
 *  - events.unexplained (last in the catalogue): an RDP-related failure logged during the last
 *    boot that no check explains — every check it points to ran and found nothing — is a
 *    finding of its own, with the event and what it usually means.  A kernel driver installed
 *    (7045) in the day before the last boot or since is named as a warning.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_TICKS (86400ULL * 10000000ULL)

/* SCM events about the firewall's services point to rdp.firewall as well. */
static int firewall_service(const char *s)
{
	static const char *const fw[] = {
	    "MpsSvc", "Windows Firewall",      "Windows Defender Firewall",
	    "BFE",    "Base Filtering Engine", "mpsdrv"};
	for (size_t i = 0; s && i < sizeof fw / sizeof fw[0]; i++)
		if (rp_strcasecmp(fw[i], s) == 0)
			return 1;
	return 0;
}

/* The events that can confirm a finding: RDP-related failures, and start-type changes of a
 * service RDP needs. */
static int citable(const rp_event *e)
{
	if (rp_event_is_failure(e))
		return 1;
	const char *svc = rp_event_service(e);
	return e->id == 7040 && svc && rp_ev_rdp_service(svc) && e->rule->check[0];
}

/* Same kind of event: same rule, same service (for SCM). */
static int same_kind(const rp_event *a, const rp_event *b)
{
	if (a->rule != b->rule)
		return 0;
	const char *sa = rp_event_service(a), *sb = rp_event_service(b);
	return !sa || !sb ? sa == sb : rp_strcasecmp(sa, sb) == 0;
}

/* "Schannel 36870", "Service Control Manager 7023 (TermService)".  malloc'd. */
static char *event_name(const rp_event *e)
{
	const char *svc = rp_event_service(e);
	return svc ? rp_xasprintf("%s %u (%s)", e->rule->shortname, e->id, svc)
		   : rp_xasprintf("%s %u", e->rule->shortname, e->id);
}

/* Calls fn(i = index of the last event of its kind, count) once per kind of citable event. */
typedef void (*kind_fn)(rp_scan *scan, size_t last, size_t count, void *ctx);

static void for_each_kind(rp_scan *scan, kind_fn fn, void *ctx)
{
	const rp_events *ev = scan->events;
	for (size_t i = 0; i < ev->n; i++) {
		const rp_event *e = &ev->ev[i];
		if (!citable(e))
			continue;
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = citable(&ev->ev[j]) && same_kind(&ev->ev[j], e);
		if (seen)
			continue;
		size_t count = 0, last = i;
		for (size_t j = i; j < ev->n; j++)
			if (citable(&ev->ev[j]) && same_kind(&ev->ev[j], e)) {
				count++;
				last = j;
			}
		fn(scan, last, count, ctx);
	}
}

/* Does the comma-separated list hold id? */
static int in_list(const char *list, const char *id)
{
	size_t n = strlen(id);
	for (const char *p = list; p && *p;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (len == n && strncmp(p, id, n) == 0)
			return 1;
		p = c ? c + 1 : NULL;
	}
	return 0;
}

/* The checks an event points to, as a list ("rdp.services,rdp.firewall").  malloc'd. */
static char *checks_of(const rp_event *e)
{
	const char *svc = rp_event_service(e);
	if (svc && firewall_service(svc))
		return rp_xasprintf("%s,rdp.firewall", e->rule->check);
	return rp_xstrdup(e->rule->check);
}

/* Does the finding name the service (summary, or evidence under Services\<key>)? */
static int names_service(const rp_finding *f, const char *key)
{
	if (strcasestr(f->summary, key))
		return 1;
	char *part = rp_xasprintf("\\Services\\%s", key);
	size_t n = strlen(part);
	int found = 0;
	for (size_t k = 0; k < f->nevidence && !found; k++) {
		const char *ek = f->evidence[k].key;
		const char *at = ek ? strcasestr(ek, part) : NULL;
		found = at && (at[n] == 0 || at[n] == '\\');
	}
	free(part);
	return found;
}

/* An event naming a service confirms the findings about that service; any other event the
 * first problem finding of each check it points to. */
static void cite_kind(rp_scan *scan, size_t last, size_t count, void *ctx)
{
	(void)ctx;
	const rp_event *e = &scan->events->ev[last];
	char *checks = checks_of(e);
	char *name = event_name(e);
	const char *svc = rp_ev_service_key(rp_event_service(e));
	char *cited = rp_xstrdup(",");
	for (size_t i = 0; i < scan->nfindings; i++) {
		rp_finding *f = &scan->findings[i];
		if (f->status != RP_PROBLEM || !in_list(checks, f->check))
			continue;
		if (svc ? !names_service(f, svc) : in_list(cited, f->check))
			continue;
		char *more = rp_xasprintf("%s%s,", cited, f->check);
		free(cited);
		cited = more;
		int dup = 0;
		for (size_t k = 0; k < f->ncites && !dup; k++)
			dup = strcmp(f->cites[k].event, name) == 0;
		if (dup)
			continue;
		f->cites = rp_xrealloc(f->cites, (f->ncites + 1) * sizeof *f->cites);
		rp_cite *c = &f->cites[f->ncites++];
		memset(c, 0, sizeof *c);
		c->event = rp_xstrdup(name);
		c->count = count;
		char t[48];
		rp_ev_time(e->filetime, 1, t, sizeof t);
		/* "2026-03-02T04:12:05.0000000Z" -> "2026-03-02T04:12:05Z" */
		snprintf(c->last, sizeof c->last, "%.19sZ", t);
		c->text = rp_event_text(e);
	}
	free(cited);
	free(name);
	free(checks);
}

void rp_events_cite(rp_scan *scan)
{
	if (scan->events && scan->events->n)
		for_each_kind(scan, cite_kind, NULL);
}

typedef struct unexplained_ctx {
	size_t boot; /* first event of the last boot */
	size_t found;
} unexplained_ctx;

/* A check ran (it has a finding) and found a problem / found nothing. */
static void check_state(const rp_scan *scan, const char *id, int *ran, int *problem)
{
	*ran = *problem = 0;
	for (size_t i = 0; i < scan->nfindings; i++)
		if (strcmp(scan->findings[i].check, id) == 0) {
			*ran = 1;
			*problem |= scan->findings[i].status == RP_PROBLEM;
		}
}

static void unexplained_kind(rp_scan *scan, size_t last, size_t count, void *vctx)
{
	unexplained_ctx *ctx = vctx;
	const rp_event *e = &scan->events->ev[last];
	if (!rp_event_is_failure(e) || last < ctx->boot)
		return;
	char *checks = checks_of(e);
	int all_ran = 1, any_problem = 0;
	for (char *save = NULL, *id = strtok_r(checks, ",", &save); id;
	     id = strtok_r(NULL, ",", &save)) {
		int ran, problem;
		check_state(scan, id, &ran, &problem);
		all_ran &= ran;
		any_problem |= problem;
	}
	free(checks);
	if (!all_ran || any_problem)
		return;
	char *name = event_name(e), *text = rp_event_text(e);
	char t[48];
	rp_ev_time(e->filetime, 0, t, sizeof t);
	char *summary = rp_xasprintf("Windows logged an RDP failure no check explains: %s, %zu "
				     "time%s, last %.16s",
				     name, count, count == 1 ? "" : "s", t);
	/* The event's words hold disk strings: they go in the citation (escaped when printed),
	 * never in the explanation. */
	char *target = rp_target_shown(scan);
	char *explain = rp_xasprintf(
	    "Windows logged an RDP-related failure (below, with what it usually means). The "
	    "checks this event points to (%s) found nothing wrong, so the cause is outside what "
	    "rdprescue can see or repair offline; 'rdprescue events %s' shows the timeline "
	    "around it.",
	    e->rule->check, target);
	free(target);
	rp_finding *f = rp_finding_add(scan, rp_id_events_unexplained, RP_PROBLEM, RP_WARNING,
				       summary, explain);
	f->cites = rp_xcalloc(1, sizeof *f->cites);
	f->ncites = 1;
	f->cites[0].event = name;
	f->cites[0].count = count;
	char iso[48];
	rp_ev_time(e->filetime, 1, iso, sizeof iso);
	snprintf(f->cites[0].last, sizeof f->cites[0].last, "%.19sZ", iso);
	f->cites[0].text = text;
	free(summary);
	free(explain);
	ctx->found++;
}

/* 7045 of a kernel driver in the day before the last boot or since. */
static void recent_drivers(rp_scan *scan, size_t boot)
{
	const rp_events *ev = scan->events;
	uint64_t from = ev->ev[boot].filetime > DAY_TICKS ? ev->ev[boot].filetime - DAY_TICKS : 0;
	for (size_t i = 0; i < ev->n; i++) {
		const rp_event *e = &ev->ev[i];
		if (e->id != 7045 || e->filetime < from || e->nstrings < 3 ||
		    !strstr(e->strings[2], "driver"))
			continue;
		char t[48];
		rp_ev_time(e->filetime, 0, t, sizeof t);
		char *summary =
		    rp_xasprintf("A driver was installed right before the outage: %s "
				 "(%s) on %.16s",
				 e->strings[0], e->nstrings > 1 ? e->strings[1] : "?", t);
		rp_finding_add(
		    scan, rp_id_events_unexplained, RP_OK, RP_WARNING, summary,
		    "A kernel driver installed in the day before the last boot can block the "
		    "network or RDP (security suites and network filters do after updates). If "
		    "nothing else explains the outage, start the machine without it.");
		free(summary);
	}
}

int rp_check_events_unexplained(rp_scan *scan, rp_err *err)
{
	(void)err;
	const char *id = rp_id_events_unexplained;
	const rp_events *ev = scan->events;
	if (!ev || !ev->loaded) {
		rp_finding_add(scan, id, RP_SKIPPED, RP_INFO, "The event logs were not read", NULL);
		return 0;
	}
	size_t present = 0;
	for (int i = 0; i < RP_EVLOG_COUNT; i++)
		present += ev->logs[i].opened;
	if (!present) {
		rp_finding_add(scan, id, RP_SKIPPED, RP_INFO,
			       "No readable event log in Windows/System32/winevt/Logs", NULL);
		return 0;
	}
	unexplained_ctx ctx = {.boot = rp_events_last_boot(ev)};
	if (ev->n) {
		for_each_kind(scan, unexplained_kind, &ctx);
		recent_drivers(scan, ctx.boot);
	}
	if (!ctx.found) {
		char *s = rp_xasprintf("No RDP failure in the event logs of the last boot that the "
				       "checks do not explain (%zu log%s read)",
				       present, present == 1 ? "" : "s");
		rp_finding_add(scan, id, RP_OK, RP_INFO, s, NULL);
		free(s);
	}
	return 0;
}
