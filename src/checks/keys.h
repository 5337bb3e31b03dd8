/*
 * keys.h — what the MachineKeys checks (keys.c, keys_contents.c) share: the folder, whether it
 * may be looked into and written at all, and the RDP key container's file name.
 */
#ifndef RP_CHECKS_KEYS_H
#define RP_CHECKS_KEYS_H

#include "checks/checks.h"

#define RP_MACHINEKEYS "ProgramData/Microsoft/Crypto/RSA/MachineKeys"
#define RP_RDP_CONTAINER "TSSecKeySet1"

enum { RP_KEYS_FOLDER_OK = 0, RP_KEYS_FOLDER_ABSENT, RP_KEYS_FOLDER_REFUSED };

/* Walks every component of the MachineKeys path.  A missing folder gets a skipped finding for
 * check; a junction, symlink or other reparse point on the way (or a file where a folder
 * belongs) gets a not-fixed finding saying why nothing there is touched.  Returns one of the
 * RP_KEYS_FOLDER_* values, or -1 on a read error. */
int rp_keys_folder(rp_scan *scan, const char *check, rp_err *err);

/* Volume path of the RDP key container (MachineKeys/<hash>_<MachineGuid>), malloc'd; NULL when
 * SOFTWARE has no usable Microsoft\Cryptography\MachineGuid. */
char *rp_keys_rdp_path(rp_scan *scan);

/* Certificates of SOFTWARE's "Remote Desktop" store whose private key is the RDP container. */
size_t rp_keys_rdp_cert_refs(rp_scan *scan);

#endif
