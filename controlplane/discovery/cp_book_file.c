/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: the address book on disk (cp_book.h: cp_book_save(), cp_book_load()).
 *
 * Format, version 1 (docs/operations.md), all integers little-endian:
 *   header   80 bytes  magic "sluicebk", version, counts, record sizes, the table geometry
 *                      the slots were computed for, the bucket key
 *   records  128 bytes each, one per address: identity, address, history, slots
 *   bans     48 bytes each
 *   trailer  CRC-32C (Castagnoli) of everything before it
 * The file must be exactly as long as the header says. Slots are used as saved when the
 * geometry (bucketing, bucket counts and size) is the current one, else recomputed.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_byteorder.h>

#include "cp_book_pvt.h"

#define BK_MAGIC       "sluicebk"
#define BK_MAGIC_LEN   8
#define BK_VERSION     1
#define BK_TABLE_NEW   0
#define BK_TABLE_TRIED 1
#define BK_CHUNK       (64u * 1024) /* write() size: a crash may cut the file anywhere */
#define BK_MAX_RECORDS (2u * CP_BOOK_MAX_BUCKETS * CP_BOOK_MAX_BUCKET_SIZE)
#define BK_ASIDE_TRIES 100

struct bk_file_hdr {
	uint8_t magic[BK_MAGIC_LEN];
	rte_le32_t version;
	rte_le32_t n_records;
	rte_le32_t n_bans;
	rte_le16_t record_size;
	rte_le16_t ban_size;
	rte_le32_t new_buckets;
	rte_le32_t tried_buckets;
	rte_le16_t bucket_size;
	uint8_t bucketing; /* 0 or 1 */
	uint8_t reserved0; /* 0 */
	rte_le32_t reserved1;
	uint8_t key[SL_KEY_LEN];
	rte_le64_t reserved2;
};

struct bk_file_rec {
	uint8_t id[SL_KEY_LEN]; /* zero unless flags has CP_ADDR_F_HAS_ID */
	rte_le32_t ip;
	rte_le16_t port;
	uint8_t flags;
	uint8_t table; /* BK_TABLE_* */
	rte_le64_t last_seen, last_try, last_success, bad_until, rtt_ns;
	rte_le32_t src_ip, attempts, successes;
	uint8_t bad_count;
	uint8_t n_slots; /* tried: 1; new: 1..CP_BOOK_MAX_REFS */
	rte_le16_t reserved;
	rte_le32_t slot[CP_BOOK_MAX_REFS]; /* unused ones: 0xffffffff */
};

struct bk_file_ban {
	uint8_t id[SL_KEY_LEN];
	rte_le32_t ip;
	rte_le16_t port;
	uint8_t flags;
	uint8_t reserved;
	rte_le64_t until;
};

static_assert(sizeof(struct bk_file_hdr) == 80, "book file header");
static_assert(offsetof(struct bk_file_hdr, key) == 40, "book file header layout");
static_assert(sizeof(struct bk_file_rec) == 128, "book file record");
static_assert(offsetof(struct bk_file_rec, last_seen) == 40, "book file record layout");
static_assert(offsetof(struct bk_file_rec, slot) == 96, "book file record layout");
static_assert(sizeof(struct bk_file_ban) == 48, "book file ban");
static_assert(offsetof(struct bk_file_ban, until) == 40, "book file ban layout");

/* --- CRC-32C ---------------------------------------------------------------------------------- */

#define CRC32C_POLY 0x82f63b78u /* reflected Castagnoli */

static uint32_t
crc32c(const uint8_t *p, size_t len)
{
	uint32_t table[256], c = ~0u;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t x = i;

		for (int k = 0; k < 8; k++)
			x = x & 1 ? x >> 1 ^ CRC32C_POLY : x >> 1;
		table[i] = x;
	}
	while (len--)
		c = table[(c ^ *p++) & 0xff] ^ c >> 8;
	return ~c;
}

static size_t
file_len(uint64_t n_records, uint64_t n_bans)
{
	return sizeof(struct bk_file_hdr) + n_records * sizeof(struct bk_file_rec) +
	       n_bans * sizeof(struct bk_file_ban) + sizeof(rte_le32_t);
}

/* --- writing ---------------------------------------------------------------------------------- */

