/*
 * recover.c — rp_regf_recover: decides whether a primary is clean or dirty, picks the logs the
 * way Windows does (new format and dual logs preferred, ordering and eligibility by sequence
 * number, the bad-base-block path), replays them and hands back a consistent image
 * (hive-format.md §5, §7).
 */
#include "regf/regf_internal.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void seq_max(uint32_t *m, uint32_t v)
{
	if (seq_before(*m, v))
		*m = v;
}

/* max_seq over the primary, every log base block and every valid entry (remnants too). */
static uint32_t max_sequence(const uint8_t *primary, regf_log logs[3])
{
	uint32_t m = rp_le32(primary + REGF_BB_SEQ1);
	seq_max(&m, rp_le32(primary + REGF_BB_SEQ2));
	for (int i = 0; i < 3; i++) {
		if (!logs[i].has_sig)
			continue;
		seq_max(&m, logs[i].seq1);
		seq_max(&m, logs[i].seq2);
		for (size_t k = 0; k < logs[i].n_entries; k++)
			seq_max(&m, logs[i].entries[k].seq);
	}
	return m;
}

static int usable_new(const regf_log *l)
{
	return l->base_valid && l->type == REGF_TYPE_LOG_NEW;
}

static int usable_old(const regf_log *l)
{
	return l->base_valid && l->type != REGF_TYPE_LOG_NEW && l->dirt_ok;
}

/* "LOG1: bad base-block checksum; LOG2: absent or empty" */
static void log_problems(regf_log logs[3], char *out, size_t outlen)
{
	size_t n = 0;
	out[0] = 0;
	for (int i = 0; i < 3; i++) {
		if (!logs[i].present && i == 2)
			continue;
		const char *why = logs[i].problem[0] ? logs[i].problem : "not applicable";
		int w = snprintf(out + n, outlen - n, "%s%s: %s", n ? "; " : "", logs[i].name, why);
		if (w < 0 || (size_t)w >= outlen - n)
			break;
		n += (size_t)w;
	}
}

/* Which logs a dirty primary is replayed from. */
typedef struct plan {
	regf_log *first, *second; /* new format: second may be NULL */
	regf_log *old;		  /* old format */
} plan;

static void choose_logs(regf_log logs[3], plan *p)
{
	regf_log *l1 = &logs[0], *l2 = &logs[1], *l = &logs[2];
	memset(p, 0, sizeof *p);
	if (usable_new(l1) && usable_new(l2)) {
		/* The log with the lower start goes first; Windows alternates between them. */
		if (seq_before(l1->seq1, l2->seq1)) {
			p->first = l1;
			p->second = l2;
		} else {
			p->first = l2;
			p->second = l1;
		}
		return;
	}
	regf_log *single_new[] = {l1, l2, l};
	for (int i = 0; i < 3; i++)
		if (usable_new(single_new[i])) {
			p->first = single_new[i];
			return;
		}
	if (usable_old(l1) && usable_old(l2)) {
		/* yarp and the spec: the log with the later last-written timestamp. */
		p->old =
		    rp_le64(l1->data + REGF_BB_TIMESTAMP) >= rp_le64(l2->data + REGF_BB_TIMESTAMP)
			? l1
			: l2;
		return;
	}
	regf_log *single_old[] = {l1, l2, l};
	for (int i = 0; i < 3; i++)
		if (usable_old(single_old[i])) {
			p->old = single_old[i];
			return;
		}
}

static int eligible(const regf_log *l, uint32_t primary_seq2)
{
	return !seq_before(l->seq1, primary_seq2);
}

static void append(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);
	snprintf(buf + n, len - n, "%s%s", n ? ", " : "", s);
}

