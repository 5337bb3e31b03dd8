/*
 * fleet.c — `rdprescue scan|fix TARGET... [--jobs N]`: several targets in one run.
 *
 * Each target runs in its own process: the parent starts this same binary (/proc/self/exe)
 * once per target with the command's options and that one target, at most N at a time, its
 * stdout and stderr in temporary files.  So a target's run is exactly the single-target run
 * (its locks, its backup, its report), and one target's failure cannot touch another's.
 * The parent prints each target's report in one piece, in the order the targets were given,
 * then a table across targets (text) or a last JSON line (schema "rdprescue-fleet/1").
 * The fleet's exit code is the worst of the targets': 4 > 3 > 2 > 1 > 0.
 */
#include "cli/cli.h"
#include "util/err.h"
#include "util/file.h"
#include "util/text.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

/* One target's run. */
typedef struct fleet_run {
	const char *target;
	pid_t pid;
	FILE *out, *err; /* the child's stdout and stderr while it runs */
	char *out_text, *err_text;
	int done, exit_code;
	char *error; /* why the run gave no exit code of its own (malloc'd), or NULL */
	/* From the run's summary line. */
	char *computer, *backup;
	int fixed, remaining;
} fleet_run;

/* The children running now, for the signal handler: a SIGINT, SIGTERM or SIGHUP to this
 * process is passed on to each run (which finishes or undoes the change it is writing, then
 * exits), no further target is started, and every report is still printed. */
static pid_t running_pids[256];
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
	for (size_t i = 0; i < sizeof running_pids / sizeof *running_pids; i++)
		if (running_pids[i] > 0)
			kill(running_pids[i], sig);
}

static void track(pid_t pid, pid_t as)
{
	for (size_t i = 0; i < sizeof running_pids / sizeof *running_pids; i++)
		if (running_pids[i] == pid) {
			running_pids[i] = as;
			return;
		}
}

/* How bad an exit code is: a write that failed outranks an unusable target, which outranks a
 * usage error, which outranks problems left. */
static int rank(int code)
{
	switch (code) {
	case RP_EXIT_OK:
		return 0;
	case RP_EXIT_PROBLEMS:
		return 1;
	case RP_EXIT_USAGE:
		return 2;
	case RP_EXIT_UNUSABLE:
		return 3;
	default:
		return 4;
	}
}

/* What a TARGET is on this machine, to find two names for one disk: a file or directory (its
 * device and inode), or a block device (the whole disk's number: a partition counts as its
 * disk); a loop device is its backing file.  kind 0: cannot tell (the run will say why). */
typedef struct ident {
	int kind; /* 0 unknown, 1 file or directory, 2 block device */
	dev_t dev;
	ino_t ino;
} ident;

static ident identify(const char *path)
{
	struct stat st;
	ident id = {0};
	if (stat(path, &st) != 0)
		return id;
	if (!S_ISBLK(st.st_mode))
		return (ident){1, st.st_dev, st.st_ino};
	dev_t d = st.st_rdev;
	char p[96], line[4096];
	unsigned ma, mi;
	snprintf(p, sizeof p, "/sys/dev/block/%u:%u/partition", major(d), minor(d));
	if (access(p, F_OK) == 0) {
		snprintf(p, sizeof p, "/sys/dev/block/%u:%u/../dev", major(d), minor(d));
		if (rp_file_first_line(p, line, sizeof line) == 0 &&
		    sscanf(line, "%u:%u", &ma, &mi) == 2)
			d = makedev(ma, mi);
	}
	snprintf(p, sizeof p, "/sys/dev/block/%u:%u/loop/backing_file", major(d), minor(d));
	struct stat bs;
	if (rp_file_first_line(p, line, sizeof line) == 0 && stat(line, &bs) == 0)
		return (ident){1, bs.st_dev, bs.st_ino};
	return (ident){2, d, 0};
}

/* Two targets that name one disk would run twice on it. */
static int same_target(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return 1;
	ident x = identify(a), y = identify(b);
	return x.kind && x.kind == y.kind && x.dev == y.dev && x.ino == y.ino;
}

static char *slurp(FILE *f)
{
	uint8_t *data = NULL;
	size_t len = 0;
	rewind(f);
	if (rp_stream_read(f, &data, &len) < 0)
		return rp_xstrdup("");
	data[len] = 0; /* rp_stream_read leaves room for it */
	return (char *)data;
}

