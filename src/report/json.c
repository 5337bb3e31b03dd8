/*
 * json.c — the JSON report (schema "rdprescue/1") and the one-line summary, with jansson,
 * which escapes every string it is given: disk strings cannot break the document.
 */
#include "report/report.h"
#include "util/text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Disk data may not be valid UTF-8; jansson refuses such strings, so they are escaped first. */
static json_t *disk_string(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	char *e = rp_escape(s);
	j = json_string(e);
	free(e);
	return j ? j : json_null();
}

static json_t *value_data(const rp_evidence *e)
{
	if (!e->present)
		return json_null();
	rp_value v = {.type = e->type, .data = e->data, .len = e->len};
	uint32_t d;
	if (rp_value_dword(&v, &d) == 0)
		return json_integer(d);
	char *s = rp_value_string(&v);
	if (s) {
		json_t *j = disk_string(s);
		free(s);
		return j;
	}
	size_t n = e->len > 4096 ? 4096 : e->len;
	char *hex = rp_xmalloc(n * 2 + 1);
	rp_hex(e->data, n, hex);
	json_t *j = json_string(hex);
	free(hex);
	return j;
}

static json_t *evidence_json(const rp_evidence *e)
{
	json_t *o = json_object();
	if (e->hive)
		json_object_set_new(o, "hive", json_string(e->hive));
	if (e->key)
		json_object_set_new(o, "key", disk_string(e->key));
	if (e->value)
		json_object_set_new(o, "value", disk_string(e->value));
	if (e->hive || e->present) {
		json_object_set_new(o, "present", json_boolean(e->present));
		json_object_set_new(o, "type", e->present ? json_integer(e->type) : json_null());
		json_object_set_new(o, "data", value_data(e));
	}
	if (e->path)
		json_object_set_new(o, "path", disk_string(e->path));
	json_object_set_new(o, "source", str_or_null(e->source));
	if (e->note)
		json_object_set_new(o, "note", json_string(e->note));
	return o;
}

static int change_applied(const rp_report *r, const rp_change *c)
{
	return r->plan && !r->dry_run && r->plan->files_written && (!c->weakens || r->allow_weaker);
}

static json_t *finding_json(const rp_report *r, const rp_finding *f)
{
	json_t *o = json_object();
	json_object_set_new(o, "check", json_string(f->check));
	json_object_set_new(o, "status", json_string(rp_status_name(f->status)));
	json_object_set_new(o, "severity", json_string(rp_severity_name(f->severity)));
	json_object_set_new(o, "summary", disk_string(f->summary));
	if (f->explain)
		json_object_set_new(o, "explain", json_string(f->explain));
	json_t *ev = json_array();
	for (size_t i = 0; i < f->nevidence; i++)
		json_array_append_new(ev, evidence_json(&f->evidence[i]));
	json_object_set_new(o, "evidence", ev);
	json_t *ch = json_array();
	for (size_t i = 0; i < f->nchanges; i++) {
		const rp_change *c = &f->changes[i];
		json_t *cj = json_object();
		json_object_set_new(cj, "what", disk_string(c->what));
		static const char *const kinds[] = {
		    "reg-set",	  "reg-delete-value", "reg-delete-key", "pol-set",
		    "pol-delete", "file-sd",	      "quarantine",	"reg-create-key"};
		json_object_set_new(cj, "kind", json_string(kinds[c->kind]));
		if (c->hive)
			json_object_set_new(cj, "hive", json_string(c->hive));
		if (c->path)
			json_object_set_new(cj, "path", disk_string(c->path));
		if (c->key)
			json_object_set_new(cj, "key", disk_string(c->key));
		if (c->value)
			json_object_set_new(cj, "value", disk_string(c->value));
		json_object_set_new(cj, "weakens_security", json_boolean(c->weakens));
		json_object_set_new(cj, "applied", json_boolean(change_applied(r, c)));
		json_array_append_new(ch, cj);
	}
	json_object_set_new(o, "changes", ch);
	json_t *cites = json_array();
	for (size_t i = 0; i < f->ncites; i++) {
		const rp_cite *c = &f->cites[i];
		json_t *cj = json_object();
		json_object_set_new(cj, "event", disk_string(c->event));
		json_object_set_new(cj, "count", json_integer((json_int_t)c->count));
		json_object_set_new(cj, "last", json_string(c->last));
		json_object_set_new(cj, "text", disk_string(c->text));
		json_array_append_new(cites, cj);
	}
	json_object_set_new(o, "events", cites);
	if (f->weakened)
		json_object_set_new(o, "weakened_security", json_true());
	return o;
}

static json_t *hive_json(const rp_hive_file *hf)
{
	json_t *o = json_object();
	json_object_set_new(o, "path", disk_string(hf->path));
	json_object_set_new(o, "was_dirty", json_boolean(hf->recovery.was_dirty));
	json_object_set_new(o, "log_entries_applied", json_integer(hf->recovery.entries_applied));
	json_object_set_new(o, "dirty_without_logs", json_boolean(hf->recovery.dirty_without_logs));
	json_object_set_new(o, "recovery", disk_string(hf->recovery.detail));
	return o;
}

