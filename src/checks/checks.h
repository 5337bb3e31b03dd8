/*
 * checks.h — the check catalogue: findings with evidence, and the changes that repair them.
 *
 * A check reads only (through reg/ and vol/), and yields findings.  Each finding says what was
 * seen (evidence: which hive, key, value, data, and where the effective value came from) and
 * plans the changes that would make it healthy.  Nothing is written here: plan/ does that.
 */
#ifndef RP_CHECKS_H
#define RP_CHECKS_H

#include "evtx/evtx.h"
#include "reg/bcd.h"
#include "reg/install.h"
#include "vol/vol.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum rp_status {
	RP_OK = 0,
	RP_PROBLEM,
	RP_FIXED,
	RP_NOT_FIXED,
	RP_SKIPPED,
} rp_status;

typedef enum rp_severity { RP_INFO = 0, RP_WARNING, RP_ERROR } rp_severity;

/* Where an effective value came from. */
#define RP_SRC_LOCAL "local"
#define RP_SRC_POLICY "policy"
#define RP_SRC_REGPOL "registry.pol"
#define RP_SRC_DOMAIN "domain-gpo"
#define RP_SRC_FILE "file"
#define RP_SRC_BCD "bcd" /* an element of the BCD store (boot.safemode) */

typedef struct rp_evidence {
	char *hive; /* "SYSTEM" / "SOFTWARE" / NULL for files */
	char *key;
	char *value;
	int present; /* the value exists */
	uint32_t type;
	uint8_t *data;
	size_t len;
	char *source; /* RP_SRC_* */
	char *path;   /* file evidence: volume path */
	char *note;   /* e.g. "effective (policy beats local)" */
} rp_evidence;

typedef enum rp_change_kind {
	RP_CHANGE_REG_SET,	    /* hive \ key \ value := type/data */
	RP_CHANGE_REG_DELETE_VALUE, /* hive \ key \ value removed */
	RP_CHANGE_REG_DELETE_KEY,   /* hive \ key removed with its subkeys */
	RP_CHANGE_POL_SET,	    /* Registry.pol at path: entry key;value := type/data */
	RP_CHANGE_POL_DELETE,	    /* Registry.pol at path: entry key;value removed */
	RP_CHANGE_FILE_SD,	    /* file or folder at path gets SD data (self-relative) */
	RP_CHANGE_QUARANTINE,	    /* file at path moved into the backup, then removed */
	RP_CHANGE_REG_CREATE_KEY,   /* hive \\ key created (with its parents), no value */
} rp_change_kind;

typedef struct rp_change {
	rp_change_kind kind;
	char *hive; /* REG_*: "SYSTEM", "SOFTWARE"; NULL otherwise */
	char *path; /* POL_*, FILE_SD, QUARANTINE: volume path */
	char *key;  /* REG_*, POL_* */
	char *value;
	uint32_t type;
	uint8_t *data; /* REG_SET/POL_SET: value data; FILE_SD: the new SD */
	size_t len;
	char *what;  /* one line: "set ...\\fDenyTSConnections to 0 (was 1)" */
	int weakens; /* lowers security: only with --allow-weaker-security */
} rp_change;

/* An event of the machine's own logs that confirms a finding: "Schannel 36870, 14 times, last
 * 2026-03-02 04:12" (filled by rp_events_cite, events_unexplained.c). */
typedef struct rp_cite {
	char *event;   /* "Schannel 36870" */
	size_t count;  /* times logged */
	char last[32]; /* last time, "2026-03-02T04:12:05Z" */
	char *text;    /* the last one in words (disk strings: escape before printing) */
} rp_cite;

typedef struct rp_finding {
	const char *check;
	rp_status status;
	rp_severity severity;
	char *summary; /* one line */
	char *explain; /* plain words: what is wrong, how it shows at the client, what fix does */
	rp_evidence *evidence;
	size_t nevidence;
	rp_change *changes;
	size_t nchanges;
	int weakened;	/* a change that lowers security was planned (and allowed) */
	rp_cite *cites; /* events that confirm it */
	size_t ncites;
} rp_finding;

/* Progress of a long check (keys.contents walks folders of 100,000 files and more): files
 * looked at so far; finished = 1 once at the end.  The cli prints it; checks never print. */
typedef void (*rp_progress_cb)(void *ctx, const char *check, size_t done, int finished);