/* New-format replay (§7.2).  Returns 0, or -1 with err filled. */
static int replay_new(regf_work *w, plan *p, int primary_valid, uint32_t primary_seq2,
		      uint64_t max_hbins, uint8_t *bb, char *used, size_t usedlen, const char *name,
		      rp_err *err)
{
	regf_log *run[2] = {NULL, NULL};

	if (!primary_valid) {
		/* Bad base block: only the log with the later entries, base block from it. */
		run[0] = p->second ? p->second : p->first;
		memset(bb, 0, RP_REGF_BASE_BLOCK);
		memcpy(bb, run[0]->data, REGF_LOG_BASE_BLOCK);
		w->hbins_size = run[0]->hbins_size;
	} else if (eligible(p->first, primary_seq2)) {
		run[0] = p->first;
		run[1] = p->second;
	} else if (p->second && eligible(p->second, primary_seq2)) {
		run[0] = p->second;
	} else {
		return rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "%s is dirty (seq2 %u) but its transaction logs start before it "
		    "(%s seq %u%s%s%s): they belong to an older state; restore %s from a "
		    "backup or RegBack",
		    name, primary_seq2, p->first->name, p->first->seq1, p->second ? ", " : "",
		    p->second ? p->second->name : "", p->second ? " too" : "", name);
	}

	for (int i = 0; i < 2 && run[i]; i++) {
		if (i == 1 && (w->applied == 0 || run[1]->seq1 != w->last_seq + 1))
			break;
		w->flags = rp_le32(run[i]->data + REGF_BB_FLAGS);
		if (regf_new_apply(w, run[i], max_hbins) > 0)
			append(used, usedlen, run[i]->name);
	}
	return 0;
}

static int refuse_unusable(regf_log logs[3], const char *name, rp_err *err)
{
	char why[600];
	log_problems(logs, why, sizeof why);
	return rp_fail(err, RP_EXIT_UNUSABLE,
		       "%s is dirty and its transaction logs are unusable (%s): Windows itself "
		       "could not recover it; restore %s from a backup or RegBack",
		       name, why, name);
}

static int finish(regf_work *w, uint8_t *bb, uint32_t seq, const char *name, const char *stage,
		  uint8_t **image, size_t *image_len, rp_err *err)
{
	char why[200];
	uint32_t bad_at;
	size_t len = (size_t)RP_REGF_BASE_BLOCK + w->hbins_size;

	regf_work_grow(w, w->hbins_size);
	memcpy(w->img, bb, RP_REGF_BASE_BLOCK);
	rp_put_le32(w->img + REGF_BB_FLAGS, w->flags);
	rp_put_le32(w->img + REGF_BB_TYPE, REGF_TYPE_PRIMARY);
	rp_put_le32(w->img + REGF_BB_HBINS_SIZE, w->hbins_size);
	if (regf_bin_chain(w->img, len, w->hbins_size, &bad_at, why, sizeof why) != w->hbins_size)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "%s %s has a bad hive bin (%s); restore %s from a backup or RegBack",
			       name, stage, why, name);
	if (!regf_base_fields_ok(w->img, why, sizeof why))
		return rp_fail(err, RP_EXIT_UNUSABLE, "%s %s has a bad base block: %s", name, stage,
			       why);
	regf_seal_base_block(w->img, seq, w->hbins_size);
	*image = w->limit ? w->img : rp_xrealloc(w->img, len);
	*image_len = len;
	w->img = NULL;
	return 0;
}

/* What recovery decides from the primary's base block and length alone: the checks every
 * primary must pass, info filled, and whether it is clean (for a clean one, also its hive-bins
 * size and the detail line).  logs are parsed (the caller frees them, also on failure).
 * 1 clean: its image is the file's first 4096 + hive-bins bytes, once their bin chain holds;
 * 0 dirty; -1 refused (err). */
