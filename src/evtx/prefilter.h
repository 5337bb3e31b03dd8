/*
 * prefilter.h — the event id of each record of an EVTX file without libevtx (prefilter.c), so
 * that only the records the rule table may keep are parsed in full.  Internal to evtx/.
 */
#ifndef RP_EVTX_PREFILTER_H
#define RP_EVTX_PREFILTER_H

#include <stddef.h>
#include <stdint.h>

#define RP_EVID_UNKNOWN UINT32_MAX

typedef struct rp_evtx_rec {
	uint64_t record;   /* the record identifier, as libevtx will report it */
	uint32_t event_id; /* RP_EVID_UNKNOWN: could not tell, read it in full */
} rp_evtx_rec;

/* Lists the records of the file in libevtx's order (malloc'd array; *n = 0 when none). */
void rp_evtx_prefilter(const uint8_t *d, size_t len, rp_evtx_rec **out, size_t *n);

#endif
