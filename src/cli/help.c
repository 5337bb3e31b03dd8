/*
 * help.c — `rdprescue help CMD`, `CMD --help` and `CMD -h`: the one place where each command's
 * options are described for people.  A command's getopt table (in its cmd_*.c) says what it
 * parses; its entry here says what each option does, gives examples and the exit codes.
 * tests/scenario/t_help.sh checks that every option a cmd_*.c parses has its line here.
 * Everything is printed wrapped to the terminal's width (80 on a file or pipe).
 */
#include "cli/cli.h"
#include "util/term.h"

#include <stdio.h>
#include <string.h>

typedef struct help_opt {
	const char *opt;  /* "--check ID,..." */
	const char *text; /* what it does, plain words */
} help_opt;

typedef struct help_cmd {
	const char *name;
	const char *usage[3]; /* synopsis lines after "rdprescue " */
	const char *about;
	help_opt opts[16];
	const char *examples[6];
	const char *exits[6];
} help_cmd;

#define TARGET_TEXT                                                                                \
	"TARGET is a block device, a raw disk image (MBR or GPT), a fixed VHD, a "                 \
	"single-partition NTFS image, or a directory where a Windows volume is mounted."

#define OPT_INSTALL                                                                                \
	{                                                                                          \
		"--install N",                                                                     \
		    "the installation numbered N by 'rdprescue list' when the disk holds "         \
		    "several"                                                                      \
	}
#define OPT_JSON(where)                                                                            \
	{                                                                                          \
		"--json",                                                                          \
		    "one JSON document on stdout (" where "); the summary line goes to stderr"     \
	}
#define OPT_JOBS                                                                                   \
	{                                                                                          \
		"--jobs N", "with several TARGETs: run N at once (default: one per CPU); each "    \
			    "report whole, then a table (--json: JSON Lines, a last "              \
			    "rdprescue-fleet/1 line); exit: the worst, 4 > 3 > 2 > 1 > 0"          \
	}
#define OPT_HELP                                                                                   \
	{                                                                                          \
		"-h, --help", "this help"                                                          \
	}