static int classify(const uint8_t *pri, size_t plen, const rp_regf_files *files, regf_log logs[3],
		    rp_regf_recovery *info, rp_err *err)
{
	const char *name = files->name ? files->name : "the hive";
	char why[200];
	memset(logs, 0, 3 * sizeof *logs);
	memset(info, 0, sizeof *info);
	if (plen < RP_REGF_BASE_BLOCK + REGF_HBIN_ALIGN || memcmp(pri, "regf", 4) != 0)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "%s is not a registry hive (%zu bytes, no regf base block and hive "
			       "bin); restore it from a backup or RegBack",
			       name, plen);

	info->seq1 = rp_le32(pri + REGF_BB_SEQ1);
	info->seq2 = rp_le32(pri + REGF_BB_SEQ2);
	info->primary_valid = rp_regf_checksum(pri) == rp_le32(pri + REGF_BB_CHECKSUM);
	info->was_dirty = !info->primary_valid || info->seq1 != info->seq2;
	regf_log_parse(&logs[0], "LOG1", files->log1, files->log1_len);
	regf_log_parse(&logs[1], "LOG2", files->log2, files->log2_len);
	regf_log_parse(&logs[2], "LOG", files->log, files->log_len);
	info->max_seq = max_sequence(pri, logs);
	for (int i = 0; i < 3; i++) {
		info->logs_present |= logs[i].present;
		info->logs_usable |= logs[i].base_valid;
	}
	if (info->primary_valid && !regf_base_fields_ok(pri, why, sizeof why))
		return rp_fail(err, RP_EXIT_UNUSABLE, "%s: %s", name, why);
	if (info->was_dirty)
		return 0;
	uint32_t hbins = rp_le32(pri + REGF_BB_HBINS_SIZE);
	if ((uint64_t)RP_REGF_BASE_BLOCK + hbins > plen)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "%s is truncated: its base block says 0x%x bytes of hive bins but "
			       "the file has %zu bytes; restore %s from a backup or RegBack",
			       name, hbins, plen, name);
	info->hbins_size = hbins;
	snprintf(info->detail, sizeof info->detail,
		 "clean (seq %u), 0x%x bytes of hive bins; logs ignored", info->seq1, hbins);
	return 1;
}

int regf_chain_broken(const char *name, const char *why, rp_err *err)
{
	return rp_fail(err, RP_EXIT_UNUSABLE,
		       "%s is corrupt: the hive-bin chain breaks (%s); restore %s from a backup or "
		       "RegBack",
		       name, why, name);
}

int rp_regf_recover_clean(const uint8_t *base_block, size_t primary_len, const rp_regf_files *files,
			  rp_regf_recovery *info, rp_err *err)
{
	/* A dirty primary is told by its base block alone (classify would parse the logs first,
	 * and the recovery that follows parses them again): 0, info holding the base block's
	 * sequence numbers and validity only.  Refusals stay classify's. */
	const uint8_t *bb = base_block;
	int valid = rp_regf_checksum(bb) == rp_le32(bb + REGF_BB_CHECKSUM);
	char why[200];
	if (primary_len >= RP_REGF_BASE_BLOCK + REGF_HBIN_ALIGN && memcmp(bb, "regf", 4) == 0 &&
	    (!valid || rp_le32(bb + REGF_BB_SEQ1) != rp_le32(bb + REGF_BB_SEQ2)) &&
	    (!valid || regf_base_fields_ok(bb, why, sizeof why))) {
		memset(info, 0, sizeof *info);
		info->seq1 = rp_le32(bb + REGF_BB_SEQ1);
		info->seq2 = rp_le32(bb + REGF_BB_SEQ2);
		info->primary_valid = valid;
		info->was_dirty = 1;
		return 0;
	}
	regf_log logs[3];
	int rc = classify(base_block, primary_len, files, logs, info, err);
	for (int i = 0; i < 3; i++)
		regf_log_free(&logs[i]);
	return rc;
}

/* own: NULL to work on a copy of files->primary (which stays untouched); else the caller's
 * malloc'd primary (files->primary), which becomes the work buffer: grown and trimmed with
 * realloc, handed back as *image on success and freed on failure.  Both ways give the same
 * bytes: the in-place one starts from exactly the bytes the copy would hold, and every read of
 * the primary happens before the first write to the work buffer.  limit (with own): own is
 * the caller's buffer of limit bytes, never reallocated nor freed (rp_regf_recover_in_buffer). */
