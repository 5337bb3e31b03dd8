/*
 * cmd_events.c — `rdprescue events TARGET [--since last-boot|DATE] [--all] [--json]`.
 *
 * A timeline of what Windows itself logged about RDP: the RDP-relevant events of the machine's
 * own event logs (read offline through evtx/), the boots separated by their start/shutdown
 * markers, each event with its time, log, source, id, its inserts in words and the check it
 * points to.  By default only the last boot is shown (the boot during which RDP did not work);
 * --since DATE starts at a date, --all shows every boot.  Nothing is ever written.
 */
#include "cli/cli.h"
#include "evtx/evtx.h"
#include "util/text.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USAGE                                                                                      \
	"usage: rdprescue events TARGET [--since last-boot|YYYY-MM-DD[THH:MM:SSZ]] [--all] "       \
	"[--install N] [--json]\n"

typedef struct ev_args {
	const char *target;
	int json, all, install;
	int since_set;
	time_t since;
} ev_args;

static int parse(int argc, char **argv, ev_args *a)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},	     {"all", no_argument, NULL, 'a'},
	    {"since", required_argument, NULL, 's'}, {"install", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},	     {0},
	};
	memset(a, 0, sizeof *a);
	opterr = 0;
	optind = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = 1;
			break;
		case 'a':
			a->all = 1;
			break;
		case 's':
			if (strcmp(optarg, "last-boot") == 0) {
				a->since_set = 0;
				break;
			} else {
				struct tm tm;
				memset(&tm, 0, sizeof tm);
				const char *end = strptime(optarg, "%Y-%m-%d", &tm);
				if (end && *end == 'T')
					end = strptime(end + 1, "%H:%M:%SZ", &tm);
				if (!end || *end)
					return cli_fail(RP_EXIT_USAGE,
							"--since takes last-boot or a UTC time "
							"YYYY-MM-DD[THH:MM:SSZ], not '%s'",
							optarg);
				a->since = timegm(&tm);
				a->since_set = 1;
			}
			break;
		case 'i':
			if (cli_install_index(optarg, &a->install))
				return RP_EXIT_USAGE;
			break;
		case 'h':
			return -1;
		default:
			return cli_fail(RP_EXIT_USAGE,
					"unknown option '%s'; run 'rdprescue events --help'",
					argv[optind - 1]);
		}
	}
	if (a->all && a->since_set)
		return cli_fail(RP_EXIT_USAGE, "--all and --since exclude each other; choose one");
	if (optind != argc - 1)
		return cli_fail(RP_EXIT_USAGE,
				"events needs exactly one TARGET (a disk, image, VHD or mounted "
				"directory); run 'rdprescue events --help'");
	a->target = argv[optind];
	return 0;
}

static void put_escaped(FILE *out, const char *s)
{
	char *e = rp_escape(s ? s : "");
	fputs(e, out);
	free(e);
}

static const char *marker_name(rp_ev_marker m)
{
	switch (m) {
	case RP_EV_BOOT:
		return "boot";
	case RP_EV_SHUTDOWN:
		return "shutdown";
	case RP_EV_UNEXPECTED:
		return "unexpected-shutdown";
	default:
		return NULL;
	}
}

static const char *level_name(uint8_t l)
{
	static const char *const n[] = {"",	   "critical",	  "error",
					"warning", "information", "verbose"};
	return l < 6 ? n[l] : "";
}

static void log_line(FILE *out, const rp_evlog *l)
{
	fprintf(out, "  %-24s ", l->name);
	if (!l->present)
		fputs("not on the volume", out);
	else if (!l->opened)
		put_escaped(out, l->note[0] ? l->note : "unreadable");
	else
		fprintf(out, "%zu records, %zu about RDP", l->records, l->kept);
	if (l->bad_chunks || l->bad_records)
		fprintf(out, "; %zu damaged chunk%s, %zu unreadable record%s skipped",
			l->bad_chunks, l->bad_chunks == 1 ? "" : "s", l->bad_records,
			l->bad_records == 1 ? "" : "s");
	if (l->dirty)
		fputs("; not closed cleanly (read as far as sound)", out);
	fputc('\n', out);
}

static void print_text(FILE *out, const ev_args *a, const rp_events *ev, size_t from)
{
	fputs("rdprescue events ", out);
	put_escaped(out, a->target);
	fputs("\nLogs (Windows/System32/winevt/Logs):\n", out);
	for (int i = 0; i < RP_EVLOG_COUNT; i++)
		log_line(out, &ev->logs[i]);
	fputc('\n', out);
	size_t shown = 0;
	for (size_t i = from; i < ev->n; i++) {
		const rp_event *e = &ev->ev[i];
		char t[40];
		rp_ev_time(e->filetime, 0, t, sizeof t);
		if (rp_events_boot_starts(ev, i))
			fprintf(out, "=== boot %s ===\n", t);
		int fail = rp_event_is_failure(e);
		fprintf(out, "%s %s  %-10s ", fail ? "!" : " ", t, e->log);
		put_escaped(out, e->rule->shortname);
		fprintf(out, " %u", e->id);
		if (e->level >= 1 && e->level <= 3)
			fprintf(out, " (%s)", level_name(e->level));
		const char *svc = rp_event_service(e);
		if (e->rule->check[0] && (!svc || rp_ev_rdp_service(svc)))
			fprintf(out, "  -> %s", e->rule->check);
		fputc('\n', out);
		char *text = rp_event_text(e);
		fputs("      ", out);
		put_escaped(out, text);
		fputc('\n', out);
		free(text);
		shown++;
	}
	if (!shown)
		fputs(ev->n ? "No RDP-related events in that period.\n"
			    : "No RDP-related events in the logs.\n",
		      out);
	size_t fails = 0;
	for (size_t i = from; i < ev->n; i++)
		fails += rp_event_is_failure(&ev->ev[i]);
	fprintf(out, "\n%zu event%s shown, %zu RDP-related failure%s (marked !).\n", shown,
		shown == 1 ? "" : "s", fails, fails == 1 ? "" : "s");
}

