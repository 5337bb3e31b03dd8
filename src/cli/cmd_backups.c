/*
 * cmd_backups.c — `rdprescue backups TARGET`: every backup of an installation (the volume's
 * rdprescue\backups folder and --backup-dir), newest first: id, time, the command that made
 * it, the checks whose changes it holds (fix backups), the files it holds and where each copy
 * is, and whether it is undone already.  Reads only.
 */
#include "cli/cli.h"
#include "plan/plan.h"
#include "report/report.h"
#include "util/text.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKUPS_USAGE "usage: rdprescue backups TARGET [--install N] [--backup-dir DIR] [--json]"

static const char *action_name(rp_backup_action a)
{
	static const char *const names[] = {"replace", "sd", "quarantine", "keep", "create"};
	return a <= RP_BACKUP_CREATE ? names[a] : "?";
}

static json_t *str_or_null(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (!j) { /* not UTF-8: escaped */
		char *e = rp_escape(s);
		j = json_string(e);
		free(e);
	}
	return j ? j : json_null();
}

static void print_json(const char *target, const rp_backup_info *v, size_t n)
{
	json_t *o = json_object(), *arr = json_array();
	json_object_set_new(o, "schema", json_string("rdprescue-backups/1"));
	json_object_set_new(o, "target", str_or_null(target));
	for (size_t i = 0; i < n; i++) {
		const rp_backup *b = &v[i].backup;
		json_t *bj = json_object(), *files = json_array();
		json_object_set_new(bj, "id", str_or_null(b->id));
		json_object_set_new(bj, "time", str_or_null(b->created));
		json_object_set_new(bj, "command", str_or_null(b->kind));
		json_object_set_new(bj, "target", str_or_null(b->target));
		json_t *checks = b->checks ? json_array() : json_null();
		for (size_t k = 0; b->checks && k < b->nchecks; k++)
			json_array_append_new(checks, str_or_null(b->checks[k]));
		json_object_set_new(bj, "checks", checks);
		for (size_t k = 0; k < b->nentries; k++)
			json_array_append_new(
			    files, json_pack("{s:o,s:s}", "path", str_or_null(b->entries[k].path),
					     "action", action_name(b->entries[k].action)));
		json_object_set_new(bj, "files", files);
		json_object_set_new(bj, "volume", str_or_null(v[i].volume_path));
		json_object_set_new(bj, "host", str_or_null(v[i].host_path));
		json_object_set_new(bj, "undone", json_boolean(v[i].undone));
		json_array_append_new(arr, bj);
	}
	json_object_set_new(o, "backups", arr);
	json_object_set_new(o, "error", json_null());
	json_object_set_new(o, "exit", json_integer(0));
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
}

static void put(const char *s)
{
	char *e = rp_escape(s);
	fputs(e, stdout);
	free(e);
}

static void print_text(const char *target, const rp_backup_info *v, size_t n)
{
	fputs("rdprescue backups ", stdout);
	put(target);
	printf("\n\n");
	if (!n)
		puts("no rdprescue backup on this installation");
	for (size_t i = 0; i < n; i++) {
		const rp_backup *b = &v[i].backup;
		put(b->id);
		fputs("  ", stdout);
		put(b->created);
		fputs("  ", stdout);
		put(b->kind);
		printf("  %zu file%s%s\n", b->nentries, b->nentries == 1 ? "" : "s",
		       v[i].undone ? "  (undone: the volume holds its originals)" : "");
		if (b->checks) {
			fputs("    checks: ", stdout);
			for (size_t k = 0; k < b->nchecks; k++) {
				fputs(k ? ", " : "", stdout);
				put(b->checks[k]);
			}
			puts(b->nchecks ? "" : "none");
		}
		for (size_t k = 0; k < b->nentries; k++) {
			printf("    %-10s ", action_name(b->entries[k].action));
			put(b->entries[k].path);
			putchar('\n');
		}
		if (v[i].volume_path) {
			char *win = rp_xasprintf("\\%s", v[i].volume_path);
			for (char *c = win; *c; c++)
				if (*c == '/')
					*c = '\\';
			fputs("    on the volume: ", stdout);
			put(win);
			putchar('\n');
			free(win);
		}
		if (v[i].host_path) {
			fputs("    on this machine: ", stdout);
			put(v[i].host_path);
			putchar('\n');
		}
	}
	printf("\n%zu backup%s. Restore the newest with 'rdprescue undo ", n, n == 1 ? "" : "s");
	put(target);
	puts(" --yes', a given one with --backup ID.");
}

int cmd_backups(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"install", required_argument, NULL, 'i'},
	    {"backup-dir", required_argument, NULL, 'b'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	rp_plan_opts po = {0};
	int json = 0, c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (cli_install_index(optarg, &po.install_index))
				return 2;
			break;
		case 'b':
			po.backup_dir = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			puts(BACKUPS_USAGE);
			return 0;
		default:
			return cli_fail(2, "unknown option '%s'; %s", argv[optind - 1],
					BACKUPS_USAGE);
		}
	}
	if (optind != argc - 1)
		return cli_fail(2, "backups needs exactly one TARGET; %s", BACKUPS_USAGE);
	po.target = argv[optind];
	rp_err err = {0};
	rp_target t = {0};
	rp_backup_info *v = NULL;
	size_t n = 0;
	if (rp_target_probe(&t, po.target, &err) < 0 ||
	    rp_plan_backups(&t, &po, &v, &n, &err) < 0) {
		rp_target_free(&t);
		return cli_fail(err.exit_code, "%s", err.msg);
	}
	cli_reported();
	if (json)
		print_json(po.target, v, n);
	else
		print_text(po.target, v, n);
	fflush(stdout);
	rp_report r = {.command = "backups", .target = po.target, .install_arg = po.install_index};
	rp_report_summary(json ? stderr : stdout, &r);
	rp_backup_infos_free(v, n);
	rp_target_free(&t);
	return 0;
}