static int recover(const rp_regf_files *files, uint8_t *own, size_t limit, uint8_t **image,
		   size_t *image_len, rp_regf_recovery *info, rp_err *err)
{
	const char *name = files->name ? files->name : "the hive";
	const uint8_t *pri = files->primary;
	size_t plen = files->primary ? files->primary_len : 0;
	char why[200];
	regf_log logs[3];
	int rc = -1;

	*image = NULL;
	*image_len = 0;
	int clean = classify(pri, plen, files, logs, info, err);
	if (clean < 0)
		goto out;
	uint64_t max_hbins = (uint64_t)plen + logs[0].len + logs[1].len + logs[2].len;
	regf_work w = {0};
	uint8_t bb[RP_REGF_BASE_BLOCK];
	memcpy(bb, pri, RP_REGF_BASE_BLOCK);
	w.flags = rp_le32(pri + REGF_BB_FLAGS);
	w.hbins_size = rp_le32(pri + REGF_BB_HBINS_SIZE);

	if (clean) {
		uint32_t bad_at;
		if (regf_bin_chain(pri, plen, w.hbins_size, &bad_at, why, sizeof why) !=
		    w.hbins_size) {
			regf_chain_broken(name, why, err);
			goto out;
		}
		*image_len = (size_t)RP_REGF_BASE_BLOCK + w.hbins_size;
		if (own) {
			*image = limit || *image_len == plen ? own : rp_xrealloc(own, *image_len);
			own = NULL;
		} else {
			*image = rp_xmalloc(*image_len);
			memcpy(*image, pri, *image_len);
		}
		rc = 0;
		goto out;
	}

	plan p;
	choose_logs(logs, &p);
	char used[64] = "";
	const char *stage = "after replaying its logs";

	w.cap = plen;
	w.limit = limit;
	if (own) {
		w.img = own;
		own = NULL;
	} else {
		w.img = rp_xmalloc(plen);
		memcpy(w.img, pri, plen);
	}

	if (p.first) {
		if (replay_new(&w, &p, info->primary_valid, info->seq2, max_hbins, bb, used,
			       sizeof used, name, err) < 0)
			goto out_work;
		info->base_from_log = !info->primary_valid;
	} else if (p.old) {
		/* Applicable only if the log is not older than the primary: its last-written
		 * time >= the primary's (the first bin's copy when the base block is damaged,
		 * which BadBaseBlockHive shows can be older than the log's). */
		uint64_t log_ts = rp_le64(p.old->data + REGF_BB_TIMESTAMP);
		uint64_t pri_ts = info->primary_valid
				      ? rp_le64(pri + REGF_BB_TIMESTAMP)
				      : rp_le64(pri + RP_REGF_BASE_BLOCK + REGF_HBIN_TIMESTAMP);
		if (log_ts < pri_ts) {
			rp_fail(err, RP_EXIT_UNUSABLE,
				"%s is dirty and its %s is older than the primary (last-written "
				"time): Windows itself could not recover it; "
				"restore %s from a backup or RegBack",
				name, p.old->name, name);
			goto out_work;
		}
		if (p.old->hbins_size > max_hbins) {
			rp_fail(err, RP_EXIT_UNUSABLE, "%s: %s claims 0x%x bytes of hive bins",
				name, p.old->name, p.old->hbins_size);
			goto out_work;
		}
		if (!info->primary_valid) {
			memset(bb, 0, sizeof bb);
			memcpy(bb, p.old->data, REGF_LOG_BASE_BLOCK);
			info->base_from_log = 1;
		}
		w.flags = rp_le32(p.old->data + REGF_BB_FLAGS);
		regf_old_apply(&w, p.old);
		w.first_seq = w.last_seq = p.old->seq1;
		append(used, sizeof used, p.old->name);
	} else if (info->logs_present) {
		refuse_unusable(logs, name, err);
		goto out_work;
	} else if (!info->primary_valid) {
		rp_fail(err, RP_EXIT_UNUSABLE,
			"%s has a damaged base block (checksum wrong) and no transaction log to "
			"rebuild it from: Windows itself could not load it; restore %s from a "
			"backup or RegBack",
			name, name);
		goto out_work;
	} else {
		info->dirty_without_logs = 1;
		stage = "(dirty, no logs)";
	}

	/* The image represents the last applied seq; with nothing applied, the base block's. */
	uint32_t seq = w.applied || p.old ? w.last_seq : rp_le32(bb + REGF_BB_SEQ1);
	if (w.hbins_size > max_hbins) {
		rp_fail(err, RP_EXIT_UNUSABLE,
			"%s is truncated: its base block says 0x%x bytes of hive bins but the file "
			"has %zu bytes; restore %s from a backup or RegBack",
			name, w.hbins_size, plen, name);
		goto out_work;
	}
	info->entries_applied = w.applied;
	info->first_seq = w.first_seq;
	info->last_seq = w.last_seq;
	snprintf(info->log_format, sizeof info->log_format, "%s",
		 p.first ? "new"
		 : p.old ? "old"
			 : "");
	if (finish(&w, bb, seq, name, stage, image, image_len, err) < 0)
		goto out_work;
	info->hbins_size = rp_le32(*image + REGF_BB_HBINS_SIZE);

	if (info->dirty_without_logs)
		snprintf(info->detail, sizeof info->detail,
			 "dirty (seq %u/%u) with no transaction logs: the primary is all there is; "
			 "0x%x bytes of hive bins",
			 info->seq1, info->seq2, info->hbins_size);
	else if (p.old)
		snprintf(
		    info->detail, sizeof info->detail,
		    "dirty (seq %u/%u%s): replayed %u dirty pages from old-format %s (seq %u)%s",
		    info->seq1, info->seq2, info->primary_valid ? "" : ", bad base block",
		    w.applied, used, w.last_seq,
		    info->base_from_log ? ", base block rebuilt from the log" : "");
	else if (w.applied)
		snprintf(info->detail, sizeof info->detail,
			 "dirty (seq %u/%u%s): replayed %u entries (seq %u-%u) from %s%s",
			 info->seq1, info->seq2, info->primary_valid ? "" : ", bad base block",
			 w.applied, w.first_seq, w.last_seq, used,
			 info->base_from_log ? ", base block rebuilt from the log" : "");
	else
		snprintf(info->detail, sizeof info->detail,
			 "dirty (seq %u/%u): the new-format logs hold no applicable entry; the "
			 "primary is used as it is",
			 info->seq1, info->seq2);
	rc = 0;
out_work:
	if (!limit)
		free(w.img);
out:
	if (!limit)
		free(own);
	for (int i = 0; i < 3; i++)
		regf_log_free(&logs[i]);
	return rc;
}