static void
enc_header(const struct cp_book *b, uint8_t *buf)
{
	struct bk_file_hdr h;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, BK_MAGIC, BK_MAGIC_LEN);
	h.version = rte_cpu_to_le_32(BK_VERSION);
	h.n_records = rte_cpu_to_le_32(b->n_all);
	h.n_bans = rte_cpu_to_le_32(b->n_bans);
	h.record_size = rte_cpu_to_le_16(sizeof(struct bk_file_rec));
	h.ban_size = rte_cpu_to_le_16(sizeof(struct bk_file_ban));
	h.new_buckets = rte_cpu_to_le_32(b->cfg.new_buckets);
	h.tried_buckets = rte_cpu_to_le_32(b->cfg.tried_buckets);
	h.bucket_size = rte_cpu_to_le_16(b->cfg.bucket_size);
	h.bucketing = b->cfg.bucketing;
	memcpy(h.key, b->key, SL_KEY_LEN);
	memcpy(buf, &h, sizeof(h));
}

static void
enc_record(const struct bk_entry *e, uint8_t *buf)
{
	bool tried = e->tried_slot != BK_NONE;
	struct bk_file_rec r;

	memset(&r, 0, sizeof(r));
	memcpy(r.id, e->addr.id, SL_KEY_LEN);
	r.ip = rte_cpu_to_le_32(e->addr.ip);
	r.port = rte_cpu_to_le_16(e->addr.port);
	r.flags = e->addr.flags;
	r.table = tried ? BK_TABLE_TRIED : BK_TABLE_NEW;
	r.last_seen = rte_cpu_to_le_64(e->addr.last_seen);
	r.last_try = rte_cpu_to_le_64(e->last_try);
	r.last_success = rte_cpu_to_le_64(e->last_success);
	r.bad_until = rte_cpu_to_le_64(e->bad_until);
	r.rtt_ns = rte_cpu_to_le_64(e->rtt_ns);
	r.src_ip = rte_cpu_to_le_32(e->src_ip);
	r.attempts = rte_cpu_to_le_32(e->attempts);
	r.successes = rte_cpu_to_le_32(e->successes);
	r.bad_count = e->bad_count;
	r.n_slots = tried ? 1 : e->refs;
	for (unsigned int i = 0; i < CP_BOOK_MAX_REFS; i++)
		r.slot[i] = rte_cpu_to_le_32(i < r.n_slots ? (tried ? e->tried_slot : e->slot[i])
							   : BK_NONE);
	memcpy(buf, &r, sizeof(r));
}

static void
enc_ban(const struct bk_ban *x, uint8_t *buf)
{
	struct bk_file_ban f;

	memset(&f, 0, sizeof(f));
	memcpy(f.id, x->addr.id, SL_KEY_LEN);
	f.ip = rte_cpu_to_le_32(x->addr.ip);
	f.port = rte_cpu_to_le_16(x->addr.port);
	f.flags = x->addr.flags;
	f.until = rte_cpu_to_le_64(x->until);
	memcpy(buf, &f, sizeof(f));
}

/* The whole file in memory (tried entries first: if the geometry changes before the next
 * load, they are placed first). */
static uint8_t *
encode(const struct cp_book *b, size_t *len)
{
	uint8_t *buf, *p;
	rte_le32_t crc;

	*len = file_len(b->n_all, b->n_bans);
	buf = malloc(*len);
	if (buf == NULL)
		return NULL;
	enc_header(b, buf);
	p = buf + sizeof(struct bk_file_hdr);
	for (int pass = 1; pass >= 0; pass--)
		for (uint32_t i = 0; i < b->n_all; i++) {
			const struct bk_entry *e = BK_E(b, b->all[i]);

			if ((e->tried_slot != BK_NONE) != pass)
				continue;
			enc_record(e, p);
			p += sizeof(struct bk_file_rec);
		}
	for (uint32_t i = 0; i < b->n_bans; i++, p += sizeof(struct bk_file_ban))
		enc_ban(&b->bans[i], p);
	crc = rte_cpu_to_le_32(crc32c(buf, (size_t)(p - buf)));
	memcpy(p, &crc, sizeof(crc));
	return buf;
}

static int
write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, RTE_MIN(len, (size_t)BK_CHUNK));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync the directory holding path, so that a rename into it is durable. */
static int
sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* path.tmp written and fsynced, renamed over path, directory fsynced. */
static int
write_atomic(const char *path, const uint8_t *buf, size_t len)
{
	char tmp[PATH_MAX];
	int fd, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, buf, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return sync_dir(path);
}

int
cp_book_save(struct cp_book *b, const char *path)
{
	uint8_t *buf;
	size_t len;
	int rc;

	SL_ASSERT_OWNER(b->owner);
	buf = encode(b, &len);
	rc = buf != NULL ? write_atomic(path, buf, len) : -ENOMEM;
	free(buf);
	if (rc < 0)
		b->stats.save_failures++;
	else
		b->stats.saves++;
	return rc;
}

/* --- reading ---------------------------------------------------------------------------------- */