/* The run's summary line ({"rdprescue":"summary",...}): the last such line of text. */
static void read_summary(fleet_run *r, const char *text)
{
	const char *line = NULL, *p = text;
	for (; (p = strstr(p, "{\"rdprescue\":\"summary\"")); p++)
		if (p == text || p[-1] == '\n')
			line = p;
	if (!line)
		return;
	size_t len = strcspn(line, "\n");
	json_t *o = json_loadb(line, len, 0, NULL);
	if (!o)
		return;
	const char *s = json_string_value(json_object_get(o, "computer"));
	r->computer = s ? rp_xstrdup(s) : NULL;
	s = json_string_value(json_object_get(o, "backup"));
	r->backup = s ? rp_xstrdup(s) : NULL;
	r->fixed = (int)json_array_size(json_object_get(o, "fixed"));
	r->remaining = (int)(json_array_size(json_object_get(o, "problems")) +
			     json_array_size(json_object_get(o, "not_fixed")));
	json_decref(o);
}

/* Starts the run of r: argv is the command's own (argv[0] "scan" or "fix") up to its first
 * target, nopts words long. */
static void start(fleet_run *r, int nopts, char **argv)
{
	r->out = tmpfile();
	r->err = tmpfile();
	if (!r->out || !r->err) {
		r->error = rp_xasprintf("no temporary file for its report (%s)", strerror(errno));
		r->exit_code = RP_EXIT_UNUSABLE;
		r->done = 1;
		if (r->out)
			fclose(r->out);
		if (r->err)
			fclose(r->err);
		r->out = r->err = NULL;
		return;
	}
	/* The other targets' runs do not inherit these (dup2 gives this run its own copies). */
	fcntl(fileno(r->out), F_SETFD, FD_CLOEXEC);
	fcntl(fileno(r->err), F_SETFD, FD_CLOEXEC);
	char **cargv = rp_xcalloc((size_t)nopts + 3, sizeof *cargv);
	cargv[0] = "rdprescue";
	memcpy(cargv + 1, argv, (size_t)nopts * sizeof *cargv);
	cargv[nopts + 1] = (char *)r->target;
	fflush(NULL);
	r->pid = fork();
	if (r->pid == 0) {
		/* Signals are blocked here (cli_fleet): the run gets the default handling. */
		sigset_t all;
		sigemptyset(&all);
		const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
		for (int k = 0; k < 3; k++) {
			signal(sigs[k], SIG_DFL);
			sigaddset(&all, sigs[k]);
		}
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		int null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
		    dup2(fileno(r->out), STDOUT_FILENO) < 0 ||
		    dup2(fileno(r->err), STDERR_FILENO) < 0)
			_exit(RP_EXIT_UNUSABLE);
		if (null > STDERR_FILENO)
			close(null);
		execv("/proc/self/exe", cargv);
		fprintf(stderr, "rdprescue: cannot run /proc/self/exe (%s); is /proc mounted?\n",
			strerror(errno));
		_exit(RP_EXIT_UNUSABLE);
	}
	free(cargv);
	if (r->pid > 0)
		track(0, r->pid);
	if (r->pid < 0) {
		r->error = rp_xasprintf("cannot start its run (%s)", strerror(errno));
		r->exit_code = RP_EXIT_UNUSABLE;
		r->done = 1;
	}
}

/* The run of r ended with wait status st: keep what it printed, close its files. */
static void collect(fleet_run *r, int st, int json, int fix)
{
	r->done = 1;
	track(r->pid, 0);
	if (WIFEXITED(st)) {
		r->exit_code = WEXITSTATUS(st);
	} else {
		/* A fix killed mid-run may have left part of a write (the next fix completes or
		 * undoes it); a scan wrote nothing. */
		r->exit_code = fix ? RP_EXIT_WRITE_FAILED : RP_EXIT_UNUSABLE;
		r->error = rp_xasprintf("its run was killed by signal %d", WTERMSIG(st));
	}
	r->out_text = slurp(r->out);
	r->err_text = slurp(r->err);
	fclose(r->out);
	fclose(r->err);
	r->out = r->err = NULL;
	read_summary(r, json ? r->err_text : r->out_text);
}

