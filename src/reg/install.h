/*
 * install.h — the registry of one Windows installation, read from its volume.
 *
 * Loads SYSTEM and SOFTWARE with their transaction logs (found case-insensitively beside them),
 * replays the logs as Windows would (regf/), opens the recovered images (reg.h), and resolves
 * the control set Windows boots (Select\Current; ControlSet001 when Select is missing).
 * It also knows where every loaded hive lives on the volume, for backup and write-back.
 */
#ifndef RP_INSTALL_H
#define RP_INSTALL_H

#include "reg/reg.h"
#include "regf/regf.h"
#include "vol/vol.h"

#define RP_CONFIG_DIR "Windows/System32/config"

typedef struct rp_hive_file {
	char name[16];	   /* "SYSTEM", "SOFTWARE" */
	char *path;	   /* volume path of the primary, real case */
	char *log_path[3]; /* .LOG1, .LOG2, .LOG as found (NULL when absent) */
	rp_regf_recovery recovery;
	rp_hive *hive; /* opened on the recovered image */
} rp_hive_file;

typedef struct rp_registry {
	rp_hive_file system, software;
	char ccs[32];	  /* "ControlSet001" */
	int ccs_fallback; /* Select\Current missing or pointing nowhere */
	char *product;	  /* SOFTWARE ...\Windows NT\CurrentVersion ProductName (UTF-8) */
	char *build;	  /* CurrentBuild (or CurrentBuildNumber) */
	char *computer;	  /* SYSTEM <ccs>\Control\ComputerName\ComputerName ComputerName */
	unsigned build_number;
} rp_registry;

/* Loads both hives.  A hive that cannot be recovered fails with the reason (RP_EXIT_UNUSABLE). */
int rp_registry_load(rp_vol *vol, rp_registry *reg, rp_err *err);
void rp_registry_free(rp_registry *reg);

/* "ControlSet001\\<rest>" — malloc'd. */
char *rp_registry_ccs_path(const rp_registry *reg, const char *rest);

/* Finds the on-disk names of a hive's logs in dir (case-insensitive); fills out[0..2] with
 * malloc'd volume paths for LOG1, LOG2, LOG or NULL. */
int rp_hive_find_logs(rp_vol *vol, const char *dir, const char *name, char *out[3], rp_err *err);

#endif