/* What load needs besides the buffer: where to say why, the book being built, what it
 * dropped, whether the saved slots apply. */
struct bk_load {
	char *why;
	size_t why_len;
	struct cp_book *t;
	uint64_t dropped;
	bool same_geometry;
};

static int __attribute__((format(printf, 2, 3))) corrupt(struct bk_load *ld, const char *fmt, ...)
{
	va_list ap;

	if (ld->why != NULL && ld->why_len > 0) {
		va_start(ap, fmt);
		vsnprintf(ld->why, ld->why_len, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static int
read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	int fd, rc = 0;

	*buf = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	*len = (size_t)st.st_size;
	if (st.st_size < 0 || *len > file_len(BK_MAX_RECORDS, CP_BOOK_MAX_BANS_LIMIT)) {
		rc = -EFBIG;
		goto out;
	}
	*buf = malloc(*len + 1);
	if (*buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t got = 0; got < *len && rc == 0;) {
		ssize_t n = read(fd, *buf + got, *len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = n < 0 ? -errno : -EIO; /* shrank while we read it */
		else
			got += (size_t)n;
	}
out:
	close(fd);
	return rc;
}

/* The header, the length and the checksum. */
static int
check_frame(struct bk_load *ld, const uint8_t *buf, size_t len, struct bk_file_hdr *h)
{
	size_t want;
	uint32_t n, m, crc;

	if (len < file_len(0, 0))
		return corrupt(ld, "truncated: %zu bytes, shorter than an empty book", len);
	memcpy(h, buf, sizeof(*h));
	if (memcmp(h->magic, BK_MAGIC, BK_MAGIC_LEN) != 0)
		return corrupt(ld, "not an address book (bad magic)");
	if (rte_le_to_cpu_32(h->version) != BK_VERSION)
		return corrupt(ld, "version %u; this build reads version %u",
			       rte_le_to_cpu_32(h->version), BK_VERSION);
	if (rte_le_to_cpu_16(h->record_size) != sizeof(struct bk_file_rec) ||
	    rte_le_to_cpu_16(h->ban_size) != sizeof(struct bk_file_ban))
		return corrupt(ld, "record sizes %u and %u, expected %zu and %zu",
			       rte_le_to_cpu_16(h->record_size), rte_le_to_cpu_16(h->ban_size),
			       sizeof(struct bk_file_rec), sizeof(struct bk_file_ban));
	n = rte_le_to_cpu_32(h->n_records);
	m = rte_le_to_cpu_32(h->n_bans);
	if (n > BK_MAX_RECORDS || m > CP_BOOK_MAX_BANS_LIMIT)
		return corrupt(ld, "%u records and %u bans: more than any book holds", n, m);
	want = file_len(n, m);
	if (len != want)
		return corrupt(ld, "%s: %zu bytes, the header announces %zu",
			       len < want ? "truncated" : "trailing bytes", len, want);
	memcpy(&crc, buf + len - sizeof(crc), sizeof(crc));
	if (crc32c(buf, len - sizeof(crc)) != rte_le_to_cpu_32(crc))
		return corrupt(ld, "checksum mismatch");
	if (h->bucketing > 1 || h->reserved0 != 0 || h->reserved1 != 0 || h->reserved2 != 0)
		return corrupt(ld, "header: unknown flags or reserved bytes set");
	return 0;
}

static bool
id_is_zero(const uint8_t id[SL_KEY_LEN])
{
	uint8_t x = 0;

	for (unsigned int i = 0; i < SL_KEY_LEN; i++)
		x |= id[i];
	return x == 0;
}

/* What an address of the file breaks, or NULL. */
static const char *
addr_rule(const struct cp_addr *a)
{
	if (a->port == 0)
		return "port 0";
	if ((a->flags & ~CP_ADDR_F_HAS_ID) != 0)
		return "unknown flags";
	if (!cp_bk_addr_valid(a))
		return "an address nobody can dial";
	if (!(a->flags & CP_ADDR_F_HAS_ID) && !id_is_zero(a->id))
		return "an identity without its flag";
	return NULL;
}

static void
dec_addr(const uint8_t id[SL_KEY_LEN], rte_le32_t ip, rte_le16_t port, uint8_t flags,
	 struct cp_addr *a)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->id, id, SL_KEY_LEN);
	a->ip = rte_le_to_cpu_32(ip);
	a->port = rte_le_to_cpu_16(port);
	a->flags = flags;
}

/* What a record breaks on its own, or NULL. */
static const char *
rec_rule(const struct bk_file_rec *r, const struct cp_addr *a)
{
	const char *bad = addr_rule(a);

	if (bad != NULL)
		return bad;
	if (r->table > BK_TABLE_TRIED || r->reserved != 0)
		return "unknown table or reserved bytes set";
	if (r->table == BK_TABLE_TRIED && (r->n_slots != 1 || r->last_success == 0))
		return "tried without a success or with several slots";
	if (r->n_slots == 0 || r->n_slots > CP_BOOK_MAX_REFS)
		return "number of slots out of range";
	for (unsigned int i = r->n_slots; i < CP_BOOK_MAX_REFS; i++)
		if (rte_le_to_cpu_32(r->slot[i]) != BK_NONE)
			return "an unused slot set";
	return NULL;
}

static void
dec_entry(const struct bk_file_rec *r, struct bk_entry *e)
{
	e->last_try = rte_le_to_cpu_64(r->last_try);
	e->last_success = rte_le_to_cpu_64(r->last_success);
	e->bad_until = rte_le_to_cpu_64(r->bad_until);
	e->rtt_ns = rte_le_to_cpu_64(r->rtt_ns);
	e->attempts = rte_le_to_cpu_32(r->attempts);
	e->successes = rte_le_to_cpu_32(r->successes);
	e->bad_count = r->bad_count;
}

/* Into the saved slots (same geometry): each must be a place of this address, and free. */
static const char *
place_saved(struct cp_book *t, uint32_t idx, const struct bk_file_rec *r)
{
	const struct cp_addr *a = &t->e[idx].addr;
	bool tried = r->table == BK_TABLE_TRIED;
	unsigned int n = RTE_MIN((unsigned int)r->n_slots, t->cfg.max_new_refs);

	for (unsigned int i = 0; i < (tried ? 1 : n); i++) {
		uint32_t s = rte_le_to_cpu_32(r->slot[i]);
		const struct bk_table *tb = tried ? &t->tried_t : &t->new_t;

		if (!cp_bk_slot_fits(t, tried, s, a->ip, a->port))
			return "a slot that is not this address's";
		if (tb->slot[s] != BK_NONE)
			return "a slot taken by an earlier record";
		if (tried)
			cp_bk_tried_set(t, s, idx);
		else
			cp_bk_new_ref_add(t, s, idx);
	}
	return NULL;
}

/* Into the places the current geometry gives it, if free; else dropped. */
static void
place_again(struct bk_load *ld, uint32_t idx, const struct bk_file_rec *r)
{
	struct cp_book *t = ld->t;

	if (r->table == BK_TABLE_TRIED && cp_bk_load_tried(t, idx) == 0)
		return;
	if (cp_bk_load_new(t, idx, t->e[idx].src_ip) == 0)
		return;
	cp_bk_entry_drop(t, idx);
	ld->dropped++;
}

static int
load_record(struct bk_load *ld, uint32_t i, const uint8_t *p)
{
	struct bk_file_rec r;
	struct cp_addr a;
	const char *bad;
	uint32_t idx;

	memcpy(&r, p, sizeof(r));
	dec_addr(r.id, r.ip, r.port, r.flags, &a);
	a.last_seen = rte_le_to_cpu_64(r.last_seen);
	bad = rec_rule(&r, &a);
	if (bad == NULL && cp_bk_find(ld->t, a.ip, a.port) != BK_NONE)
		bad = "the same address as an earlier record";
	if (bad != NULL)
		return corrupt(ld, "record %u: %s", i, bad);
	idx = cp_bk_entry_new(ld->t, &a, rte_le_to_cpu_32(r.src_ip));
	if (idx == BK_NONE)
		return -ENOMEM;
	dec_entry(&r, BK_E(ld->t, idx));
	if (!ld->same_geometry) {
		place_again(ld, idx, &r);
		return 0;
	}
	bad = place_saved(ld->t, idx, &r);
	return bad == NULL ? 0 : corrupt(ld, "record %u: %s", i, bad);
}

static int
load_ban(struct bk_load *ld, uint32_t i, const uint8_t *p)
{
	struct bk_file_ban f;
	struct cp_addr a;
	const char *bad;

	memcpy(&f, p, sizeof(f));
	dec_addr(f.id, f.ip, f.port, f.flags, &a);
	bad = addr_rule(&a);
	if (bad == NULL && (f.reserved != 0 || f.until == 0))
		bad = "reserved bytes set or no end";
	if (bad != NULL)
		return corrupt(ld, "ban %u: %s", i, bad);
	cp_bk_ban_put(ld->t, &a, rte_le_to_cpu_64(f.until));
	return 0;
}

static bool
same_geometry(const struct cp_book_config *c, const struct bk_file_hdr *h)
{
	return h->bucketing == c->bucketing && rte_le_to_cpu_32(h->new_buckets) == c->new_buckets &&
	       rte_le_to_cpu_32(h->tried_buckets) == c->tried_buckets &&
	       rte_le_to_cpu_16(h->bucket_size) == c->bucket_size;
}

/* A new book (ld->t) from a checked frame; nothing of b changes. */
static int
build(struct bk_load *ld, const struct cp_book *b, const uint8_t *buf, const struct bk_file_hdr *h)
{
	uint32_t n = rte_le_to_cpu_32(h->n_records), m = rte_le_to_cpu_32(h->n_bans);
	const uint8_t *p = buf + sizeof(*h);
	int rc = 0;

	ld->t = cp_book_create(&b->cfg, h->key, b->rng);
	if (ld->t == NULL)
		return -errno;
	ld->same_geometry = same_geometry(&b->cfg, h);
	for (uint32_t i = 0; i < n && rc == 0; i++, p += sizeof(struct bk_file_rec))
		rc = load_record(ld, i, p);
	for (uint32_t i = 0; i < m && rc == 0; i++, p += sizeof(struct bk_file_ban))
		rc = load_ban(ld, i, p);
	return rc;
}

/* b takes t's entries, bans and key; t takes b's old ones and is destroyed. */
static void
adopt(struct cp_book *b, struct bk_load *ld)
{
	struct cp_book old = *b;

	*b = *ld->t;
	b->stats = old.stats;
	b->owner = old.owner;
	b->rng = old.rng;
	*ld->t = old;
	cp_book_destroy(ld->t);
	ld->t = NULL;
	b->stats.loads++;
	b->stats.load_dropped += ld->dropped;
	cp_bk_gauges(b);
}

/* Rename path to path.corrupt-<time> (or .corrupt-<time>.<n> if taken) and say so in why. */
static void
set_aside(struct cp_book *b, const char *path, struct bk_load *ld)
{
	char dst[PATH_MAX];
	size_t used = ld->why != NULL ? strnlen(ld->why, ld->why_len) : 0;
	unsigned long long now = (unsigned long long)time(NULL);
	int n = 0, rc = -EEXIST;

	for (; n < BK_ASIDE_TRIES && rc == -EEXIST; n++) {
		if (n == 0)
			snprintf(dst, sizeof(dst), "%s.corrupt-%llu", path, now);
		else
			snprintf(dst, sizeof(dst), "%s.corrupt-%llu.%d", path, now, n);
		rc = access(dst, F_OK) == 0 ? -EEXIST : 0;
	}
	if (rc == 0 && rename(path, dst) < 0)
		rc = -errno;
	if (rc == 0)
		b->stats.corrupt_set_aside++;
	if (ld->why == NULL || used + 1 >= ld->why_len)
		return;
	if (rc == 0)
		snprintf(ld->why + used, ld->why_len - used, " (set aside as %s)", dst);
	else
		snprintf(ld->why + used, ld->why_len - used, " (could not set it aside: %s)",
			 strerror(-rc));
}

/* Check buf whole and, if it is a valid book, make it b's (ld->t is the book built). */
static int
load_buf(struct cp_book *b, struct bk_load *ld, const uint8_t *buf, size_t len)
{
	struct bk_file_hdr h;
	int rc;

	memset(&h, 0, sizeof(h));
	rc = check_frame(ld, buf, len, &h);
	if (rc == 0)
		rc = build(ld, b, buf, &h);
	if (rc == 0)
		adopt(b, ld);
	return rc;
}

int
cp_book_decode(struct cp_book *b, const uint8_t *buf, size_t len, char *why, size_t why_len)
{
	struct bk_load ld = { .why = why, .why_len = why_len };
	int rc;

	SL_ASSERT_OWNER(b->owner);
	if (why != NULL && why_len > 0)
		why[0] = '\0';
	rc = load_buf(b, &ld, buf, len);
	cp_book_destroy(ld.t);
	return rc;
}

int
cp_book_load(struct cp_book *b, const char *path, char *why, size_t why_len)
{
	struct bk_load ld = { .why = why, .why_len = why_len };
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	SL_ASSERT_OWNER(b->owner);
	if (why != NULL && why_len > 0)
		why[0] = '\0';
	rc = read_file(path, &buf, &len);
	if (rc == -EFBIG)
		rc = corrupt(&ld, "%zu bytes: larger than any book", len);
	else if (rc == 0)
		rc = load_buf(b, &ld, buf, len);
	if (rc == -EBADMSG)
		set_aside(b, path, &ld);
	cp_book_destroy(ld.t);
	free(buf);
	return rc;
}