static json_t *escaped(const char *s)
{
	if (!s)
		return json_null();
	char *e = rp_escape(s);
	json_t *j = json_string(e);
	free(e);
	return j ? j : json_null();
}

/* Prints r's report in one piece: its stdout on stdout (with --json: its document as one
 * line), its stderr on stderr. */
static void emit(const fleet_run *r, const char *cmd, int json)
{
	if (json) {
		json_t *doc = r->out_text ? json_loads(r->out_text, 0, NULL) : NULL;
		if (!json_is_object(doc)) {
			/* The run printed no document: one that says why, as a failed run's. */
			json_decref(doc);
			doc = json_object();
			json_object_set_new(doc, "schema", json_string("rdprescue/1"));
			json_object_set_new(doc, "command", json_string(cmd));
			json_object_set_new(doc, "install", json_null());
			json_object_set_new(doc, "findings", json_array());
			json_object_set_new(doc, "exit", json_integer(r->exit_code));
			json_object_set_new(
			    doc, "error",
			    escaped(r->error ? r->error : "its run printed no report"));
		}
		/* The run's own document as it printed it, when that is one line. */
		const char *nl = r->out_text ? strchr(r->out_text, '\n') : NULL;
		if (json_object_get(doc, "target") && nl && !nl[1]) {
			fputs(r->out_text, stdout);
		} else {
			if (!json_object_get(doc, "target"))
				json_object_set_new(doc, "target", escaped(r->target));
			json_dumpf(doc, stdout, JSON_COMPACT);
			fputc('\n', stdout);
		}
		json_decref(doc);
	} else if (r->out_text) {
		fputs(r->out_text, stdout);
		if (*r->out_text && r->out_text[strlen(r->out_text) - 1] != '\n')
			fputc('\n', stdout);
		fputc('\n', stdout);
	}
	fflush(stdout);
	char *t = rp_escape(r->target);
	if (r->err_text && *r->err_text)
		fputs(r->err_text, stderr);
	if (r->error)
		fprintf(stderr, "rdprescue: %s: %s\n", t, r->error);
	free(t);
	fflush(stderr);
}

static void table(const fleet_run *runs, int n)
{
	int wt = 6, wc = 8, wb = 6;
	char **t = rp_xcalloc((size_t)n * 3, sizeof *t);
	for (int i = 0; i < n; i++) {
		t[3 * i] = rp_escape(runs[i].target);
		t[3 * i + 1] = rp_escape(runs[i].computer ? runs[i].computer : "-");
		t[3 * i + 2] = rp_escape(runs[i].backup ? runs[i].backup : "-");
		int l[3] = {(int)strlen(t[3 * i]), (int)strlen(t[3 * i + 1]),
			    (int)strlen(t[3 * i + 2])};
		wt = l[0] > wt ? l[0] : wt;
		wc = l[1] > wc ? l[1] : wc;
		wb = l[2] > wb ? l[2] : wb;
	}
	printf("%-*s  %-*s  %5s  %9s  %-*s  %s\n", wt, "TARGET", wc, "COMPUTER", "FIXED",
	       "REMAINING", wb, "BACKUP", "EXIT");
	for (int i = 0; i < n; i++)
		printf("%-*s  %-*s  %5d  %9d  %-*s  %d\n", wt, t[3 * i], wc, t[3 * i + 1],
		       runs[i].fixed, runs[i].remaining, wb, t[3 * i + 2], runs[i].exit_code);
	for (int i = 0; i < 3 * n; i++)
		free(t[i]);
	free(t);
}