/* Disk strings may not be valid UTF-8: jansson refuses those, so they are escaped first. */
static json_t *disk_string(const char *s)
{
	json_t *j = json_string(s ? s : "");
	if (j)
		return j;
	char *e = rp_escape(s);
	j = json_string(e);
	free(e);
	return j ? j : json_string("");
}

static json_t *event_json(const rp_events *ev, size_t i)
{
	const rp_event *e = &ev->ev[i];
	char t[48];
	rp_ev_time(e->filetime, 1, t, sizeof t);
	json_t *strings = json_array(), *words = json_array();
	for (size_t k = 0; k < e->nstrings; k++) {
		json_array_append_new(strings, disk_string(e->strings[k]));
		char *w = rp_ev_insert_words(e->strings[k]);
		json_array_append_new(words, disk_string(w));
		free(w);
	}
	char *text = rp_event_text(e);
	const char *m = marker_name(e->rule->marker);
	const char *svc = rp_event_service(e);
	json_t *o =
	    json_pack("{s:s,s:I,s:s,s:o,s:i,s:s,s:o,s:o,s:o,s:b,s:b}", "log", e->log, "record",
		      (json_int_t)e->record, "time", t, "provider", disk_string(e->provider), "id",
		      (int)e->id, "level", level_name(e->level), "strings", strings,
		      "strings_in_words", words, "text", disk_string(text), "rdp_failure",
		      rp_event_is_failure(e), "boot_start", rp_events_boot_starts(ev, i));
	json_object_set_new(o, "marker", m ? json_string(m) : json_null());
	json_object_set_new(o, "service", svc ? disk_string(svc) : json_null());
	json_object_set_new(o, "check",
			    e->rule->check[0] && (!svc || rp_ev_rdp_service(svc))
				? json_string(e->rule->check)
				: json_null());
	free(text);
	return o;
}

static void print_json(FILE *out, const ev_args *a, const rp_events *ev, size_t from)
{
	json_t *logs = json_array();
	for (int i = 0; i < RP_EVLOG_COUNT; i++) {
		const rp_evlog *l = &ev->logs[i];
		json_t *o = json_pack(
		    "{s:s,s:s,s:b,s:b,s:b,s:I,s:I,s:I,s:I,s:I}", "name", l->name, "file",
		    l->path ? l->path : "", "present", l->present, "opened", l->opened, "dirty",
		    l->dirty, "records", (json_int_t)l->records, "kept", (json_int_t)l->kept,
		    "bad_records", (json_int_t)l->bad_records, "chunks", (json_int_t)l->chunks,
		    "bad_chunks", (json_int_t)l->bad_chunks);
		json_object_set_new(o, "note", l->note[0] ? disk_string(l->note) : json_null());
		json_array_append_new(logs, o);
	}
	json_t *events = json_array();
	for (size_t i = from; i < ev->n; i++)
		json_array_append_new(events, event_json(ev, i));
	char since[48] = "";
	if (from < ev->n)
		rp_ev_time(ev->ev[from].filetime, 1, since, sizeof since);
	json_t *o = json_pack("{s:s,s:o,s:s,s:o,s:o}", "schema", "rdprescue-events/1", "target",
			      disk_string(a->target), "period",
			      a->all	     ? "all"
			      : a->since_set ? "since"
					     : "last-boot",
			      "logs", logs, "events", events);
	json_object_set_new(o, "from", since[0] ? json_string(since) : json_null());
	json_dumpf(o, out, JSON_INDENT(2));
	fputc('\n', out);
	json_decref(o);
}

int cmd_events(int argc, char **argv)
{
	ev_args a;
	int prc = parse(argc, argv, &a);
	if (prc < 0) {
		fputs(USAGE, stdout);
		return 0;
	}
	if (prc > 0)
		return prc;
	rp_err err = {0};
	rp_target t = {0};
	rp_vol *vol = NULL;
	const rp_install *inst = NULL;
	rp_events ev = {0};
	int rc = 0;
	if (rp_target_probe(&t, a.target, &err) < 0 ||
	    rp_target_open(&t, a.install, 0, &vol, &inst, &err) < 0 ||
	    rp_events_load(vol, &ev, 0, &err) < 0) {
		rc = cli_fail(err.exit_code, "%s", err.msg);
		goto out;
	}
	size_t from = 0;
	if (a.since_set) {
		from = ev.n;
		for (size_t i = 0; i < ev.n; i++)
			if (rp_ev_unix(ev.ev[i].filetime) >= a.since) {
				from = i;
				break;
			}
	} else if (!a.all) {
		from = rp_events_last_boot(&ev);
	}
	if (a.json)
		print_json(stdout, &a, &ev, from);
	else
		print_text(stdout, &a, &ev, from);
out:
	rp_events_free(&ev);
	rp_vol_close(vol, NULL);
	rp_target_free(&t);
	return rc;
}
