/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: the address book on disk — a round trip keeps everything (and the same
 * slots), a changed geometry re-places entries, a missing file is no error, every kind of
 * damage (truncation, extra bytes, flipped bits, another version, well-checksummed nonsense)
 * is refused with a reason, set aside and leaves the book as it was, failed saves leave the
 * previous file, and a save killed (SIGKILL) at random points leaves a file that loads as the
 * previous book or the new one, never anything else.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_book.h"

/* Offsets of the format (docs/operations.md: the address book file) */
#define HDR_LEN	    80
#define REC_LEN	    128
#define BAN_LEN	    48
#define H_VERSION   8
#define H_N_RECORDS 12
#define H_REC_SIZE  20
#define H_RESERVED0 35
#define R_PORT	    36
#define R_FLAGS	    38
#define R_TABLE	    39
#define R_LAST_OK   56
#define R_SLOT	    96
#define B_PORT	    36

static char dir[64];
static char path[PATH_MAX];

static void
make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sluice-book-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/book", dir);
}

/* Remove every file in dir (and dir itself if rm_dir). */
static void
clean_dir(bool rm_dir)
{
	char f[PATH_MAX];
	struct dirent *d;
	DIR *dp = opendir(dir);

	while (dp != NULL && (d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", dir, d->d_name);
		unlink(f);
	}
	if (dp != NULL)
		closedir(dp);
	if (rm_dir)
		rmdir(dir);
}

/* The name of the one file set aside (path.corrupt-...), or false. */
static bool
aside_name(char *out, size_t len)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	while (dp != NULL && (d = readdir(dp)) != NULL)
		if (strncmp(d->d_name, "book.corrupt-", 13) == 0 && n++ == 0)
			snprintf(out, len, "%s/%s", dir, d->d_name);
	if (dp != NULL)
		closedir(dp);
	return n == 1;
}