typedef struct rp_scan {
	rp_vol *vol;
	rp_registry *reg;
	int allow_weaker;
	time_t now;
	const char *target; /* TARGET as given, for commands a finding suggests (NULL: unknown) */
	rp_finding *findings;
	size_t nfindings;
	const char *grant_rdp_logon; /* fix --grant-rdp-logon ACCOUNT (logon.rdp), or NULL */
	rp_progress_cb progress;     /* NULL: no progress wanted */
	void *progress_ctx;
	const rp_events *events;    /* the machine's event logs (evtx/), NULL: not read */
	int reset_ip;		    /* --reset-ip: static addresses to DHCP off the clouds too */
	const char *disable_driver; /* --disable-driver NAME (net.filters), or NULL */
	int enable_sac;		    /* fix --enable-sac: EMS for the default boot entry is wanted */
	int bcd_loaded;		    /* bcd was looked for (boot.safemode loads it on first use) */
	rp_bcd bcd; /* the BCD store; its file is written like SYSTEM and SOFTWARE */
	/* More hives to write like SYSTEM (`rdprescue reg`: HKU\.DEFAULT, a user's NTUSER.DAT);
	 * not owned by the scan, each with its own name. */
	rp_hive_file *more_hives;
	size_t nmore_hives;
} rp_scan;

/* ---- the catalogue (catalogue.def is the one list; catalogue.c runs a selection) ---- */

typedef struct rp_check {
	const char *id;
	const char *title;    /* `rdprescue --help` */
	const char *looks_at; /* what it reads (README.md's table) */
	int (*run)(rp_scan *scan, rp_err *err);
} rp_check;

/* For each line of catalogue.def: int rp_check_NAME(...) and const char rp_id_NAME[] ("a.b"). */
#define RP_CHECK(name, id, title, looks_at)                                                        \
	int rp_check_##name(rp_scan *scan, rp_err *err);                                           \
	extern const char rp_id_##name[];
#include "checks/catalogue.def"
#undef RP_CHECK

extern const rp_check rp_checks[];
extern const size_t rp_ncheck;

const rp_check *rp_check_find(const char *id);
/* Runs the checks named in ids (comma-separated; NULL = all).  Unknown id: RP_EXIT_USAGE. */
int rp_scan_run(rp_scan *scan, const char *ids, rp_err *err);
/* Validates a --check list without running it. */
int rp_checks_validate(const char *ids, rp_err *err);
/* 1 when a --check list (NULL: every check) runs the check id. */
int rp_checks_selects(const char *ids, const char *id);
void rp_scan_free(rp_scan *scan);
/* Adds to each problem finding the events that confirm it (after the checks ran). */
void rp_events_cite(rp_scan *scan);

/* ---- helpers for check modules (findings.c) ---- */
rp_finding *rp_finding_add(rp_scan *scan, const char *check, rp_status status, rp_severity sev,
			   const char *summary, const char *explain);
/* Reads a value and records it as evidence (present or not).  Returns the evidence. */
rp_evidence *rp_evidence_value(rp_finding *f, rp_hive_file *hf, const char *key, const char *value,
			       const char *source);
rp_evidence *rp_evidence_copy(rp_finding *f, const rp_evidence *e);
/* A new, empty evidence entry of f to fill in. */
rp_evidence *rp_evidence_new(rp_finding *f);
/* Plans setting a DWORD; what describes it; weakens marks a security downgrade. */
rp_change *rp_change_dword(rp_finding *f, const char *hive, const char *key, const char *value,
			   uint32_t data, int weakens, const char *what);
/* Plans setting a REG_SZ: text (UTF-8) is written as UTF-16LE with its terminating NUL. */
rp_change *rp_change_sz(rp_finding *f, const char *hive, const char *key, const char *value,
			const char *text, int weakens, const char *what);
/* Plans setting a value to exact bytes of a type (an edited REG_SZ kept byte for byte). */
rp_change *rp_change_raw(rp_finding *f, const char *hive, const char *key, const char *value,
			 uint32_t type, const uint8_t *data, size_t len, int weakens,
			 const char *what);
/* rp_change_dword described as "set HIVE\key\value to WANT (was WAS)". */
rp_change *rp_change_dword_was(rp_finding *f, const char *hive, const char *key, const char *value,
			       uint32_t want, const char *was, int weakens);
/* A service's Type: a Win32 service process (16, own process; 32, shared svchost process) can
 * start; anything else is a problem under check, for service (a name in words), whose fix sets
 * want.  why: what the wrong type keeps from working and why want, in plain words.  Returns 1
 * when healthy. */
int rp_expect_service_type(rp_scan *scan, const char *check, const char *key, const char *service,
			   uint32_t want, const char *why);
/* A service's ObjectName: account ("NT Authority\\LocalService") or its long form alias ("NT
 * AUTHORITY\\LOCAL SERVICE") is healthy; anything else (or none) is a problem under check, for
 * service (a name in words, "the DHCP Client"), whose fix sets account.  explain: what the wrong
 * account breaks, in plain words, ending with the fix.  Returns 1 when healthy. */
