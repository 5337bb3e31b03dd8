/*
 * boot_safemode.c — boot.safemode: does the default boot entry start Windows normally?
 *
 * The BCD store (reg/bcd.h) names the default loader in the boot manager's element 23000003.
 * A SafeBoot element (25000080) on that loader boots Safe Mode every time — minimal or with
 * networking, either way Remote Desktop Services does not run, so the machine never answers on
 * the RDP port.  The fix deletes the element (bcdedit /deletevalue {default} safeboot) and the
 * SafeBootAlternateShell element (26000081) with it.  With fix --enable-sac the loader's EMS
 * element (260000b0, bcdedit /ems {default} on) is set too, so that the Special Administration
 * Console answers on the serial console next time.  Every boot entry is shown as evidence.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>

#define CHECK rp_id_boot_safemode

static const uint8_t bool_true[1] = {1};

/* The entry's name for summaries (the report escapes them). */
static char *shown_description(const rp_bcd_entry *e)
{
	return rp_xstrdup(e->description ? e->description : e->id);
}

/* Evidence for every entry: its description, with its state as the note. */
static void entries_evidence(rp_finding *f, rp_bcd *bcd)
{
	for (size_t i = 0; i < bcd->n; i++) {
		const rp_bcd_entry *e = &bcd->entries[i];
		char *key = rp_bcd_element_key(e->id, RP_BCD_DESCRIPTION);
		rp_evidence *ev = rp_evidence_value(f, &bcd->file, key, "Element", RP_SRC_BCD);
		char buf[16];
		ev->path = rp_xstrdup(bcd->file.path);
		ev->note = rp_xasprintf(
		    "boot entry%s: Safe Mode %s%s, EMS %s", e->is_default ? " (default)" : "",
		    e->safeboot < 0 ? "off" : rp_bcd_safeboot_name(e->safeboot, buf, sizeof buf),
		    e->alt_shell ? " with alternate shell" : "", e->ems ? "on" : "off");
		free(key);
	}
}

static void element_evidence(rp_finding *f, rp_bcd *bcd, const char *id, const char *el,
			     const char *note)
{
	char *key = rp_bcd_element_key(id, el);
	rp_evidence *ev = rp_evidence_value(f, &bcd->file, key, "Element", RP_SRC_BCD);
	ev->path = rp_xstrdup(bcd->file.path);
	ev->note = rp_xstrdup(note);
	free(key);
}

static void safe_mode(rp_scan *scan, rp_bcd *bcd, const rp_bcd_entry *d)
{
	char buf[16];
	const char *mode = rp_bcd_safeboot_name(d->safeboot, buf, sizeof buf);
	char *name = shown_description(d);
	char *sum = rp_xasprintf("the default boot entry '%s' starts Windows in Safe Mode (%s)",
				 name, mode);
	char *explain = rp_xasprintf(
	    "The BCD store on %s gives the default boot entry a SafeBoot element, so Windows "
	    "starts in Safe Mode at every boot. Remote Desktop Services does not run in Safe Mode "
	    "(not even Safe Mode with networking), so nothing answers on the RDP port. The fix "
	    "deletes the SafeBoot element%s, as 'bcdedit /deletevalue {default} safeboot' does; "
	    "Windows then boots normally.",
	    bcd->where, d->alt_shell ? " and the SafeBootAlternateShell element" : "");
	rp_finding *f = rp_finding_add(scan, CHECK, RP_PROBLEM, RP_ERROR, sum, explain);
	element_evidence(f, bcd, RP_BCD_BOOTMGR, RP_BCD_DEFAULT, "the boot manager's default");
	element_evidence(f, bcd, d->id, RP_BCD_SAFEBOOT, "SafeBoot");
	entries_evidence(f, bcd);
	char *key = rp_bcd_element_key(d->id, RP_BCD_SAFEBOOT);
	char *what = rp_xasprintf("delete BCD\\%s (SafeBoot %s) of '%s'", key, mode, name);
	rp_change_delete_key(f, "BCD", key, what);
	free(what);
	free(key);
	char *alt = rp_bcd_element_key(d->id, RP_BCD_ALT_SHELL);
	rp_err ignored = {0};
	if (rp_hive_key_exists(bcd->file.hive, alt, &ignored) == 1) {
		what = rp_xasprintf("delete BCD\\%s (SafeBootAlternateShell) of '%s'", alt, name);
		rp_change_delete_key(f, "BCD", alt, what);
		free(what);
	}
	free(alt);
	free(sum);
	free(explain);
	free(name);
}