static uint8_t *
slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *buf;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(*len + 1);
	if (buf != NULL && fread(buf, 1, *len, f) != *len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void
spill(const char *p, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(p, "wb");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void
put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
fix_crc(uint8_t *buf, size_t len)
{
	put_le(buf + len - 4, sl_test_crc32c(buf, len - 4), 4);
}

/* A book with some of everything: new addresses heard of from several sources (so some are in
 * several buckets), tried ones with ids and RTTs, failed attempts, bad marks, bans. */
static struct cp_book *
full_book(const struct cp_book_config *cfg, unsigned int n, uint64_t seed)
{
	struct cp_book *b = tbook(cfg, seed);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (uint32_t i = 0; i < n; i++) {
		struct cp_addr a = taddr(tip(i, 3), 9, i % 3 ? 1000 + i : 0);

		for (uint32_t s = 0; s < 1 + i % 4; s++)
			cp_book_add(b, &a, IP(50 + s, i % 100, 0, 1), NOW);
		if (i % 5 == 0)
			cp_book_good(b, &a, 1000000ull * (1 + i % 90), NOW + i);
		if (i % 7 == 0)
			cp_book_attempt(b, &a, NOW + 2 * i);
		if (i % 50 == 0)
			cp_book_bad(b, &a, NOW + i);
	}
	for (uint32_t i = 0; i < 5; i++) {
		struct cp_addr a = taddr(tip(900000 + i, 1), 9, i % 2 ? 7000 + i : 0);

		cp_book_ban(b, &a, NOW + DAY + i);
	}
	CU_ASSERT(tbook_ok(b));
	return b;
}

static bool
same_slots(const struct cp_book *x, const struct cp_book *y, bool tried)
{
	const struct bk_table *tx = tried ? &x->tried_t : &x->new_t;
	const struct bk_table *ty = tried ? &y->tried_t : &y->new_t;

	for (uint32_t s = 0; s < tx->n_slots; s++) {
		if ((tx->slot[s] == BK_NONE) != (ty->slot[s] == BK_NONE))
			return false;
		if (tx->slot[s] != BK_NONE &&
		    (x->e[tx->slot[s]].addr.ip != y->e[ty->slot[s]].addr.ip ||
		     x->e[tx->slot[s]].addr.port != y->e[ty->slot[s]].addr.port))
			return false;
	}
	return true;
}

static void
check_round_trip(const struct cp_book_config *cfg)
{
	struct cp_book *b = full_book(cfg, 3000, 1), *c;
	static const uint8_t other_key[SL_KEY_LEN] = { 9 };
	char why[256];

	CU_ASSERT_EQUAL_FATAL(cp_book_save(b, path), 0);
	CU_ASSERT_EQUAL(cp_book_stats(b)->saves, 1);
	c = cp_book_create(cfg, other_key, 99);
	CU_ASSERT_EQUAL_FATAL(cp_book_load(c, path, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(why, "");
	CU_ASSERT_EQUAL(cp_book_size(c), cp_book_size(b));
	CU_ASSERT_EQUAL(tfingerprint(c), tfingerprint(b));
	CU_ASSERT_EQUAL(memcmp(c->key, b->key, SL_KEY_LEN), 0); /* the file's key */
	CU_ASSERT(same_slots(b, c, false) && same_slots(b, c, true));
	CU_ASSERT_EQUAL(cp_book_stats(c)->entries_tried, cp_book_stats(b)->entries_tried);
	CU_ASSERT_EQUAL(cp_book_stats(c)->bans, 5);
	CU_ASSERT_EQUAL(cp_book_stats(c)->loads, 1);
	CU_ASSERT(tbook_ok(c));
	for (uint32_t i = 0; i < 5; i++) {
		struct cp_addr a = taddr(tip(900000 + i, 1), 9, i % 2 ? 7000 + i : 0);

		CU_ASSERT(cp_book_banned(c, &a, NOW + DAY + i - 1));
		CU_ASSERT(!cp_book_banned(c, &a, NOW + DAY + i));
	}
	/* and it goes on as the original would */
	for (uint32_t i = 0; i < 500; i++) {
		struct cp_addr a = taddr(tip(5000 + i, 1), 9, 0);

		CU_ASSERT_EQUAL(cp_book_add(b, &a, IP(70, 1, 1, 1), NOW + 10),
				cp_book_add(c, &a, IP(70, 1, 1, 1), NOW + 10));
	}
	CU_ASSERT_EQUAL(tfingerprint(c), tfingerprint(b));
	cp_book_destroy(b);
	cp_book_destroy(c);
}

static void
test_round_trip(void)
{
	struct cp_book_config cfg;

	make_dir();
	cp_book_config_defaults(&cfg);
	check_round_trip(&cfg);
	cfg.bucketing = false; /* flat pools keep their (random) slots too */
	check_round_trip(&cfg);
	clean_dir(true);
}

/* A file of one geometry loaded with another: entries are placed again; what does not fit is
 * dropped and counted; a book that held something is replaced. */
static void
test_other_geometry(void)
{
	struct cp_book_config cfg, smaller, bigger;
	struct cp_book *b, *c;
	unsigned int n;
	char why[256];

	make_dir();
	cp_book_config_defaults(&cfg);
	b = full_book(&cfg, 3000, 1);
	n = cp_book_size(b);
	CU_ASSERT_EQUAL_FATAL(cp_book_save(b, path), 0);
	smaller = cfg;
	smaller.new_buckets = 16;
	smaller.tried_buckets = 4;
	smaller.bucket_size = 8;
	smaller.new_per_source_group = 4;
	c = full_book(&smaller, 50, 2); /* something to replace */
	CU_ASSERT_EQUAL(cp_book_load(c, path, why, sizeof(why)), 0);
	CU_ASSERT(cp_book_size(c) <= 16 * 8 + 4 * 8);
	CU_ASSERT_EQUAL(cp_book_size(c) + cp_book_stats(c)->load_dropped, n);
	CU_ASSERT(tbook_ok(c));
	cp_book_destroy(c);
	bigger = cfg;
	bigger.new_buckets = 1024;
	bigger.tried_buckets = 256;
	c = tbook(&bigger, 3);
	CU_ASSERT_EQUAL(cp_book_load(c, path, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(cp_book_size(c) + cp_book_stats(c)->load_dropped, n);
	CU_ASSERT(cp_book_size(c) >= n * 9 / 10);
	CU_ASSERT(cp_book_stats(c)->entries_tried >= cp_book_stats(b)->entries_tried * 9 / 10);
	CU_ASSERT(tbook_ok(c));
	cp_book_destroy(c);
	cp_book_destroy(b);
	clean_dir(true);
}

static void
test_no_file(void)
{
	struct cp_book *b = full_book(NULL, 100, 1);
	uint64_t fp = tfingerprint(b);
	char why[64] = "x";

	make_dir();
	CU_ASSERT_EQUAL(cp_book_load(b, path, why, sizeof(why)), -ENOENT);
	CU_ASSERT_STRING_EQUAL(why, "");
	CU_ASSERT_EQUAL(tfingerprint(b), fp);
	CU_ASSERT_EQUAL(cp_book_stats(b)->corrupt_set_aside, 0);
	CU_ASSERT_EQUAL(cp_book_load(b, path, NULL, 0), -ENOENT);
	cp_book_destroy(b);
	clean_dir(true);
}

/* --- damaged files ---------------------------------------------------------------------------- */

enum damage {
	D_EMPTY,
	D_HEADER_CUT,
	D_RECORD_SHORT,
	D_BYTE_SHORT,
	D_EXTRA_BYTE,
	D_MAGIC,
	D_VERSION,
	D_RECORD_SIZE,
	D_HUGE_COUNT,
	D_FLIP_RECORD,
	D_FLIP_BAN,
	D_FLIP_CRC,
	D_PORT0,
	D_DUPLICATE,
	D_FLAGS,
	D_SLOT,
	D_TRIED_NO_SUCCESS,
	D_RESERVED,
	D_BAN_PORT0,
};

static const struct {
	enum damage d;
	const char *why; /* in the reason given */
} damages[] = {
	{ D_EMPTY, "truncated" },
	{ D_HEADER_CUT, "truncated" },
	{ D_RECORD_SHORT, "truncated" },
	{ D_BYTE_SHORT, "truncated" },
	{ D_EXTRA_BYTE, "trailing bytes" },
	{ D_MAGIC, "bad magic" },
	{ D_VERSION, "version 2; this build reads version 1" },
	{ D_RECORD_SIZE, "record sizes" },
	{ D_HUGE_COUNT, "more than any book" },
	{ D_FLIP_RECORD, "checksum" },
	{ D_FLIP_BAN, "checksum" },
	{ D_FLIP_CRC, "checksum" },
	{ D_PORT0, "record 2: port 0" },
	{ D_DUPLICATE, "record 1: the same address as an earlier record" },
	{ D_FLAGS, "record 3: unknown flags" },
	{ D_SLOT, "record 4: a slot" },
	{ D_TRIED_NO_SUCCESS, "tried without a success" },
	{ D_RESERVED, "reserved" },
	{ D_BAN_PORT0, "ban 0: port 0" },
};

/* Damage a copy of a good file (len bytes, n records); returns the new length. */
static size_t
damage(uint8_t *buf, size_t len, uint32_t n, enum damage d)
{
	uint8_t *rec = buf + HDR_LEN, *ban = buf + HDR_LEN + (size_t)n * REC_LEN;

	switch (d) {
	case D_EMPTY:
		return 0;
	case D_HEADER_CUT:
		return 40;
	case D_RECORD_SHORT:
		return len - REC_LEN;
	case D_BYTE_SHORT:
		return len - 1;
	case D_EXTRA_BYTE:
		buf[len] = 0;
		return len + 1;
	case D_MAGIC:
		buf[0] ^= 0x20;
		return len;
	case D_VERSION:
		put_le(buf + H_VERSION, 2, 4);
		break;
	case D_RECORD_SIZE:
		put_le(buf + H_REC_SIZE, 64, 2);
		break;
	case D_HUGE_COUNT:
		put_le(buf + H_N_RECORDS, 0xffffffffu, 4);
		break;
	case D_FLIP_RECORD:
		rec[3 * REC_LEN + 50] ^= 0x04;
		return len;
	case D_FLIP_BAN:
		ban[BAN_LEN + 40] ^= 0x80;
		return len;
	case D_FLIP_CRC:
		buf[len - 2] ^= 0x01;
		return len;
	case D_PORT0:
		put_le(rec + 2 * REC_LEN + R_PORT, 0, 2);
		break;
	case D_DUPLICATE:
		memcpy(rec + REC_LEN, rec, REC_LEN);
		break;
	case D_FLAGS:
		rec[3 * REC_LEN + R_FLAGS] |= 0x80;
		break;
	case D_SLOT:
		rec[4 * REC_LEN + R_SLOT] ^= 1;
		break;
	case D_TRIED_NO_SUCCESS:
		put_le(rec + R_LAST_OK, 0, 8);
		break; /* record 0 is tried */
	case D_RESERVED:
		buf[H_RESERVED0] = 1;
		break;
	case D_BAN_PORT0:
		put_le(ban + B_PORT, 0, 2);
		break;
	}
	fix_crc(buf, len); /* well-checksummed: the rules inside must catch it */
	return len;
}

/* Load a damaged file into a book: refused, set aside intact, the book unchanged. */
static void
check_refused(struct cp_book *b, const uint8_t *bad, size_t len, const char *expect)
{
	uint64_t fp = tfingerprint(b), aside0 = cp_book_stats(b)->corrupt_set_aside;
	char why[512], aside[PATH_MAX];
	uint8_t *kept;
	size_t kept_len = 0;

	spill(path, bad, len);
	CU_ASSERT_EQUAL(cp_book_load(b, path, why, sizeof(why)), -EBADMSG);
	if (expect != NULL && strstr(why, expect) == NULL)
		printf("\n  \"%s\" does not say \"%s\"", why, expect);
	CU_ASSERT(expect == NULL || strstr(why, expect) != NULL);
	CU_ASSERT(strstr(why, "set aside as") != NULL);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	CU_ASSERT_FATAL(aside_name(aside, sizeof(aside)));
	kept = slurp(aside, &kept_len);
	CU_ASSERT(kept != NULL && kept_len == len && memcmp(kept, bad, len) == 0);
	free(kept);
	CU_ASSERT_EQUAL(tfingerprint(b), fp);
	CU_ASSERT_EQUAL(cp_book_stats(b)->corrupt_set_aside, aside0 + 1);
	CU_ASSERT(tbook_ok(b));
	clean_dir(false);
}

static void
test_corrupt(void)
{
	struct cp_book *src = full_book(NULL, 500, 1), *b = full_book(NULL, 100, 2);
	uint8_t *good, *bad;
	size_t len;

	make_dir();
	CU_ASSERT_EQUAL_FATAL(cp_book_save(src, path), 0);
	good = slurp(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(good);
	CU_ASSERT_EQUAL(len, HDR_LEN + cp_book_size(src) * REC_LEN + 5 * BAN_LEN + 4);
	bad = malloc(len + 1);
	for (unsigned int i = 0; i < RTE_DIM(damages); i++) {
		size_t n;

		memcpy(bad, good, len);
		n = damage(bad, len, cp_book_size(src), damages[i].d);
		check_refused(b, bad, n, damages[i].why);
	}
	/* any single flipped bit (CRC-32C misses none) */
	for (uint64_t s = 5, i = 0; i < 100; i++) {
		size_t bit = sl_test_mix64(&s) % (len * 8);

		memcpy(bad, good, len);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		check_refused(b, bad, len, NULL);
	}
	/* and the good file still loads */
	spill(path, good, len);
	CU_ASSERT_EQUAL(cp_book_load(b, path, NULL, 0), 0);
	CU_ASSERT_EQUAL(tfingerprint(b), tfingerprint(src));
	free(good);
	free(bad);
	cp_book_destroy(src);
	cp_book_destroy(b);
	clean_dir(true);
}

/* --- failed saves ----------------------------------------------------------------------------- */

static void
test_save_errors(void)
{
	struct cp_book *b = full_book(NULL, 100, 1), *c = tbook(NULL, 2);
	char p[PATH_MAX + 16];

	make_dir();
	snprintf(p, sizeof(p), "%s/no/such/dir", dir);
	CU_ASSERT_EQUAL(cp_book_save(b, p), -ENOENT);
	memset(p, 'x', sizeof(p) - 1);
	p[sizeof(p) - 1] = '\0';
	CU_ASSERT_EQUAL(cp_book_save(b, p), -ENAMETOOLONG);
	/* path is a directory: rename fails, path.tmp goes, the directory stays */
	snprintf(p, sizeof(p), "%s/adir", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(p, 0700), 0);
	CU_ASSERT(cp_book_save(b, p) < 0);
	snprintf(p, sizeof(p), "%s/adir.tmp", dir);
	CU_ASSERT_EQUAL(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/adir", dir);
	rmdir(p);
	CU_ASSERT_EQUAL(cp_book_stats(b)->save_failures, 3);
	CU_ASSERT_EQUAL(cp_book_stats(b)->saves, 0);
	/* a leftover path.tmp (a save that died) is overwritten and never read */
	snprintf(p, sizeof(p), "%s.tmp", path);
	spill(p, (const uint8_t *)"garbage", 7);
	CU_ASSERT_EQUAL(cp_book_save(b, path), 0);
	CU_ASSERT_EQUAL(access(p, F_OK), -1);
	CU_ASSERT_EQUAL(cp_book_load(c, path, NULL, 0), 0);
	CU_ASSERT_EQUAL(tfingerprint(c), tfingerprint(b));
	cp_book_destroy(b);
	cp_book_destroy(c);
	clean_dir(true);
}

/* --- kill -9 in the middle of a save ---------------------------------------------------------- */

#define KILLS 200

static uint64_t
usec_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The child: save b and a in turn until killed — or until its parent is gone, or after 1,000
 * rounds (bounded whatever happens to the parent). */
static void __attribute__((noreturn)) saver(struct cp_book *a, struct cp_book *b, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(2);
	for (int i = 0; i < 1000; i++)
		if (cp_book_save(b, path) < 0 || cp_book_save(a, path) < 0)
			_exit(1);
	_exit(2);
}

static void
test_kill_during_save(void)
{
	struct cp_book *a = full_book(NULL, 3000, 1), *b = full_book(NULL, 6000, 2);
	uint64_t fa = tfingerprint(a), fb = tfingerprint(b), s = 77, t0, save_us;
	unsigned int seen_a = 0, seen_b = 0, tmp_left = 0;
	char tmp[PATH_MAX + 8];
	pid_t parent = getpid();

	make_dir();
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CU_ASSERT_FATAL(fa != fb);
	t0 = usec_now();
	CU_ASSERT_EQUAL_FATAL(cp_book_save(b, path), 0);
	save_us = usec_now() - t0;
	CU_ASSERT_EQUAL_FATAL(cp_book_save(a, path), 0); /* the previous book, to begin with */
	for (int i = 0; i < KILLS; i++) {
		struct cp_book *c = tbook(NULL, 3);
		pid_t pid = fork();
		int status = 0;

		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0)
			saver(a, b, parent);
		usleep((useconds_t)(sl_test_mix64(&s) % (2 * save_us + 200)));
		kill(pid, SIGKILL);
		CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
		CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		tmp_left += access(tmp, F_OK) == 0;
		CU_ASSERT_EQUAL_FATAL(cp_book_load(c, path, NULL, 0), 0);
		seen_a += tfingerprint(c) == fa;
		seen_b += tfingerprint(c) == fb;
		cp_book_destroy(c);
	}
	printf("\n  %d kills (a save takes ~%lu us): the previous book %u times, the new one %u, "
	       "a partial path.tmp left %u times",
	       KILLS, (unsigned long)save_us, seen_a, seen_b, tmp_left);
	CU_ASSERT_EQUAL(seen_a + seen_b, KILLS);
	cp_book_destroy(a);
	cp_book_destroy(b);
	clean_dir(true);
}

/* cp_book_decode(): the bytes of a file, as cp_book_load() takes them, without the file. */
static void
test_decode(void)
{
	struct cp_book_config cfg;
	struct cp_book *b, *c;
	uint8_t *buf;
	size_t len;
	char why[256];

	make_dir();
	cp_book_config_defaults(&cfg);
	b = full_book(&cfg, 500, 3);
	CU_ASSERT_EQUAL_FATAL(cp_book_save(b, path), 0);
	buf = slurp(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	c = tbook(&cfg, 4);
	CU_ASSERT_EQUAL(cp_book_decode(c, buf, len, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(tfingerprint(c), tfingerprint(b));
	buf[len / 2] ^= 0x40; /* the checksum no longer holds */
	CU_ASSERT_EQUAL(cp_book_decode(c, buf, len, why, sizeof(why)), -EBADMSG);
	CU_ASSERT(strlen(why) > 0);
	CU_ASSERT_EQUAL(tfingerprint(c), tfingerprint(b)); /* unchanged */
	CU_ASSERT_EQUAL(cp_book_decode(c, buf, 3, NULL, 0), -EBADMSG);
	CU_ASSERT_EQUAL(cp_book_stats(c)->corrupt_set_aside, 0); /* nothing renamed: no file */
	free(buf);
	cp_book_destroy(b);
	cp_book_destroy(c);
	clean_dir(true);
}

static CU_TestInfo cases[] = {
	{ "round_trip", test_round_trip },
	{ "decode: bytes in memory", test_decode },
	{ "other_geometry", test_other_geometry },
	{ "no_file", test_no_file },
	{ "corrupt", test_corrupt },
	{ "save_errors", test_save_errors },
	{ "kill_during_save", test_kill_during_save },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("book_file", cases)
