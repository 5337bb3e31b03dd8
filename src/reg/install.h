/*
 * install.h — the registry of one Windows installation, read from its volume.
 *
 * Loads SYSTEM and SOFTWARE (and, when present, SAM and SECURITY) with their transaction logs
 * (found case-insensitively beside them), replays the logs as Windows would (regf/), opens the
 * recovered images (reg.h), and resolves the control set Windows boots (Select\Current;
 * ControlSet001 when Select is missing). It also knows where every loaded hive lives on the volume,
 * for backup and write-back, and reads the Group Policy files that rewrite SOFTWARE\Policies at the
 * next refresh: the local Registry.pol and the cached copies of domain GPOs.
 */
#ifndef RP_INSTALL_H
#define RP_INSTALL_H

#include "reg/pol.h"
#include "reg/reg.h"
#include "regf/regf.h"
#include "vol/vol.h"

#define RP_CONFIG_DIR "Windows/System32/config"
#define RP_LOCAL_POL_DIR "Windows/System32/GroupPolicy/Machine"
#define RP_GPO_HISTORY_DIR "ProgramData/Microsoft/Group Policy/History"
/* Larger Registry.pol files are not read (real ones hold kilobytes). */
#define RP_POL_MAX_SIZE (16u << 20)

/* One Registry.pol file: parsed, or the reason it could not be (then nothing in it is used and
 * it is never written). */
typedef struct rp_pol_file {
	char *path; /* volume path, real case of the file name */
	int parsed; /* pol holds its entries */
	rp_pol pol;
	char *error; /* why it was not parsed (one line), NULL when parsed */
} rp_pol_file;

typedef struct rp_hive_file {
	char name[16];	   /* "SYSTEM", "SOFTWARE", "SAM", "SECURITY", "BCD" */
	char *path;	   /* volume path of the primary, real case */
	char *log_path[3]; /* .LOG1, .LOG2, .LOG as found (NULL when absent) */
	rp_regf_recovery recovery;
	rp_hive *hive; /* opened on the recovered image */
	char *error;   /* SAM / SECURITY only: why it is not loaded (hive NULL), NULL when it is */
} rp_hive_file;

/* Loads dir/name (found case-insensitively) with its logs, replayed as Windows would.  A
 * missing file: 0 with hf->path NULL.  A file that cannot be recovered: -1.  A clean primary
 * is not copied: it is read where it lies, through vol, which must stay open while the hive is
 * read (rp_registry_detach, rp_registry_reload); an edit copies it first. */
int rp_hive_file_load(rp_vol *vol, const char *dir, const char *name, rp_hive_file *hf,
		      rp_err *err);
void rp_hive_file_free(rp_hive_file *hf);
/* The volume hf was read from is about to be closed: a hive read in place stops reading it (a
 * read fails instead of touching a closed volume). */
void rp_hive_file_detach(rp_hive_file *hf);

typedef struct rp_registry {
	rp_hive_file system, software;
	/* Optional: a missing or unreadable SAM / SECURITY leaves hive NULL and error set; only
	 * the checks that need them say so, every other check runs as before. */
	rp_hive_file sam, security;
	char ccs[32];	  /* "ControlSet001" */
	int ccs_fallback; /* Select\Current missing or pointing nowhere */
	char *product;	  /* SOFTWARE ...\Windows NT\CurrentVersion ProductName (UTF-8) */
	char *build;	  /* CurrentBuild (or CurrentBuildNumber) */
	char *computer;	  /* SYSTEM <ccs>\Control\ComputerName\ComputerName ComputerName */
	unsigned build_number;
	rp_pol_file *local_pol; /* Windows\System32\GroupPolicy\Machine\Registry.pol, or NULL */
	rp_pol_file *gpos;	/* History\<GPO>\Machine\registry.pol, sorted by path */
	size_t ngpos;
} rp_registry;

/* Loads the hives and the Group Policy files.  A SYSTEM or SOFTWARE that cannot be recovered
 * fails with the reason (RP_EXIT_UNUSABLE); SAM and SECURITY never fail the load; a Registry.pol
 * that cannot be read or parsed does not fail the load: its rp_pol_file records the error. */
int rp_registry_load(rp_vol *vol, rp_registry *reg, rp_err *err);
void rp_registry_free(rp_registry *reg);
/* Only SYSTEM and SOFTWARE (and ccs, product, build, computer from them), as rp_registry_load
 * loads them: SAM, SECURITY and the Group Policy files are not read (sam / security stay
 * empty: no path, no hive, no error).  For `rdprescue list`. */
int rp_registry_load_core(rp_vol *vol, rp_registry *reg, rp_err *err);
/* rp_registry_load after a write: every hive file of old none of whose volume paths (primary,
 * logs) is in changed[] (compared case-insensitively) is moved into reg, not read again (old
 * keeps its strings, its hive pointer becomes NULL); old's other hives are closed first, then
 * the rest is loaded from vol.  The Group Policy files are always read again.  old is freed
 * with rp_registry_free as before; only its hives are gone (the report reads its strings). */
/* The volume reg was read from is about to be closed: hives read in place (a clean hive is not
 * copied, see rp_hive_file_load) stop reading it, a read of them fails, until
 * rp_registry_reload takes them over onto the volume opened again. */
void rp_registry_detach(rp_registry *reg);
int rp_registry_reload(rp_vol *vol, rp_registry *old, const char *const *changed, size_t nchanged,
		       rp_registry *reg, rp_err *err);
/* The loaded hive called name ("SYSTEM", "SOFTWARE", "SAM", "SECURITY"), NULL when it is not
 * loaded. */
rp_hive_file *rp_registry_hive(rp_registry *reg, const char *name);

/* "ControlSet001\\<rest>" — malloc'd. */
char *rp_registry_ccs_path(const rp_registry *reg, const char *rest);

/* Finds the on-disk names of a hive's logs in dir (case-insensitive); fills out[0..2] with
 * malloc'd volume paths for LOG1, LOG2, LOG or NULL. */
int rp_hive_find_logs(rp_vol *vol, const char *dir, const char *name, char *out[3], rp_err *err);

#endif
