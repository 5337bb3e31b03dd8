/*
 * format.h — the on-disk structures of a registry hive and its transaction logs, as named
 * byte offsets (all fields little-endian; read with util/bytes.h, never through a cast, since
 * the data is untrusted and unaligned).  After ../shared/reference/hive-format.md.
 */
#ifndef RP_REGF_FORMAT_H
#define RP_REGF_FORMAT_H

/* Base block: the first 4096 bytes of a primary file; the first 512 of a log file. */
enum regf_base_block {
	REGF_BB_SIGNATURE = 0,	    /* "regf" */
	REGF_BB_SEQ1 = 4,	    /* u32 primary sequence number */
	REGF_BB_SEQ2 = 8,	    /* u32 secondary sequence number (== SEQ1: clean) */
	REGF_BB_TIMESTAMP = 12,	    /* u64 FILETIME of the last write */
	REGF_BB_MAJOR = 20,	    /* u32 1 */
	REGF_BB_MINOR = 24,	    /* u32 3 to 6 */
	REGF_BB_TYPE = 28,	    /* u32 REGF_TYPE_* */
	REGF_BB_FORMAT = 32,	    /* u32 1: direct memory load */
	REGF_BB_ROOT = 36,	    /* u32 root key's cell, relative to the hive bins */
	REGF_BB_HBINS_SIZE = 40,    /* u32 bytes of hive bins after the base block */
	REGF_BB_FILE_NAME = 48,	    /* UTF-16LE, the last 64 bytes of the file's path */
	REGF_BB_FILE_NAME_LEN = 64, /* bytes */
	REGF_BB_FLAGS = 144,	    /* u32; bit 0: a KTM transaction is pending */
	REGF_BB_CHECKSUM = 508,	    /* u32 XOR of the 127 u32 before it (rp_regf_checksum) */
};

/* Hive bin: a 32-byte header, then cells; a multiple of 4096 bytes. */
enum regf_hbin {
	REGF_HBIN_SIGNATURE = 0,  /* "hbin" */
	REGF_HBIN_OFFSET = 4,	  /* u32 its own offset, relative to the hive bins */
	REGF_HBIN_SIZE = 8,	  /* u32 */
	REGF_HBIN_TIMESTAMP = 20, /* u64 FILETIME: the first bin keeps a copy of the base block's */
	REGF_HBIN_HEADER = 32,	  /* the first cell */
	REGF_HBIN_ALIGN = 4096,
};

/* Cell: a size, then data.  Negative size: allocated; a multiple of 8 in magnitude. */
enum regf_cell {
	REGF_CELL_SIZE = 0, /* i32 */
	REGF_CELL_DATA = 4,
};

/* Cell data, by signature.  Key node "nk": */
enum regf_nk {
	REGF_NK_FLAGS = 2,	  /* u16; REGF_NK_COMP_NAME */
	REGF_NK_PARENT = 16,	  /* u32 cell */
	REGF_NK_SUBKEYS = 20,	  /* u32 count (stable) */
	REGF_NK_SUBKEY_LIST = 28, /* u32 cell: lf, lh, li or ri */
	REGF_NK_VALUES = 36,	  /* u32 count */
	REGF_NK_VALUE_LIST = 40,  /* u32 cell: an array of vk cells */
	REGF_NK_SECURITY = 44,	  /* u32 sk cell */
	REGF_NK_CLASS = 48,	  /* u32 cell of the class name */
	REGF_NK_NAME_LEN = 72,	  /* u16 bytes */
	REGF_NK_CLASS_LEN = 74,	  /* u16 bytes */
	REGF_NK_NAME = 76,	  /* the name: Latin-1 (COMP_NAME) or UTF-16LE */
	REGF_NK_COMP_NAME = 0x20,
};
/* Value "vk": */
enum regf_vk {
	REGF_VK_NAME_LEN = 2,  /* u16 */
	REGF_VK_DATA_SIZE = 4, /* u32; top bit: the data sits in DATA itself (up to 4 bytes) */
	REGF_VK_DATA = 8,      /* u32 cell of the data, or a db record */
	REGF_VK_NAME = 20,
};
#define REGF_VK_DATA_INLINE 0x80000000u
/* Security "sk": */
enum regf_sk {
	REGF_SK_SD_SIZE = 16, /* u32 */
	REGF_SK_SD = 20,      /* self-relative security descriptor */
};
/* Subkey lists "lf", "lh" (8-byte elements), "li", "ri" (4-byte elements): */
enum regf_list {
	REGF_LIST_COUNT = 2,	/* u16 */
	REGF_LIST_ELEMENTS = 4, /* u32 cell each, + u32 hash for lf/lh */
};
/* Big data "db" (hive version 1.4 and later): */
enum regf_db {
	REGF_DB_SEGMENTS = 2, /* u16 */
	REGF_DB_LIST = 4,     /* u32 cell: an array of segment cells */
};

/* Logs work in 512-byte units: the log's base block, entry sizes, old-format dirty pages. */
#define REGF_LOG_SECTOR 512

/* New-format log entry "HvLE", from offset 512 of a log, a multiple of 512 bytes. */
enum regf_log_entry {
	REGF_LE_SIGNATURE = 0,	 /* "HvLE" */
	REGF_LE_SIZE = 4,	 /* u32 */
	REGF_LE_FLAGS = 8,	 /* u32: the base block's flags */
	REGF_LE_SEQ = 12,	 /* u32 */
	REGF_LE_HBINS_SIZE = 16, /* u32 */
	REGF_LE_PAGES = 20,	 /* u32 dirty pages */
	REGF_LE_HASH1 = 24,	 /* u64 Marvin32 of the entry from PAGE_REFS to its end */
	REGF_LE_HASH2 = 32,	 /* u64 Marvin32 of the first 32 bytes */
	REGF_LE_PAGE_REFS = 40,	 /* PAGES references, then the pages' data in that order */
};
/* One page reference of an HvLE entry: */
enum regf_page_ref {
	REGF_PR_OFFSET = 0, /* u32, relative to the hive bins */
	REGF_PR_SIZE = 4,   /* u32 */
	REGF_PR_LEN = 8,
};

/* Old-format log: after its 512-byte base block, "DIRT" and a bitmap of dirty 512-byte pages
 * (one bit each), then the dirty pages from the next 512-byte boundary. */
enum regf_dirt {
	REGF_DIRT_SIGNATURE = 0, /* "DIRT" (relative to the end of the log's base block) */
	REGF_DIRT_BITMAP = 4,
};

#endif
