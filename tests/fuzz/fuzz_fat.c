/*
 * fuzz_fat.c — libFuzzer harness for the FAT backend (src/vol/fat.c): the input after its first
 * 4 bytes is the start of a FAT volume; those 4 bytes give the partition size (up to 128 MiB,
 * the rest reads as zeros from a sparse memfd), so FAT12, FAT16 and FAT32 geometries are all
 * reachable.  Every directory is listed (depth 4), every file stat'ed, read and asked whether
 * it could be rewritten at another size; nothing is written.
 */
#include "vol/vol.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct walk {
	rp_vol *vol;
	char path[512];
	int depth;
	int entries;
} walk;

static int visit(void *ctx, const char *name, const rp_stat *st)
{
	walk *w = ctx;
	if (++w->entries > 2000)
		return 1;
	size_t n = strlen(w->path);
	if (n + strlen(name) + 2 >= sizeof w->path)
		return 0;
	snprintf(w->path + n, sizeof w->path - n, "%s%s", n ? "/" : "", name);
	rp_err err = {0};
	rp_stat again;
	rp_vol_stat(w->vol, w->path, &again, &err);
	if (st->is_dir && w->depth < 4) {
		w->depth++;
		rp_err_clear(&err);
		rp_vol_list(w->vol, w->path, visit, w, &err);
		w->depth--;
	} else if (!st->is_dir) {
		uint8_t *data = NULL;
		size_t len = 0;
		rp_err_clear(&err);
		if (rp_vol_read(w->vol, w->path, &data, &len, &err) == 0 && len != st->size)
			__builtin_trap();
		free(data);
		rp_err_clear(&err);
		rp_vol_check_replace(w->vol, w->path, st->size + 4096, &err);
	}
	w->path[n] = 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	uint32_t declared;
	memcpy(&declared, data, 4);
	data += 4;
	size -= 4;
	uint64_t part = size + (declared % ((uint32_t)128 << 20));
	int fd = memfd_create("fat", 0);
	if (fd < 0)
		return 0;
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if (ftruncate(fd, (off_t)part) == 0 &&
	    (size == 0 || pwrite(fd, data, size, 0) == (ssize_t)size)) {
		rp_vol *vol = NULL;
		rp_err err = {0};
		if (rp_vol_open_fat(&vol, path, 0, part, 0, &err) == 0) {
			walk w = {.vol = vol};
			rp_vol_list(vol, "", visit, &w, &err);
			uint64_t free_bytes;
			rp_err_clear(&err);
			rp_vol_free_space(vol, &free_bytes, &err);
			rp_vol_close(vol, NULL);
		}
	}
	close(fd);
	return 0;
}