static void enable_ems(rp_scan *scan, rp_bcd *bcd, const rp_bcd_entry *d)
{
	char *name = shown_description(d);
	char *sum = rp_xasprintf("Emergency Management Services are off for the default boot "
				 "entry '%s' (--enable-sac asks for them)",
				 name);
	const char *explain =
	    "With EMS on, Windows runs the Special Administration Console (SAC) on the serial "
	    "port, so a machine that is unreachable over the network can still be inspected and "
	    "repaired from the cloud's serial console next time. The fix sets the loader's EMS "
	    "element, as 'bcdedit /ems {default} on' does; the port and speed are the store's EMS "
	    "settings (bcdedit /emssettings; Windows' default is COM1). Whoever can reach that "
	    "serial console gets the SAC prompt; opening a command shell from it still asks for a "
	    "Windows account.";
	rp_finding *f = rp_finding_add(scan, CHECK, RP_PROBLEM, RP_INFO, sum, explain);
	element_evidence(f, bcd, d->id, RP_BCD_EMS, "EMS");
	char *key = rp_bcd_element_key(d->id, RP_BCD_EMS);
	char *what = rp_xasprintf("set BCD\\%s to true (EMS on for '%s')", key, name);
	rp_change_raw(f, "BCD", key, "Element", RP_REG_BINARY, bool_true, sizeof bool_true, 0,
		      what);
	free(what);
	free(key);
	free(sum);
	free(name);
}

int rp_check_boot_safemode(rp_scan *scan, rp_err *err)
{
	(void)err;
	if (!scan->bcd_loaded) {
		rp_bcd_load(scan->vol, &scan->bcd);
		scan->bcd_loaded = 1;
	}
	rp_bcd *bcd = &scan->bcd;
	if (!bcd->found) {
		char *why = bcd->error ? rp_escape(bcd->error) : NULL;
		if (why)
			rp_finding_add(scan, CHECK, RP_SKIPPED, RP_WARNING,
				       "the BCD store cannot be read", why);
		else
			rp_finding_add(
			    scan, CHECK, RP_SKIPPED, RP_INFO, "no BCD store found",
			    "Neither an EFI system partition nor a System Reserved "
			    "partition with a BCD store is part of this target (give the "
			    "whole OS disk, not only the Windows partition).");
		free(why);
		return 0;
	}
	const rp_bcd_entry *d = rp_bcd_default(bcd);
	if (!d) {
		rp_finding *f = rp_finding_add(
		    scan, CHECK, RP_OK, RP_WARNING, "the BCD store names no default boot entry",
		    "The boot manager has no default entry (element 23000003) that "
		    "exists in the store; Windows Boot Manager shows its menu.");
		entries_evidence(f, bcd);
		return 0;
	}
	if (d->safeboot >= 0)
		safe_mode(scan, bcd, d);
	if (scan->enable_sac && !d->ems)
		enable_ems(scan, bcd, d);
	if (d->safeboot < 0) {
		char *name = shown_description(d);
		char *sum = rp_xasprintf("the default boot entry '%s' starts Windows normally "
					 "(no Safe Mode; EMS %s)",
					 name, d->ems ? "on" : "off");
		rp_finding *f = rp_finding_add(scan, CHECK, RP_OK, RP_INFO, sum, NULL);
		entries_evidence(f, bcd);
		free(sum);
		free(name);
	}
	return 0;
}