static json_t *report_json(const rp_report *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "schema", json_string("rdprescue/1"));
	json_object_set_new(o, "command", json_string(r->command));
	json_object_set_new(o, "target", disk_string(r->target));
	if (r->install) {
		char *s = rp_install_json(r->install, r->reg);
		json_t *inst = json_loads(s, 0, NULL);
		free(s);
		if (inst && r->reg) {
			json_t *hives = json_object();
			json_object_set_new(hives, "SYSTEM", hive_json(&r->reg->system));
			json_object_set_new(hives, "SOFTWARE", hive_json(&r->reg->software));
			const rp_hive_file *opt[] = {&r->reg->sam, &r->reg->security};
			for (int k = 0; k < 2; k++) {
				/* error, not hive: after a fix the rescan has taken the hives
				 * over; a loaded hive has no error. */
				if (!opt[k]->error && opt[k]->path) {
					json_object_set_new(hives, opt[k]->name, hive_json(opt[k]));
				} else if (opt[k]->error) {
					json_t *e = json_object();
					json_object_set_new(e, "error", disk_string(opt[k]->error));
					json_object_set_new(hives, opt[k]->name, e);
				}
			}
			json_object_set_new(inst, "hives", hives);
		}
		json_object_set_new(o, "install", inst ? inst : json_null());
	} else {
		json_object_set_new(o, "install", json_null());
	}
	json_t *findings = json_array(), *changes = json_array();
	if (r->scan)
		for (size_t i = 0; i < r->scan->nfindings; i++) {
			const rp_finding *f = &r->scan->findings[i];
			json_array_append_new(findings, finding_json(r, f));
			for (size_t j = 0; j < f->nchanges; j++)
				if (change_applied(r, &f->changes[j]))
					json_array_append_new(changes,
							      disk_string(f->changes[j].what));
		}
	if (r->plan && !r->scan)
		for (size_t i = 0; i < r->plan->nfiles; i++) {
			char *what = rp_xasprintf(r->dry_run ? "would restore %s" : "restored %s",
						  r->plan->files[i]);
			json_array_append_new(changes, disk_string(what));
			free(what);
		}
	json_object_set_new(o, "findings", findings);
	json_object_set_new(o, "changes", changes);
	json_object_set_new(o, "dry_run", json_boolean(r->dry_run));
	if (r->plan && (r->plan->backup_volume || r->plan->backup_host)) {
		json_t *b = json_object();
		json_object_set_new(b, "id", str_or_null(r->plan->backup_id));
		json_object_set_new(b, "host", disk_string(r->plan->backup_host));
		json_object_set_new(b, "volume", disk_string(r->plan->backup_volume));
		json_object_set_new(o, "backup", b);
	} else {
		json_object_set_new(o, "backup", json_null());
	}
	if (r->plan && r->plan->restored_id) {
		json_t *rb = json_object();
		json_object_set_new(rb, "id", json_string(r->plan->restored_id));
		json_object_set_new(rb, "from", disk_string(r->plan->restored_from));
		json_object_set_new(o, "restored_backup", rb);
	}
	json_t *notes = json_array();
	for (size_t i = 0; i < r->nnotes; i++)
		json_array_append_new(notes, disk_string(r->notes[i]));
	if (r->plan)
		for (size_t i = 0; i < r->plan->nnotes; i++)
			json_array_append_new(notes, disk_string(r->plan->notes[i]));
	json_object_set_new(o, "notes", notes);
	json_object_set_new(o, "error", str_or_null(r->error));
	json_object_set_new(o, "exit", json_integer(r->exit_code));
	return o;
}

void rp_report_json(FILE *out, const rp_report *r)
{
	json_t *o = report_json(r);
	json_dumpf(o, out, JSON_COMPACT);
	fputc('\n', out);
	json_decref(o);
}

/* Check ids with a given status, as a JSON array kept short enough for the 4 KiB line. */
static json_t *ids_with(const rp_report *r, rp_status st)
{
	json_t *a = json_array();
	size_t bytes = 0;
	if (!r->scan)
		return a;
	for (size_t i = 0; i < r->scan->nfindings; i++) {
		const rp_finding *f = &r->scan->findings[i];
		if (f->status != st)
			continue;
		int seen = 0;
		for (size_t j = 0; j < json_array_size(a); j++)
			seen |= strcmp(json_string_value(json_array_get(a, j)), f->check) == 0;
		if (seen)
			continue;
		if (bytes > 1024) {
			json_array_append_new(a, json_string("..."));
			break;
		}
		bytes += strlen(f->check) + 3;
		json_array_append_new(a, json_string(f->check));
	}
	return a;
}

void rp_report_summary(FILE *out, const rp_report *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "rdprescue", json_string("summary"));
	json_object_set_new(o, "command", json_string(r->command));
	char cut_target[512];
	snprintf(cut_target, sizeof cut_target, "%s", r->target ? r->target : "");
	json_object_set_new(o, "target", r->target ? disk_string(cut_target) : json_null());
	json_object_set_new(o, "computer",
			    r->reg && r->reg->computer ? disk_string(r->reg->computer)
						       : json_null());
	json_object_set_new(o, "exit", json_integer(r->exit_code));
	json_object_set_new(o, "problems", ids_with(r, RP_PROBLEM));
	json_object_set_new(o, "not_fixed", ids_with(r, RP_NOT_FIXED));
	json_object_set_new(o, "fixed", ids_with(r, RP_FIXED));
	const char *backup =
	    r->plan ? (r->plan->backup_host ? r->plan->backup_host : r->plan->backup_volume) : NULL;
	json_object_set_new(o, "backup", backup ? disk_string(backup) : json_null());
	if (r->error) {
		char cut[1024];
		snprintf(cut, sizeof cut, "%s", r->error);
		json_object_set_new(o, "error", disk_string(cut));
	}
	json_dumpf(o, out, JSON_COMPACT);
	fputc('\n', out);
	json_decref(o);
}
