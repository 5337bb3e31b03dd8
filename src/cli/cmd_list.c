/*
 * cmd_list.c — `rdprescue list`: the Windows installations on the given disks, or on every
 * block device of this machine when none is given (the rescue VM / USB case), with the cloud
 * or hypervisor a disk comes from where its udev links say it (devname.c).
 */
#include "cli/cli.h"
#include "reg/bcd.h"
#include "reg/install.h"
#include "report/report.h"
#include "util/text.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(const char *label, const char *s)
{
	char *e = rp_escape(s ? s : "?");
	printf("%s%s", label, e);
	free(e);
}

/* The boot entries of the BCD store beside the installation, one line each. */
static void list_boot(rp_vol *vol)
{
	rp_bcd bcd;
	rp_bcd_load(vol, &bcd);
	if (!bcd.found && bcd.error) {
		put("  boot: ", bcd.error);
		putchar('\n');
	}
	for (size_t i = 0; i < bcd.n; i++) {
		const rp_bcd_entry *e = &bcd.entries[i];
		char buf[16];
		put("  boot entry ", e->description ? e->description : e->id);
		printf(
		    "%s: Safe Mode %s%s, EMS %s (BCD on %s)\n", e->is_default ? " (default)" : "",
		    e->safeboot < 0 ? "off" : rp_bcd_safeboot_name(e->safeboot, buf, sizeof buf),
		    e->alt_shell ? " with alternate shell" : "", e->ems ? "on" : "off", bcd.where);
	}
	rp_bcd_free(&bcd);
}

/* Returns the number of installations printed; quiet: no message for "no Windows". */
static int list_one(const char *path, int quiet)
{
	rp_err err = {0};
	rp_target t = {0};
	if (rp_target_probe(&t, path, &err) < 0) {
		if (!quiet)
			cli_fail(err.exit_code, "%s", err.msg);
		rp_target_free(&t);
		return 0;
	}
	char *origin = cli_disk_origin(path);
	for (size_t i = 0; i < t.ninstalls; i++) {
		const rp_install *inst = NULL;
		rp_vol *vol = NULL;
		rp_registry reg = {0};
		rp_err e2 = {0};
		char *p = rp_escape(path);
		printf("%s install %zu: partition %d, %.1f GiB", p, i + 1,
		       t.installs[i].part_number, (double)t.installs[i].size / (1 << 30));
		free(p);
		put(", label ", t.installs[i].label[0] ? t.installs[i].label : "(none)");
		if (rp_target_open(&t, (int)i + 1, 0, &vol, &inst, &e2) < 0 ||
		    rp_registry_load_core(vol, &reg, &e2) < 0) {
			put(", registry unreadable: ", e2.msg);
		} else {
			put(", ", reg.product);
			put(" build ", reg.build);
			put(", computer ", reg.computer);
			char *notes[8];
			size_t n = rp_report_state_notes(vol, &reg, notes, 8);
			for (size_t k = 0; k < n; k++) {
				put("; note: ", notes[k]); /* one line per installation */
				free(notes[k]);
			}
		}
		/* Last, so that "DISK install N:" stays what scripts split on. */
		if (origin)
			printf(" [%s]", origin);
		putchar('\n');
		if (vol)
			list_boot(vol);
		rp_registry_free(&reg);
		rp_vol_close(vol, NULL);
	}
	int n = (int)t.ninstalls;
	free(origin);
	rp_target_free(&t);
	return n;
}

int cmd_list(int argc, char **argv)
{
	int found = 0;
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			found += list_one(argv[i], 0);
		return found ? RP_EXIT_OK : RP_EXIT_UNUSABLE;
	}
	DIR *d = opendir("/sys/block");
	if (!d)
		return cli_fail(RP_EXIT_UNUSABLE,
				"cannot read /sys/block: give the disks to look at "
				"(rdprescue list /dev/sdX ...)");
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strncmp(de->d_name, "loop", 4) ||
		    !strncmp(de->d_name, "ram", 3) || !strncmp(de->d_name, "zram", 4) ||
		    !strncmp(de->d_name, "sr", 2))
			continue;
		char *dev = rp_xasprintf("/dev/%s", de->d_name);
		found += list_one(dev, 1);
		free(dev);
	}
	closedir(d);
	if (!found)
		return cli_fail(RP_EXIT_UNUSABLE,
				"no Windows installation found on this machine's disks; attach "
				"the OS disk or give an image (rdprescue list IMAGE)");
	return 0;
}
