/*
 * logs.c — what every transaction log has in common: its 512-byte base block and whether it is
 * valid (§6.1), then the format-specific parse; also rp_regf_describe_log for reports.
 */
#include "regf/regf_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void regf_log_parse(regf_log *log, const char *name, const uint8_t *data, size_t len)
{
	memset(log, 0, sizeof *log);
	log->name = name;
	log->data = data;
	log->len = data ? len : 0;
	log->present = log->len > 0;
	if (!log->present) {
		snprintf(log->problem, sizeof log->problem, "absent or empty");
		return;
	}
	if (len < REGF_LOG_BASE_BLOCK || memcmp(data, "regf", 4) != 0) {
		snprintf(log->problem, sizeof log->problem, "no regf base block");
		return;
	}
	log->has_sig = 1;
	log->seq1 = rp_le32(data + REGF_BB_SEQ1);
	log->seq2 = rp_le32(data + REGF_BB_SEQ2);
	log->type = rp_le32(data + REGF_BB_TYPE);
	log->hbins_size = rp_le32(data + REGF_BB_HBINS_SIZE);
	/* Entries are scanned even behind a bad base block: their sequence numbers still count
	 * for the clean write (§8), though such a log is never replayed. */
	if (log->type == REGF_TYPE_LOG_NEW)
		regf_new_scan(log);
	if (rp_regf_checksum(data) != rp_le32(data + REGF_BB_CHECKSUM)) {
		snprintf(log->problem, sizeof log->problem, "bad base-block checksum");
		return;
	}
	if (log->seq1 != log->seq2) {
		snprintf(log->problem, sizeof log->problem, "its base block is dirty (seq %u/%u)",
			 log->seq1, log->seq2);
		return;
	}
	if (rp_le32(data + REGF_BB_MAJOR) != 1 || rp_le32(data + REGF_BB_MINOR) < 3 ||
	    rp_le32(data + REGF_BB_MINOR) > 6) {
		snprintf(log->problem, sizeof log->problem, "unsupported version %u.%u",
			 rp_le32(data + REGF_BB_MAJOR), rp_le32(data + REGF_BB_MINOR));
		return;
	}
	if (log->type == REGF_TYPE_LOG_NEW) {
		log->base_valid = 1;
		if (log->chain_len == 0)
			snprintf(log->problem, sizeof log->problem,
				 "no valid entry with seq %u at offset 512", log->seq1);
	} else if (log->type == REGF_TYPE_LOG_OLD || log->type == REGF_TYPE_LOG_VERYOLD) {
		log->base_valid = 1;
		regf_old_parse(log);
	} else {
		snprintf(log->problem, sizeof log->problem, "file type %u is not a log", log->type);
	}
}

void regf_log_free(regf_log *log)
{
	free(log->entries);
	log->entries = NULL;
	log->n_entries = log->chain_len = 0;
}

void rp_regf_describe_log(const uint8_t *data, size_t len, rp_regf_log_info *out)
{
	regf_log log;
	regf_log_parse(&log, "log", data, len);
	memset(out, 0, sizeof *out);
	out->present = log.present;
	out->base_valid = log.base_valid;
	out->seq1 = log.seq1;
	out->seq2 = log.seq2;
	out->hbins_size = log.hbins_size;
	if (log.base_valid && log.type == REGF_TYPE_LOG_NEW)
		snprintf(out->format, sizeof out->format, "new");
	else if (log.base_valid)
		snprintf(out->format, sizeof out->format, "old");
	out->entries = (unsigned)log.chain_len;
	if (log.chain_len) {
		out->first_seq = log.entries[0].seq;
		out->last_seq = log.entries[log.chain_len - 1].seq;
	}
	out->remnants = (unsigned)(log.n_entries - log.chain_len);
	for (size_t i = log.chain_len; i < log.n_entries; i++)
		if (i == log.chain_len || seq_before(out->remnant_max_seq, log.entries[i].seq))
			out->remnant_max_seq = log.entries[i].seq;
	out->dirty_pages = log.dirty_pages;
	if (!log.base_valid || (log.type != REGF_TYPE_LOG_NEW && !log.dirt_ok) ||
	    (log.type == REGF_TYPE_LOG_NEW && log.chain_len == 0))
		snprintf(out->problem, sizeof out->problem, "%s", log.problem);
	regf_log_free(&log);
}
