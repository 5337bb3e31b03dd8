/*
 * interrupt.c — the write path and interruption.  From the read-write open to the end of a fix
 * or undo, SIGINT, SIGTERM and SIGHUP are blocked: the run finishes (or rolls back) first, and
 * the report says which signal came.  SIGKILL and power loss cannot be blocked; for those the
 * volume layer keeps the disk consistent (one journaled transaction per operation, the dirty
 * flag while writing, src/vol/ntfs_journal.c), and the next run completes what was left; the
 * notes here say what it found and did.
 */
#include "plan/interrupt.h"
#include "plan/jobs.h"
#include "util/text.h"

#include <string.h>

void rp_plan_guard_begin(rp_plan_guard *g)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &g->old);
	g->active = 1;
}

void rp_plan_guard_end(rp_plan_guard *g, rp_plan_result *res)
{
	if (!g->active)
		return;
	g->active = 0;
	sigset_t pending;
	static const struct {
		int sig;
		const char *name;
	} sigs[] = {{SIGINT, "SIGINT"}, {SIGTERM, "SIGTERM"}, {SIGHUP, "SIGHUP"}};
	int any = 0;
	if (sigpending(&pending) == 0)
		for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
			if (sigismember(&pending, sigs[i].sig)) {
				any = 1;
				rp_plan_add_note(res,
						 rp_xasprintf("%s arrived while the volume was "
							      "being written: rdprescue "
							      "finished first",
							      sigs[i].name));
			}
	/* A pending signal stays blocked: the run reports and exits as usual. */
	if (!any)
		sigprocmask(SIG_SETMASK, &g->old, NULL);
}

void rp_plan_note_volume(rp_plan_result *res, const rp_vol_state *st)
{
	if (st->replayed)
		rp_plan_add_note(res,
				 rp_xstrdup("an interrupted run of rdprescue had left its last "
					    "change in its journal: that change was completed "
					    "first"));
	if (st->journal_dropped)
		rp_plan_add_note(res, rp_xstrdup("an interrupted run of rdprescue had left an "
						 "incomplete journal; none of it had reached the "
						 "volume, and it was removed"));
	if (st->marked_dirty)
		rp_plan_add_note(res, rp_xstrdup("the volume's dirty flag had been set by an "
						 "interrupted run of rdprescue: cleared"));
}

void rp_plan_note_marked(rp_plan_result *res)
{
	rp_plan_add_note(res,
			 rp_xstrdup("the volume was marked dirty while it was written (Windows "
				    "would have run chkdsk had this run been interrupted); the "
				    "mark was cleared at the end"));
}

int rp_plan_finish_interrupted(const rp_target *t, const rp_plan_opts *opts,
			       const rp_vol_state *seen, rp_plan_result *res, rp_err *err)
{
	if (!seen->journal_pending && !seen->marked_dirty && !seen->journal_dropped &&
	    !seen->journal_stale && !seen->journal_unreadable && !seen->stale_mark)
		return 0;
	rp_vol *vol = NULL;
	const rp_install *inst = NULL;
	rp_plan_guard g = {0};
	rp_plan_guard_begin(&g);
	int rc = rp_target_open(t, opts->install_index, 1, &vol, &inst, err);
	if (rc == 0) {
		rp_vol_state st = *rp_vol_get_state(vol);
		rc = rp_vol_close(vol, err);
		if (rc == 0)
			rp_plan_note_volume(res, &st);
	}
	rp_plan_guard_end(&g, res);
	return rc;
}