int rp_regf_recover(const rp_regf_files *files, uint8_t **image, size_t *image_len,
		    rp_regf_recovery *info, rp_err *err)
{
	return recover(files, NULL, 0, image, image_len, info, err);
}

int rp_regf_recover_in_place(uint8_t **image, size_t *image_len, const rp_regf_files *logs,
			     rp_regf_recovery *info, rp_err *err)
{
	rp_regf_files files = *logs;
	uint8_t *own = *image;
	files.primary = own;
	files.primary_len = *image_len;
	*image = NULL;
	*image_len = 0;
	return recover(&files, own, 0, image, image_len, info, err);
}

size_t rp_regf_recover_cap(size_t primary_len, const rp_regf_files *logs)
{
	/* recover() bounds the hive bins by max_hbins = primary + logs before growing to them */
	return (size_t)RP_REGF_BASE_BLOCK + primary_len + logs->log1_len + logs->log2_len +
	       logs->log_len;
}

int rp_regf_recover_in_buffer(uint8_t *buf, size_t cap, size_t *image_len,
			      const rp_regf_files *logs, rp_regf_recovery *info, rp_err *err)
{
	rp_regf_files files = *logs;
	uint8_t *image = NULL;
	files.primary = buf;
	files.primary_len = *image_len;
	*image_len = 0;
	if (cap < rp_regf_recover_cap(files.primary_len, logs)) {
		memset(info, 0, sizeof *info);
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "internal error: %zu bytes are too few to replay the hive in", cap);
	}
	return recover(&files, buf, cap, &image, image_len, info, err);
}