int rp_expect_service_account(rp_scan *scan, const char *check, const char *key,
			      const char *service, const char *account, const char *alias,
			      const char *explain);
rp_change *rp_change_delete_value(rp_finding *f, const char *hive, const char *key,
				  const char *value, const char *what);
rp_change *rp_change_delete_key(rp_finding *f, const char *hive, const char *key, const char *what);
/* An empty key created (as a .reg [KEY] line without values does). */
rp_change *rp_change_create_key(rp_finding *f, const char *hive, const char *key, const char *what);
/* A Registry.pol entry set to a DWORD / removed (path: the .pol file's volume path). */
rp_change *rp_change_pol_dword(rp_finding *f, const char *path, const char *key, const char *value,
			       uint32_t data, int weakens, const char *what);
rp_change *rp_change_pol_delete(rp_finding *f, const char *path, const char *key, const char *value,
				const char *what);
/* A file's or folder's security descriptor replaced by sd (copied). */
rp_change *rp_change_file_sd(rp_finding *f, const char *path, const uint8_t *sd, size_t len,
			     const char *what);
/* A broken file moved into the backup and removed from the volume. */
rp_change *rp_change_quarantine(rp_finding *f, const char *path, const char *what);
/* Reads a DWORD; 1 found, 0 absent or not a DWORD (*is_dword says which). */
int rp_read_dword(rp_hive_file *hf, const char *key, const char *value, uint32_t *out,
		  int *present);
void rp_evidence_free(rp_evidence *e);
/* The TARGET to name in a suggested command: the run's own, escaped (malloc'd). */
char *rp_target_shown(const rp_scan *scan);
/* "absent", "not a REG_DWORD" or the number, for summaries. */
const char *rp_dword_shown(int present, int is_dword, uint32_t v, char *buf, size_t n);

/* A SYSTEM value that is healthy when absent or equal to want. */
typedef struct rp_expected {
	const char *value;
	uint32_t want;
	const char *why; /* what the wrong value does, in plain words */
} rp_expected;
/* Adds a problem finding (with its fix) for every value of key that is present and not want. */
void rp_expect_dwords(rp_scan *scan, const char *check, const char *key, const rp_expected *list,
		      size_t n);

/* How a Registry.pol file treats a value at the next policy refresh. */
typedef enum rp_pol_action { RP_POL_NONE = 0, RP_POL_SETS, RP_POL_DELETES } rp_pol_action;

/* A Registry.pol entry for a policy value (key relative to HKLM, "Software\\Policies\\..."). */
typedef struct rp_pol_copy {
	rp_pol_action action;
	int is_dword;
	uint32_t value;	  /* when it SETS a DWORD */
	const char *path; /* the .pol file's volume path (owned by the rp_registry) */
	const char *key;  /* the entry's key as stored (owned by the rp_registry) */
} rp_pol_copy;

/*
 * An effective setting: what Windows uses after the next boot (gpsvc applies policy at boot).
 * The policy copy in SOFTWARE\Policies beats the local value, and at every refresh gpsvc
 * rewrites that copy from the Registry.pol files: the local one
 * (Windows\System32\GroupPolicy\Machine\Registry.pol), then the domain GPOs (their cached
 * copies under ProgramData\Microsoft\Group Policy\History).  So the precedence is
 *     domain GPO cache > local Registry.pol > SOFTWARE\Policies > local SYSTEM value,
 * and a "**del.X" entry removes the policy copy, leaving the local value to decide.  Several
 * domain GPOs: their order is not known offline; the last one (by folder name) that mentions
 * the value is taken, every one is shown as evidence.
 */
typedef struct rp_effective {
	int present; /* some copy decides */
	uint32_t value;
	int is_dword;	    /* the deciding copy is a REG_DWORD */
	const char *source; /* RP_SRC_LOCAL / RP_SRC_POLICY / RP_SRC_REGPOL / RP_SRC_DOMAIN */
	const char *path;   /* the deciding .pol file (registry.pol / domain-gpo), else NULL */
	int local_present, policy_present;
	int local_is_dword, policy_is_dword;
	uint32_t local, policy; /* SYSTEM <ccs>\local_key and SOFTWARE\policy_key as read */
	rp_pol_copy regpol;	/* the local Registry.pol entry */
	rp_pol_copy domain;	/* the domain GPO entry that decides */
	int policy_removed;	/* a .pol removes the SOFTWARE\Policies copy at the refresh */
	char local_key[256];	/* "ControlSet001\\<local_key>" */
	const char *policy_key; /* as given (caller's string) */
	const char *name;	/* the value name (caller's string) */
} rp_effective;

