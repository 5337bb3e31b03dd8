/*
 * evtx.h — what Windows itself logged: the machine's event logs read offline.
 *
 * The logs are read through vol/ (no mount) into memory and parsed with libyal's libevtx (its
 * libbfio memory-range handle).  A log file that is missing is noted, not an error; a damaged
 * chunk or record is skipped and counted, never fatal; a dirty log (Windows did not close it) is
 * read as far as it is sound.  Only the records the rule table (rules.c) knows are kept: the
 * RDP-relevant ones and the boot/shutdown markers that separate the boots.
 *
 * Strings from the disk (providers, inserts) are kept as read: escape them before printing.
 */
#ifndef RP_EVTX_H
#define RP_EVTX_H

#include "util/err.h"
#include "vol/vol.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* What a marker event says about the boots. */
typedef enum rp_ev_marker {
	RP_EV_NONE = 0,
	RP_EV_BOOT,	  /* Kernel-General 12, EventLog 6005 */
	RP_EV_SHUTDOWN,	  /* Kernel-General 13, EventLog 6006 */
	RP_EV_UNEXPECTED, /* EventLog 6008, Kernel-Power 41: the previous shutdown was not clean */
} rp_ev_marker;

/* One entry of the rule table: a (provider, id) rdprescue understands. */
typedef struct rp_ev_rule {
	const char *provider; /* as logged (Provider Name), compared case-insensitively */
	const char *shortname;
	uint32_t id;
	rp_ev_marker marker;
	int failure;	     /* an RDP-related failure: unexplained when no check explains it */
	const char *check;   /* the check it points to ("" = none, e.g. connection history) */
	int service_arg;     /* 1-based insert naming a service (SCM), 0 = none */
	int logon_type;	     /* 1-based insert holding LogonType (Security 4624/4625), 0 = none */
	const char *meaning; /* plain words; %1.. are the inserts (with %%N in words) */
} rp_ev_rule;

typedef struct rp_event {
	const char *log;   /* the log's short name, e.g. "System" (static) */
	uint64_t record;   /* EventRecordID */
	uint64_t filetime; /* written time (FILETIME, UTC) */
	uint32_t id;	   /* event identifier (without qualifiers) */
	uint8_t level;
	char *provider;
	char *user;	/* the UserID SID of the event (who did it), NULL when none */
	char **strings; /* the inserted strings as logged */
	size_t nstrings;
	const rp_ev_rule *rule;
} rp_event;

typedef struct rp_evlog {
	const char *name;   /* short name */
	const char *path;   /* volume path */
	int present;	    /* the file exists */
	int opened;	    /* libevtx accepted its header */
	int dirty;	    /* the file header says Windows did not close it cleanly */
	size_t records;	    /* records read (all, kept or not) */
	size_t kept;	    /* records the rule table knows */
	size_t bad_records; /* records that could not be read (skipped) */
	size_t chunks;	    /* chunks with a valid header */
	size_t bad_chunks;  /* chunks skipped or read only in part (bad magic, checksum) */
	char note[160];	    /* why it could not be read, when it could not */
} rp_evlog;

#define RP_EVLOG_COUNT 6

typedef struct rp_events {
	rp_evlog logs[RP_EVLOG_COUNT];
	rp_event *ev; /* kept events of every log, oldest first */
	size_t n;
	int loaded; /* rp_events_load ran */
} rp_events;

/* Reads the logs of the installation's Windows/System32/winevt/Logs.  Only a volume error is
 * an error; missing or unreadable logs are noted in out->logs.  for_scan: only the logs that
 * can hold an event a finding cites (System, Application, RemoteConnectionManager); the others
 * (Security, RdpCoreTS, LocalSessionManager: history of connections and logons) are left out,
 * noted "not read for a scan". */
int rp_events_load(rp_vol *vol, rp_events *out, int for_scan, rp_err *err);
/* Reads one log from memory (tests, fuzzing): appends its kept events to out, fills st. */
void rp_events_load_buffer(rp_events *out, rp_evlog *st, uint8_t *data, size_t len);
/* Sorts the events by time (then log, then record). */
void rp_events_sort(rp_events *ev);
void rp_events_free(rp_events *ev);

/* Event i (of the sorted events) starts a boot: a boot marker that is not a second marker of the
 * same start (Kernel-General 12 and EventLog 6005 of one boot, within 10 minutes). */
int rp_events_boot_starts(const rp_events *ev, size_t i);
/* Index of the first event of the last boot (0 when no boot marker was logged). */
size_t rp_events_last_boot(const rp_events *ev);

/* Some rule has this event id (whatever the provider). */
int rp_ev_id_known(uint32_t id);
/* The rule for (provider, id), or NULL. */
const rp_ev_rule *rp_ev_rule_find(const char *provider, uint32_t id);
/* The event is an RDP-related failure (its rule says so, and for Service Control Manager events
 * the service is one RDP needs). */
int rp_event_is_failure(const rp_event *e);
/* The service an SCM event names (its insert), or NULL. */
const char *rp_event_service(const rp_event *e);
/* A service RDP needs: TermService, its dependencies, or the network path (case-insensitive). */
int rp_ev_rdp_service(const char *name);
/* The service's key name ("TermService") for a key or display name RDP needs, else NULL. */
const char *rp_ev_service_key(const char *name);

/* An insert in words: "%%1058" -> "The service cannot be started, ... (error 1058)"; other
 * strings are returned as they are.  malloc'd. */
char *rp_ev_insert_words(const char *s);
/* The rule's meaning with the inserts filled in (in words; %U: who, from the event's UserID).
 * malloc'd. */
char *rp_event_text(const rp_event *e);
/* "2026-03-02 04:12:05" (UTC) into buf; iso: "2026-03-02T04:12:05.1234567Z". */
void rp_ev_time(uint64_t filetime, int iso, char *buf, size_t n);
time_t rp_ev_unix(uint64_t filetime);

#endif
