/*
 * bcd.h — the Boot Configuration Data store: a regf hive on the boot partition.
 *
 * Where: EFI/Microsoft/Boot/BCD on the EFI system partition (UEFI), Boot/BCD on the System
 * Reserved volume (BIOS), or Boot/BCD on the Windows volume itself (BIOS without System
 * Reserved).  The boot partition is reached as RP_VOL_BOOT "/..." on the Windows volume.
 * Layout: Objects\{guid}\Description\Type (object type) and Objects\{guid}\Elements\<hex id>
 * \Element (the element's data).  Element ids were checked on a real BCD (shared/hives/real)
 * and against Microsoft's BcdBootMgrElementTypes / BcdLibraryElementTypes /
 * BcdOSLoaderElementTypes enumerations.
 */
#ifndef RP_BCD_H
#define RP_BCD_H

#include "reg/install.h"

#define RP_BCD_BOOTMGR "{9dea862c-5cdd-4e70-acc1-f32b344d4795}"
#define RP_BCD_DESCRIPTION "12000004" /* BcdLibraryString_Description (REG_SZ) */
#define RP_BCD_DEFAULT "23000003"     /* BcdBootMgrObject_DefaultObject (REG_SZ GUID) */
#define RP_BCD_DISPLAY "24000001"     /* BcdBootMgrObjectList_DisplayOrder (REG_MULTI_SZ) */
#define RP_BCD_SAFEBOOT "25000080"    /* BcdOSLoaderInteger_SafeBoot (8-byte integer) */
#define RP_BCD_ALT_SHELL "26000081"   /* BcdOSLoaderBoolean_SafeBootAlternateShell */
#define RP_BCD_EMS "260000b0"	      /* BcdOSLoaderBoolean_EmsEnabled (bcdedit /ems) */

/* One boot entry (an object of the boot manager's display order, or its default). */
typedef struct rp_bcd_entry {
	char *id;	   /* "{guid}" as the object's key is named (from the disk: escape) */
	char *description; /* UTF-8, NULL when absent */
	int is_default;
	int safeboot;  /* -1: no SafeBoot element; else 0 minimal, 1 network, 2 dsrepair */
	int alt_shell; /* SafeBootAlternateShell set to true */
	int ems;       /* EMS enabled */
} rp_bcd_entry;

typedef struct rp_bcd {
	int found;	   /* a store was read: file holds it */
	char *error;	   /* why no store could be read (NULL when found, or none exists) */
	char *where;	   /* "the EFI system partition", "the System Reserved partition", ... */
	rp_hive_file file; /* name "BCD", path on the Windows volume's rp_vol */
	char *default_id;  /* the boot manager's default object, NULL when none */
	rp_bcd_entry *entries;
	size_t n;
} rp_bcd;

/* Finds and reads the store (never fails: see found / error). */
void rp_bcd_load(rp_vol *vol, rp_bcd *bcd);
void rp_bcd_free(rp_bcd *bcd);
/* The default entry, or NULL. */
const rp_bcd_entry *rp_bcd_default(const rp_bcd *bcd);
/* "Objects\\<id>\\Elements\\<element>" (malloc'd). */
char *rp_bcd_element_key(const char *id, const char *element);
/* "minimal", "network", "dsrepair" or "value N" (buf when needed). */
const char *rp_bcd_safeboot_name(int v, char *buf, size_t n);

#endif