#define RP_POLICY_TS "Policies\\Microsoft\\Windows NT\\Terminal Services"

/* ---- effective.c: every copy of a policy-capable value, and planning its repair ---- */

/* Reads every copy of value: local (SYSTEM <ccs>\local_key), policy (SOFTWARE\policy_key, a
 * key below "Policies\\"), and the Registry.pol entries for "Software\\<policy_key>".
 * local_key NULL: the value has policy copies only (local_key stays ""; nothing local is read,
 * shown or planned). */
void rp_effective_dword(rp_registry *reg, const char *local_key, const char *policy_key,
			const char *value, rp_effective *out);
/* Records every copy of eff's value as evidence (SYSTEM, SOFTWARE, each .pol that mentions it),
 * the deciding one noted "effective (...)". */
void rp_evidence_effective(rp_finding *f, rp_registry *reg, const rp_effective *eff);
/* Plain words for where the effective value comes from, e.g. "the local Group Policy file
 * Windows/System32/GroupPolicy/Machine/Registry.pol" (malloc'd; may hold disk names). */
char *rp_effective_origin(const rp_effective *eff);
/* base plus what the source means for the fix (a .pol rewrites the policy copy; a domain GPO
 * cannot be fixed offline and what to do about it).  malloc'd. */
char *rp_effective_explain(const rp_effective *eff, const char *base);

/* rp_plan_effective flags. */
#define RP_PLAN_LOCAL 1u   /* fix the local SYSTEM value too, even when a policy decides */
#define RP_PLAN_WEAKENS 2u /* the change lowers security (--allow-weaker-security only) */

/*
 * The shared planner for a policy-capable DWORD: plans want at the source of eff's effective
 * value and at every copy that would bring another value back at the next refresh:
 *  - the local Registry.pol entry that sets it is set to want (not removed: the
 *    administrator's policy stays visible, e.g. "Allow users to connect remotely: Enabled");
 *  - the SOFTWARE\Policies copy is set to want, or deleted when a .pol removes it at the next
 *    refresh anyway (so a failed refresh cannot leave the stale value deciding);
 *  - the local SYSTEM value is set to want when it decides, or always with RP_PLAN_LOCAL
 *    (absent counts as not want).
 * Copies that already hold want are left alone.  A domain GPO cannot be changed offline: the
 * copies below it are planned all the same (the machine is reachable after boot until it gets
 * policy from a domain controller), and the result is 0.  Returns 1 when the planned changes
 * make want the effective value.
 */
int rp_plan_effective(rp_finding *f, const rp_effective *eff, uint32_t want, unsigned flags);
/* Plans one copy (RP_SRC_LOCAL, RP_SRC_POLICY or RP_SRC_REGPOL) of eff's value := want. */
void rp_plan_copy(rp_finding *f, const rp_effective *eff, const char *source, uint32_t want,
		  unsigned flags);

/* The local security policy (secedit's template, applied at every policy refresh). */
#define RP_GPTTMPL "Windows/System32/GroupPolicy/Machine/Microsoft/Windows NT/SecEdit/GptTmpl.inf"
/* Reads RP_GPTTMPL: 1 and *data (malloc'd) when it is there, 0 when not (or larger than a
 * template can be), -1 when reading failed. */
int rp_read_gpttmpl(rp_scan *scan, uint8_t **data, size_t *len, rp_err *err);
/* A security option in RP_GPTTMPL's [Registry Values] ("MACHINE\System\CurrentControlSet\
 * <key>\<value>=4,N"): 1 and *out = N when it sets a REG_DWORD, else 0. */
int rp_gpttmpl_dword(const uint8_t *inf, size_t len, const char *key, const char *value,
		     uint32_t *out);

/* ---- weakening.c ---- */
/* What setting hive\key\value (hive "SYSTEM" or "SOFTWARE", key below the hive root) to
 * type/data takes away from Remote Desktop, in plain words, or NULL.  *weakens: 1 when it lowers
 * security (NLA off, no or negotiated TLS, low encryption), 0 when it only refuses connections
 * (fDenyTSConnections). */
const char *rp_rdp_weakening(const rp_registry *reg, const char *hive, const char *key,
			     const char *value, uint32_t type, const uint8_t *data, size_t len,
			     int *weakens);

/* Adds, once per scan, a warning finding under check for every Registry.pol that could not be
 * read or parsed (Windows cannot apply it either; rdprescue ignores it and never writes it). */
void rp_report_bad_pols(rp_scan *scan, const char *check);

#endif
