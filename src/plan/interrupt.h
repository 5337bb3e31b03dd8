/*
 * interrupt.h — signals blocked while the volume is written, and what an interrupted earlier
 * run left (src/plan/interrupt.c).
 */
#ifndef RP_PLAN_INTERRUPT_H
#define RP_PLAN_INTERRUPT_H

#include "plan/plan.h"

#include <signal.h>

typedef struct rp_plan_guard {
	sigset_t old;
	int active;
} rp_plan_guard;

/* Blocks SIGINT, SIGTERM and SIGHUP. */
void rp_plan_guard_begin(rp_plan_guard *g);
/* Notes every one of them that arrived; unblocks them when none did (a pending one stays
 * blocked so that the run reports and exits normally).  No-op when not begun. */
void rp_plan_guard_end(rp_plan_guard *g, rp_plan_result *res);
/* Notes what the read-write open found and did about an interrupted run (st: at the open). */
void rp_plan_note_volume(rp_plan_result *res, const rp_vol_state *st);
/* Notes that this run marked the volume dirty while writing (the flag is cleared by now). */
void rp_plan_note_marked(rp_plan_result *res);
/* When a read-only look (seen) found what an interrupted run left, opens the volume read-write
 * and closes it: the open completes the journaled change, the close clears the dirty flag (a
 * stale journal: the open fails with RP_EXIT_UNUSABLE and sets it aside).
 * For a fix or undo that has nothing else to write. */
int rp_plan_finish_interrupted(const rp_target *t, const rp_plan_opts *opts,
			       const rp_vol_state *seen, rp_plan_result *res, rp_err *err);

#endif
