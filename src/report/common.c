/* common.c — names and notes shared by the text and JSON reports. */
#include "report/report.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

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

/* "SYSTEM.LOG2 is missing (SYSTEM.LOG1 is there): ..." for a hive with one of its two logs. */
static char *missing_log_note(const rp_hive_file *hf)
{
	int has1 = hf->log_path[0] != NULL, has2 = hf->log_path[1] != NULL;
	if (has1 == has2)
		return NULL;
	const char *detail = hf->recovery.detail[0] ? hf->recovery.detail : "the hive is clean";
	return rp_xasprintf("%s.LOG%d is missing (%s.LOG%d is there): %s; if Windows reports "
			    "registry damage, restore the hive from RegBack or a backup",
			    hf->name, has1 ? 2 : 1, hf->name, has1 ? 1 : 2, detail);
}

size_t rp_report_state_notes(const rp_vol *vol, const rp_registry *reg, char **notes, size_t max)
{
	size_t n = 0;
	const char *why = vol ? rp_vol_write_refusal(vol) : NULL;
	if (why && n < max)
		notes[n++] = rp_xasprintf("fix will refuse to write to this volume: %s", why);
	const rp_vol_state *st = vol ? rp_vol_get_state(vol) : NULL;
	if (st && st->journal_pending && n < max)
		notes[n++] = rp_xstrdup(
		    "an interrupted rdprescue run left its last change in its journal: this report "
		    "reads the volume with that change; the next fix or undo writes it");
	else if (st && st->journal_dropped && n < max)
		notes[n++] = rp_xstrdup("an interrupted rdprescue run left an incomplete journal: "
					"none of it reached the "
					"volume; the next fix or undo removes it");
	if (st && st->journal_stale && n < max)
		notes[n++] = rp_xstrdup(
		    "an interrupted rdprescue run left a redo journal that does not match the "
		    "volume: it has changed since (Windows or chkdsk ran), so this report reads "
		    "the "
		    "volume without it; fix will refuse and move the journal aside: run chkdsk /f "
		    "on "
		    "the volume in Windows first");
	if (st && st->journal_unreadable && n < max)
		notes[n++] = rp_xstrdup(
		    "an interrupted rdprescue run left a redo journal that cannot be read, so this "
		    "report reads the volume without it; fix will refuse until the journal can be "
		    "read (or is moved away, if the volume was restored or repaired since)");
	if (st && st->marked_dirty && n < max)
		notes[n++] =
		    rp_xstrdup("the NTFS dirty flag was set by an interrupted rdprescue run: "
			       "the next fix or undo clears it");
	if (st && !st->marked_dirty && st->dirty_flag && n < max)
		notes[n++] = rp_xstrdup(
		    "the NTFS volume is marked dirty: Windows will run chkdsk on it at the next "
		    "boot; if Windows reported disk errors, run chkdsk /f on it in Windows before "
		    "fixing");
	if (reg) {
		const rp_hive_file *h[2] = {&reg->system, &reg->software};
		for (int k = 0; k < 2; k++) {
			char *note = missing_log_note(h[k]);
			if (note && n < max)
				notes[n++] = note;
			else
				free(note);
		}
	}
	return n;
}