static const help_cmd cmds[] = {
    {"scan",
     {"scan TARGET [options]", "scan TARGET... [--jobs N] [options]"},
     "Reads the Windows installation on TARGET and reports, check by check, why Remote "
     "Desktop fails, with the evidence. Writes nothing. " TARGET_TEXT,
     {OPT_JSON("schema rdprescue/1"),
      {"--brief", "one line per check and the summary line, under 4 KiB: for cloud "
		  "run-command consoles that keep only the tail"},
      {"--check ID,...", "only these checks; ids are case-insensitive, globs such as 'rdp.*' "
			 "select a family ('rdprescue --help' lists the checks)"},
      OPT_INSTALL,
      {"--now TIME", "judge certificates at this UTC time, YYYY-MM-DD or "
		     "YYYY-MM-DDTHH:MM:SSZ, instead of the clock's"},
      OPT_JOBS,
      OPT_HELP},
     {"rdprescue scan /dev/sdc", "rdprescue scan /dev/disk/azure/scsi1/lun0 --brief",
      "rdprescue scan disk.img --check 'rdp.*,cert.rdp' --json",
      "rdprescue scan /dev/sdc /dev/sdd /dev/sde --jobs 3"},
     {"0  no problem found", "1  problems found (run 'rdprescue fix')", "2  usage error",
      "3  target unusable (no Windows, BitLocker, hibernated, corrupt hive)"}},
    {"fix",
     {"fix TARGET [options] --yes", "fix TARGET [options] --dry-run",
      "fix TARGET... [--jobs N] [options] --yes"},
     "Scans TARGET, writes the repairs (a backup first, on the Windows volume in "
     "\\rdprescue\\backups and in --backup-dir), then scans again and reports what the disk "
     "now holds. 'rdprescue undo' puts every byte back. " TARGET_TEXT,
     {OPT_JSON("schema rdprescue/1"),
      {"--brief", "one line per check and the summary line, under 4 KiB"},
      {"--check ID,...", "only these checks (case-insensitive ids, globs such as 'keys.*')"},
      OPT_INSTALL,
      {"--dry-run", "plan and verify the new hives in memory, write nothing"},
      {"--backup-dir DIR", "also write the backup archive into DIR (on the rescue machine)"},
      {"--allow-weaker-security", "permit changes that lower security (NLA off, negotiated "
				  "security layer); the report says what protection is lost"},
      {"--yes", "do not ask; required when standard input is not a terminal"},
      {"--now TIME", "judge certificates at this UTC time (YYYY-MM-DD[THH:MM:SSZ])"},
      {"--reset-ip", "(net.ip) switch static interfaces to DHCP on a machine without a cloud "
		     "guest agent too; the old addresses stay in the report and the backup"},
      {"--disable-driver NAME", "(net.filters) disable NAME, a third-party network driver "
				"the scan lists; lowers protection, the report says what is lost"},
      {"--enable-sac", "turn on Emergency Management Services for the default boot entry, so "
		       "the serial console's SAC answers next time"},
      {"--grant-rdp-logon ACCOUNT", "(logon.rdp) add the local account ACCOUNT to Remote "
				    "Desktop Users; no password is read or written"},
      OPT_JOBS,
      OPT_HELP},
     {"rdprescue fix /dev/sdc --dry-run", "rdprescue fix /dev/sdc --yes --backup-dir /root/bk",
      "rdprescue fix /dev/nvme1n1 --yes --brief",
      "rdprescue fix /images/*.vhd --yes --json > fleet.jsonl"},
     {"0  everything fixed (or nothing to fix)", "1  problems remain", "2  usage error",
      "3  target unusable: nothing written", "4  a write failed and was rolled back"}},
    {"undo",
     {"undo TARGET [options] --yes", "undo TARGET [options] --dry-run"},
     "Restores the newest backup not yet undone (or --backup ID|FILE) byte for byte, "
     "security descriptors included, after saving the current state as a backup of its "
     "own, and names it. Run again, it walks further back, to the state before the first "
     "fix; 'rdprescue backups' lists them. " TARGET_TEXT,
     {{"--backup ID|FILE", "the backup to restore (an id from 'rdprescue backups', or an "
			   "archive file) instead of the newest"},
      {"--backup-dir DIR", "also look for backups in DIR and write the backup of the current "
			   "state there"},
      OPT_INSTALL,
      {"--force", "also restore files that changed after the backup was made"},
      {"--dry-run", "say what would be restored, write nothing"},
      OPT_JSON("schema rdprescue/1"),
      {"--yes", "do not ask; required when standard input is not a terminal"},
      OPT_HELP},
     {"rdprescue undo /dev/sdc --yes", "rdprescue undo /dev/sdc --dry-run",
      "rdprescue undo disk.img --backup /root/bk/rdprescue-X.tar.zst --yes"},
     {"0  restored (or nothing to restore)", "2  usage error",
      "3  target unusable or no backup: nothing written", "4  a write failed and was rolled back"}},
    {"backups",
     {"backups TARGET [--install N] [--backup-dir DIR] [--json]"},
     "Lists every backup of the installation, newest first: id, time, command, the files it "
     "changed, where each copy is, and whether it was undone. Writes nothing. " TARGET_TEXT,
     {OPT_INSTALL,
      {"--backup-dir DIR", "also list the backups kept in DIR"},
      OPT_JSON("schema rdprescue-backups/1"),
      OPT_HELP},
     {"rdprescue backups /dev/sdc", "rdprescue backups disk.img --backup-dir /root/bk --json"},
     {"0  listed (none is not an error)", "2  usage error", "3  target unusable"}},
    {"list",
     {"list [DEVICE|IMAGE ...]"},
     "Prints every Windows installation on the given disks (partition, size, label, product, "
     "build, computer name), or on every disk of this machine when none is given. A cloud "
     "disk's name is shown where its link says it: Azure LUN, AWS EBS volume, GCP disk.",
     {OPT_HELP},
     {"rdprescue list", "rdprescue list /dev/disk/azure/scsi1/lun0", "rdprescue list disk.img"},
     {"0  at least one installation found", "2  usage error", "3  no Windows installation found"}},
    {"acl",
     {"acl TARGET show PATH [--install N] [--json]",
      "acl TARGET reset PATH --sddl SDDL [options] --yes"},
     "Shows or sets the security descriptor of one file or folder on the Windows volume. "
     "PATH is volume-relative; 'C:\\ProgramData\\...' is accepted too. reset backs the "
     "original up first and 'rdprescue undo' restores it. " TARGET_TEXT,
     {{"--sddl SDDL", "(reset) the descriptor to set; it must name an owner O: and a group G:"},
      OPT_INSTALL,
      {"--json", "(show) one JSON object, schema rdprescue-acl/1"},
      {"--backup-dir DIR", "(reset) also write the backup archive into DIR"},
      {"--dry-run", "(reset) only check the SDDL, write nothing"},
      {"--yes", "(reset) do not ask; required when standard input is not a terminal"},
      OPT_HELP},
     {"rdprescue acl /dev/sdc show 'C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys'",
      "rdprescue acl /dev/sdc reset ProgramData/Microsoft/Crypto/RSA/MachineKeys --sddl "
      "'O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)' --yes"},
     {"0  shown or set", "2  usage error (a bad SDDL too)", "3  target or PATH unusable",
      "4  a write failed and was rolled back"}},
    {"events",
     {"events TARGET [--since last-boot|TIME] [--all] [--install N] [--json]"},
     "Prints what Windows itself logged about Remote Desktop, read offline from "
     "Windows\\System32\\winevt\\Logs: a timeline by boot (boot and shutdown markers "
     "between them), each event with its time, source, id, inserts in words and the check it "
     "points to. Writes nothing. " TARGET_TEXT,
     {{"--since TIME", "from this UTC time (YYYY-MM-DD[THH:MM:SSZ]) on; last-boot (the "
		       "default) starts at the last boot before the outage"},
      {"--all", "every event rdprescue knows, from the start of each log"},
      OPT_INSTALL,
      OPT_JSON("schema rdprescue-events/1"),
      OPT_HELP},
     {"rdprescue events /dev/sdc", "rdprescue events disk.img --since 2026-03-01 --json"},
     {"0  the logs were read", "2  usage error", "3  target unusable or no log readable"}},
    {"reg",
     {"reg TARGET get KEY [VALUE] | export KEY [FILE.reg] [options]",
      "reg TARGET set KEY VALUE TYPE DATA | delete KEY [VALUE] --yes",
      "reg TARGET import FILE.reg [options] --yes"},
     "Reads and edits the registry of the Windows installation on TARGET offline, with every "
     "hive's transaction logs replayed first (so a dirty hive loses nothing). KEY is written "
     "as in regedit: HKLM\\SYSTEM\\CurrentControlSet\\... (the control set Windows boots), "
     "HKLM\\SOFTWARE, HKLM\\SAM, HKLM\\SECURITY, HKU\\.DEFAULT, HKU\\<user> (Users\\<user>"
     "\\NTUSER.DAT) or BCD. VALUE \"\" is the default value. TYPE is REG_SZ, REG_EXPAND_SZ, "
     "REG_DWORD, REG_QWORD (decimal or 0x hex), REG_MULTI_SZ (strings separated by \\0) or "
     "REG_BINARY (hex bytes). export writes a .reg as regedit does (UTF-16LE, version 5.00; "
     "to stdout as UTF-8 without FILE, the summary then on stderr); import reads version "
     "5.00 (UTF-16LE or UTF-8) and REGEDIT4 files, [-KEY] and \"name\"=- deletions "
     "included. Every write is backed up, verified and read back like fix, and 'rdprescue "
     "undo' restores it. reg refuses nothing regedit allows, but says which change lowers "
     "Remote Desktop security. " TARGET_TEXT,
     {OPT_INSTALL,
      {"--json", "one JSON document on stdout (get, export: schema rdprescue-reg/1; set, "
		 "delete, import: rdprescue/1 as fix); the summary line goes to stderr"},
      {"--dry-run", "(set, delete, import) build and verify the new hives, show the changes, "
		    "write nothing"},
      {"--backup-dir DIR", "(set, delete, import) also write the backup archive into DIR"},
      {"--yes", "(set, delete, import) do not ask; required when standard input is not a "
		"terminal"},
      OPT_HELP},
     {"rdprescue reg /dev/sdc get 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server'",
      "rdprescue reg /dev/sdc set 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server' "
      "fDenyTSConnections REG_DWORD 0 --yes",
      "rdprescue reg disk.img export 'HKLM\\SOFTWARE\\Policies' policies.reg",
      "rdprescue reg disk.img import fix.reg --dry-run"},
     {"0  read, or written and read back", "1  KEY or VALUE does not exist",
      "2  usage error (a bad KEY, TYPE, DATA or .reg line too)",
      "3  target or hive unusable, nothing written", "4  a write failed and was rolled back"}},
    {"hive",
     {"hive FILE [LOG1 LOG2] [--recover OUT]"},
     "Inspects a loose registry hive file: its base block, its transaction logs (FILE.LOG1 and "
     "FILE.LOG2 beside it unless given) and what a replay would do, or why it is refused. "
     "Never writes FILE.",
     {{"--recover OUT", "write the replayed hive with a clean base block to OUT"}, OPT_HELP},
     {"rdprescue hive SYSTEM", "rdprescue hive SYSTEM SYSTEM.LOG1 SYSTEM.LOG2 --recover "
			       "SYSTEM.fixed"},
     {"0  the hive (after replay) is sound", "2  usage error",
      "3  the hive or a log is unreadable, or the replay is refused",
      "4  OUT could not be written"}},
};

