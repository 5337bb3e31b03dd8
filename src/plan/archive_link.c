/*
 * archive_link.c — keeps libarchive's format table out of the static binary.
 *
 * libarchive's pax writer calls one helper that lives in archive_write_set_format.c, and that
 * file references every writer libarchive has, xar among them, which drags in libxml2 and ICU's
 * 30 MB of data: the binary grew from about 9 MB to 39 MB, too big for the rescue image.  This
 * definition, equivalent to libarchive 3.6's, satisfies the pax writer so that the linker never
 * pulls that file in.  Backups hold only regular files, so it is not reached in practice.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>

/* libarchive's ARCHIVE_ERRNO_FILE_FORMAT is EILSEQ on Linux (archive_private.h). */
#define EFTYPE_NOT_SUPPORTED EILSEQ

void __archive_write_entry_filetype_unsupported(struct archive *a, struct archive_entry *entry,
						const char *format);

void __archive_write_entry_filetype_unsupported(struct archive *a, struct archive_entry *entry,
						const char *format)
{
	archive_set_error(a, EFTYPE_NOT_SUPPORTED, "%s: %s format cannot archive this file type",
			  archive_entry_pathname(entry), format);
}