/* The fleet's summary: counts by exit code; with per_target, each target's line too. */
static json_t *summary(const fleet_run *runs, int n, const char *cmd, int worst, int per_target)
{
	json_t *o = json_object(), *counts = json_object(), *list = json_array();
	int by_code[5] = {0}, fixed = 0, remaining = 0;
	for (int i = 0; i < n; i++) {
		by_code[rank(runs[i].exit_code)]++;
		fixed += runs[i].fixed;
		remaining += runs[i].remaining;
		if (!per_target)
			continue;
		json_t *t = json_object();
		json_object_set_new(t, "target", escaped(runs[i].target));
		json_object_set_new(t, "computer", escaped(runs[i].computer));
		json_object_set_new(t, "exit", json_integer(runs[i].exit_code));
		json_object_set_new(t, "fixed", json_integer(runs[i].fixed));
		json_object_set_new(t, "remaining", json_integer(runs[i].remaining));
		json_object_set_new(t, "backup", escaped(runs[i].backup));
		json_array_append_new(list, t);
	}
	static const char *const names[5] = {"ok", "problems", "usage", "unusable", "write_failed"};
	for (int k = 0; k < 5; k++)
		json_object_set_new(counts, names[k], json_integer(by_code[k]));
	json_object_set_new(o, per_target ? "schema" : "rdprescue",
			    json_string(per_target ? "rdprescue-fleet/1" : "fleet-summary"));
	json_object_set_new(o, "command", json_string(cmd));
	json_object_set_new(o, "targets", json_integer(n));
	json_object_set_new(o, "exit", json_integer(worst));
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "fixed", json_integer(fixed));
	json_object_set_new(o, "remaining", json_integer(remaining));
	if (per_target)
		json_object_set_new(o, "runs", list);
	else
		json_decref(list);
	return o;
}

int cli_fleet(int argc, char **argv, int first, int jobs, int json)
{
	const char *cmd = argv[0];
	int n = argc - first;
	if (jobs > (int)(sizeof running_pids / sizeof *running_pids))
		jobs = (int)(sizeof running_pids / sizeof *running_pids);
	for (int i = first; i < argc; i++)
		for (int j = first; j < i; j++)
			if (same_target(argv[i], argv[j]))
				return cli_fail(RP_EXIT_USAGE,
						"%s and %s are the same disk: name each disk "
						"once",
						argv[j], argv[i]);
	/* The report cli_fail would print is a single target's; each run prints its own. */
	cli_reported();
	fleet_run *runs = rp_xcalloc((size_t)n, sizeof *runs);
	for (int i = 0; i < n; i++)
		runs[i].target = argv[first + i];
	struct sigaction sa = {.sa_handler = on_signal}, old[3];
	sigemptyset(&sa.sa_mask);
	const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
	for (int k = 0; k < 3; k++)
		sigaction(sigs[k], &sa, &old[k]);
	sigset_t block, prev;
	sigemptyset(&block);
	for (int k = 0; k < 3; k++)
		sigaddset(&block, sigs[k]);
	int next = 0, running = 0, printed = 0;
	while (printed < n) {
		while (running < jobs && next < n) {
			fleet_run *r = &runs[next++];
			if (stopping) {
				r->error = rp_xstrdup("not run: rdprescue was interrupted");
				r->exit_code = RP_EXIT_UNUSABLE;
				r->done = 1;
				continue;
			}
			/* No signal between fork and the child's pid reaching the handler's list.
			 */
			sigprocmask(SIG_BLOCK, &block, &prev);
			start(r, first, argv);
			sigprocmask(SIG_SETMASK, &prev, NULL);
			running += !r->done;
		}
		while (printed < n && runs[printed].done)
			emit(&runs[printed++], cmd, json);
		if (!running)
			continue;
		int st;
		pid_t pid = waitpid(-1, &st, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break; /* no child left: cannot happen while running > 0 */
		}
		for (int i = 0; i < next; i++)
			if (runs[i].pid == pid && !runs[i].done) {
				collect(&runs[i], st, json, !strcmp(cmd, "fix"));
				running--;
			}
	}
	for (int k = 0; k < 3; k++)
		sigaction(sigs[k], &old[k], NULL);
	int worst = RP_EXIT_OK;
	for (int i = 0; i < n; i++)
		if (rank(runs[i].exit_code) > rank(worst))
			worst = runs[i].exit_code;
	json_t *line = summary(runs, n, cmd, worst, 0);
	if (json) {
		json_t *doc = summary(runs, n, cmd, worst, 1);
		json_dumpf(doc, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		table(runs, n);
	}
	json_dumpf(line, json ? stderr : stdout, JSON_COMPACT);
	fputc('\n', json ? stderr : stdout);
	json_decref(line);
	for (int i = 0; i < n; i++) {
		free(runs[i].out_text);
		free(runs[i].err_text);
		free(runs[i].error);
		free(runs[i].computer);
		free(runs[i].backup);
	}
	free(runs);
	return worst;
}
