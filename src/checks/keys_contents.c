/*
 * keys_contents.c — keys.contents: key container files in MachineKeys that are plainly broken.
 *
 * Only what capi/ calls broken is touched: empty, zero-filled, truncated (header lengths that
 * cannot fit the file) or malformed CAPI containers.  Each becomes one quarantine change (copied
 * into the backup, then removed): Windows can then make its keys anew, and an application whose
 * key it was gets an error it can report instead of a crash.  Anything else, CNG keys and files
 * that are not recognisably CAPI, stays untouched and is at most reported (info).  A broken RDP
 * key is quarantined too, even while a certificate still uses it: it is unusable either way, and
 * Windows only makes a new one when the old file is gone (cert.rdp removes the certificate in
 * the same run, so that Windows makes both anew).
 *
 * A MachineKeys folder can hold 100,000 files and more (a known Windows leak), so a whole
 * folder is one finding: one change per broken file, evidence for the first EVIDENCE_MAX only.
 * Files are read one at a time, each through its entry of the folder's listing (rp_vol_walk:
 * no lookup by name per file); only the broken ones are remembered.
 */
#include "capi/capi.h"
#include "checks/keys.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVIDENCE_MAX 20
/* Key containers are a few KiB; a bigger file is not one, and is not read. */
#define KEY_FILE_MAX (1u << 20)
#define PROGRESS_EVERY 1000

typedef struct broken {
	char *name;
	char reason[160];
} broken;

typedef struct walk {
	rp_scan *scan;
	size_t files, unrecognized, skipped, unreadable;
	broken *bad;
	size_t nbad, cap;
	rp_err first_unreadable;
} walk;

static int visit(void *ctx, const char *name, const rp_stat *st, rp_vol_entry *ent)
{
	walk *w = ctx;
	w->files++;
	if (w->scan->progress && w->files % PROGRESS_EVERY == 0)
		w->scan->progress(w->scan->progress_ctx, rp_id_keys_contents, w->files, 0);
	if (st->is_dir || st->is_reparse || st->is_encrypted) {
		w->skipped++;
		return 0;
	}
	if (st->size > KEY_FILE_MAX) {
		w->unrecognized++;
		return 0;
	}
	/* Read through the listing's own entry: no second lookup of the name. */
	uint8_t *data = NULL;
	size_t len = 0;
	rp_err e = {0};
	if (rp_vol_entry_read(ent, KEY_FILE_MAX, &data, &len, &e) < 0) {
		if (!w->unreadable++)
			w->first_unreadable = e;
		return 0;
	}
	rp_capi_info ci;
	rp_capi_inspect(data, len, &ci);
	free(data);
	if (ci.verdict == RP_CAPI_UNRECOGNIZED)
		w->unrecognized++;
	if (!rp_capi_is_broken(ci.verdict))
		return 0;
	if (w->nbad == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->bad = rp_xrealloc(w->bad, w->cap * sizeof *w->bad);
	}
	w->bad[w->nbad].name = rp_xstrdup(name);
	snprintf(w->bad[w->nbad].reason, sizeof w->bad[w->nbad].reason, "%s", ci.reason);
	w->nbad++;
	return 0;
}

static void file_note(rp_finding *f, const char *path, const char *note)
{
	rp_evidence *e = rp_evidence_copy(f, &(rp_evidence){.source = RP_SRC_FILE});
	e->path = rp_xstrdup(path);
	e->note = rp_escape(note);
}

static void report_broken(rp_scan *scan, walk *w)
{
	char *sum = rp_xasprintf("%zu broken key container file%s in MachineKeys (of %zu files)",
				 w->nbad, w->nbad == 1 ? "" : "s", w->files);
	rp_finding *f = rp_finding_add(
	    scan, rp_id_keys_contents, RP_PROBLEM, RP_ERROR, sum,
	    "Empty, zero-filled or truncated key files (left by a crash or a full disk) make "
	    "the services that own them fail, and a broken RDP key leaves the RDP listener without "
	    "a certificate (0x904 / "
	    "extended 0x7 at the client). No key "
	    "can be repaired offline. The fix moves each broken file into the backup (undo "
	    "puts it back); Windows makes its own keys anew. Sound keys are not touched.");
	free(sum);
	for (size_t i = 0; i < w->nbad; i++) {
		char *path = rp_xasprintf("%s/%s", RP_MACHINEKEYS, w->bad[i].name);
		if (i < EVIDENCE_MAX)
			file_note(f, path, w->bad[i].reason);
		char *what = rp_xasprintf("quarantine %s (%s)", path, w->bad[i].reason);
		char *shown = rp_escape(what);
		rp_change_quarantine(f, path, shown);
		free(shown);
		free(what);
		free(path);
	}
	if (w->nbad > EVIDENCE_MAX) {
		char *note = rp_xasprintf("and %zu more broken files", w->nbad - EVIDENCE_MAX);
		file_note(f, RP_MACHINEKEYS, note);
		free(note);
	}
}

int rp_check_keys_contents(rp_scan *scan, rp_err *err)
{
	int state = rp_keys_folder(scan, rp_id_keys_contents, err);
	if (state != RP_KEYS_FOLDER_OK)
		return state < 0 ? -1 : 0;
	walk w = {.scan = scan};
	int rc = rp_vol_walk(scan->vol, RP_MACHINEKEYS, visit, &w, err);
	if (scan->progress)
		scan->progress(scan->progress_ctx, rp_id_keys_contents, w.files, 1);
	if (rc < 0)
		goto out;
	if (w.nbad) {
		report_broken(scan, &w);
	} else {
		char *sum = rp_xasprintf("no broken key container file in MachineKeys (%zu file%s)",
					 w.files, w.files == 1 ? "" : "s");
		rp_finding_add(scan, rp_id_keys_contents, RP_OK, RP_INFO, sum, NULL);
		free(sum);
	}
	if (w.unrecognized || w.skipped || w.unreadable) {
		char *sum = rp_xasprintf("%zu file%s not recognised as CAPI key containers, %zu "
					 "folders or links, %zu unreadable: left alone",
					 w.unrecognized, w.unrecognized == 1 ? "" : "s", w.skipped,
					 w.unreadable);
		rp_finding *f =
		    rp_finding_add(scan, rp_id_keys_contents, RP_OK, RP_INFO, sum,
				   "CNG keys and files of other formats are not judged; only "
				   "plainly broken CAPI containers are moved.");
		if (w.unreadable)
			file_note(f, RP_MACHINEKEYS, w.first_unreadable.msg);
		free(sum);
	}
out:
	for (size_t i = 0; i < w.nbad; i++)
		free(w.bad[i].name);
	free(w.bad);
	return rc;
}