static const help_cmd *find(const char *name)
{
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

int cli_has_help(const char *cmd)
{
	return find(cmd) != NULL;
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

int cli_help(const char *cmd, FILE *out)
{
	const help_cmd *h = find(cmd);
	if (!h)
		return cli_fail(2, "no command '%s'; 'rdprescue help' lists them", cmd);
	size_t w = rp_term_width(out);
	for (int i = 0; i < 3 && h->usage[i]; i++)
		fprintf(out, "%s rdprescue %s\n", i ? "      " : "usage:", h->usage[i]);
	fputc('\n', out);
	rp_wrap(out, h->about, 0, 0, w);
	fputs("\n\nOptions:\n", out);
	for (size_t i = 0; i < sizeof h->opts / sizeof h->opts[0] && h->opts[i].opt; i++) {
		const help_opt *o = &h->opts[i];
		/* The option, then its text from column 28 (on the next line when it is longer). */
		fprintf(out, "  %s", o->opt);
		size_t col = 2 + strlen(o->opt);
		if (col >= 27) {
			fprintf(out, "\n%28s", "");
			col = 28;
		} else {
			fprintf(out, "%*s", (int)(28 - col), "");
			col = 28;
		}
		rp_wrap(out, o->text, col, 28, w);
		fputc('\n', out);
	}
	fputs("\nExamples:\n", out);
	for (int i = 0; i < 6 && h->examples[i]; i++) {
		fputs("  ", out);
		rp_wrap(out, h->examples[i], 2, 6, w);
		fputc('\n', out);
	}
	fputs("\nExit status:\n", out);
	for (int i = 0; i < 6 && h->exits[i]; i++) {
		fputs("  ", out);
		rp_wrap(out, h->exits[i], 2, 5, w);
		fputc('\n', out);
	}
	fputs("\nSee also: man rdprescue\n", out);
	return 0;
}

void cli_help_commands(FILE *out)
{
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(out, "  rdprescue %s\n", cmds[i].usage[0]);
}
