/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: libFuzzer target — an address book file's bytes into the loader's checks and
 * adoption, cp_book_decode() (what cp_book_load() runs on a file's contents).
 *
 * The input is a whole file, but for its last byte: when that byte is odd, the file's CRC-32C
 * trailer is recomputed before the load, so that mutations get past the checksum to the checks
 * of the header and every record behind it (most inputs would stop at the checksum otherwise).
 * Invariants, abort() on violation: no crash, leak or sanitizer
 * report; the answer is 0 or -EBADMSG, and -EBADMSG leaves the book as it was (same size) with
 * a reason that is a NUL-terminated line; a book that took the input holds at most what its
 * tables can, can be encoded again, and the bytes it encodes to decode again into a book of the
 * same size (the format is a fixed point after one round).
 *
 * Built only with -Dfuzz=true under clang (make fuzz).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cp_book.h"
#include "fuzz.h"
#include "sl_test.h"

static const uint8_t key[SL_KEY_LEN] = { 1, 2, 3 };

static struct cp_book *
small_book(void)
{
	struct cp_book_config cfg;

	cp_book_config_defaults(&cfg);
	cfg.new_buckets = 16; /* small tables: files of other geometries are placed again */
	cfg.tried_buckets = 4;
	cfg.new_per_source_group = 4;
	cfg.tried_per_group = 2;
	return cp_book_create(&cfg, key, 7);
}

static void
check_why(const char *why, size_t len)
{
	const char *end = memchr(why, '\0', len);

	fuzz_check(end != NULL && end > why, "a refusal says why");
	for (; why < end; why++)
		fuzz_check(*why >= 0x20 && *why != 0x7f, "the reason is one printable line");
}

/* Save b to a file and decode those bytes again: the same number of entries. */
static void
check_again(struct cp_book *b)
{
	char path[] = "/tmp/sluice-fuzz-book-XXXXXX";
	int fd = mkstemp(path);
	struct cp_book *c;
	uint8_t *buf;
	off_t len;

	fuzz_check(fd >= 0, "a temporary file");
	fuzz_check(cp_book_save(b, path) == 0, "an adopted book saves");
	close(fd);
	fd = open(path, O_RDONLY);
	len = lseek(fd, 0, SEEK_END);
	buf = malloc((size_t)len);
	fuzz_check(buf != NULL && pread(fd, buf, (size_t)len, 0) == len, "read it back");
	close(fd);
	unlink(path);
	c = small_book();
	fuzz_check(c != NULL && cp_book_decode(c, buf, (size_t)len, NULL, 0) == 0,
		   "what a book saves, it loads");
	fuzz_check(cp_book_size(c) == cp_book_size(b), "the same entries after a round");
	cp_book_destroy(c);
	free(buf);
}

/* The file from the input: all but the last byte, its trailer resealed if that byte is odd. */
static uint8_t *
file_of(const uint8_t *data, size_t size, size_t *len)
{
	uint8_t *f = malloc(size > 0 ? size : 1);

	fuzz_check(f != NULL, "memory");
	*len = size > 0 ? size - 1 : 0;
	memcpy(f, data, *len);
	if (size > 0 && (data[size - 1] & 1) && *len >= 4) {
		uint32_t c = sl_test_crc32c(f, *len - 4);

		for (int i = 0; i < 4; i++)
			f[*len - 4 + (size_t)i] = (uint8_t)(c >> (8 * i));
	}
	return f;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_book *b = small_book();
	size_t len;
	uint8_t *file = file_of(data, size, &len);
	char why[256];
	int rc;

	fuzz_check(b != NULL, "a book");
	memset(why, 0x55, sizeof(why));
	rc = cp_book_decode(b, file, len, why, sizeof(why));
	free(file);
	fuzz_check(rc == 0 || rc == -EBADMSG, "0 or -EBADMSG");
	if (rc == -EBADMSG) {
		check_why(why, sizeof(why));
		fuzz_check(cp_book_size(b) == 0, "a refused file changes nothing");
	} else {
		check_again(b);
	}
	cp_book_destroy(b);
	return 0;
}
