/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: the address book — every node address this node has heard of, ranked, bounded,
 * and kept on disk across restarts.
 *
 * Two tables, after Bitcoin's addrman and CometBFT's addrbook:
 *   new    addresses heard of but never connected to. Bucket = keyed hash of (the address's
 *          network group, the source's network group), where the source is the peer that told
 *          us (or the address itself when it came from the config or from the node itself), so
 *          all sources of one /16 share new_per_source_group buckets; slot in the bucket = keyed
 *          hash of (bucket, address). One address may sit in up to max_new_refs new buckets (it
 *          was heard of from several sources), each extra one less likely than the last.
 *   tried  addresses we connected to (cp_book_good()). Bucket = keyed hash of (the address's
 *          group, one of tried_per_group), slot as above.
 * An address has exactly one slot per bucket, so a newcomer never pushes out an entry that is
 * still worth something: it takes an empty slot, or the slot of a stale entry (not seen for
 * horizon_s, a last seen over 10 minutes ahead, retries failures and never a success, or
 * max_failures since a success min_fail_s ago; never within a minute of a try), or of one that
 * also sits in other buckets while the newcomer sits in none; otherwise it is refused
 * (refused_full).
 * A source of one network group can therefore fill at most new_per_source_group * bucket_size
 * slots however many addresses it sends, and never evict a fresh one. Promotion to tried whose
 * slot holds an entry that connected less than replacement_s ago leaves the newcomer in new
 * (tried_collisions); an older occupant goes back to new (demoted).
 * The bucket key is a secret (random per node, saved in the file): nobody outside can aim
 * addresses at buckets. config.bucketing = false turns all this off for experiments (the
 * simulator's eclipse comparison): each table is one flat pool, a newcomer takes a free slot or
 * evicts a random entry. Never use it on a real node.
 *
 * Entries are keyed by (ip, port). Identities: cp_book_good() (a handshake proved who answers at
 * that address) pins the id on the entry and drops every other entry claiming it (the node has
 * moved). An add whose source is the address itself (the config, or the node's own handshake
 * naming its listen address) fills in a missing id but never replaces one. Hearsay (an add from
 * another source) never changes an id; an id already known at one address and heard of at
 * another is a second entry in new until a handshake settles it. An attacker claiming someone
 * else's id at its own address gains nothing: an IK dial to it fails.
 *
 * Ranking, for cp_book_pick(): each candidate is accepted with a chance that falls with failed
 * attempts since its last success (x0.66 each, up to 8), with a try in the last 10 minutes
 * (x0.01), with age (last seen over a day: x0.5, a week: x0.25) and with round-trip time (50 ms
 * or less: x1, slower: x50ms/rtt down to 0.1; unknown: x0.5); the factor grows x1.2 per rejected
 * draw so a pick always ends. Bad (cp_book_bad(), for bad_s) and banned addresses are never
 * picked or sampled; bad_to_ban bad marks ban the address for ban_s.
 *
 * Threading: a book belongs to one thread (in the appliance, the control thread; in the
 * simulator, one per node on the simulator's thread); debug builds assert it. No global state:
 * every random choice comes from rng_seed, so a run is reproducible. Time is injected: UNIX
 * seconds of the wall clock (it is saved and must mean the same after a restart). Only
 * cp_book_save() and cp_book_load() touch the file system. Plain C, no DPDK runtime.
 */
#ifndef CP_BOOK_H
#define CP_BOOK_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "cp_addr.h"

/* Defaults: CometBFT's addrbook (p2p/pex/params.go), Bitcoin's addrman where CometBFT has none
 * (replacement window). 256 x 64 new + 64 x 64 tried = 20,480 addresses: a few MiB at most. */
#define CP_BOOK_NEW_BUCKETS	     256
#define CP_BOOK_TRIED_BUCKETS	     64
#define CP_BOOK_BUCKET_SIZE	     64
#define CP_BOOK_NEW_PER_SOURCE_GROUP 32		    /* new buckets one source group reaches */
#define CP_BOOK_TRIED_PER_GROUP	     4		    /* tried buckets one address group reaches */
#define CP_BOOK_NEW_REFS	     4		    /* new buckets one address may sit in */
#define CP_BOOK_HORIZON_S	     (7ull * 86400) /* not seen for this long: stale */
#define CP_BOOK_RETRIES		     3		    /* failures without any success: stale */
#define CP_BOOK_MAX_FAILURES	     10		    /* failures since a success ... */
#define CP_BOOK_MIN_FAIL_S	     (7ull * 86400) /* ... this long ago: stale */
#define CP_BOOK_REPLACEMENT_S	     (4ull * 3600)  /* tried this recently: not pushed out */
#define CP_BOOK_BAD_S		     3600ull	    /* a bad mark keeps an address out this long */
#define CP_BOOK_BAD_TO_BAN	     3		    /* bad marks that turn into a ban */
#define CP_BOOK_BAN_S		     86400ull	    /* CometBFT's defaultBanTime */
#define CP_BOOK_MAX_BANS	     1024
#define CP_BOOK_SAMPLE_PCT	     23	 /* an ADDR answer: 23 % of the book ... */
#define CP_BOOK_SAMPLE_MIN	     32	 /* ... at least this many (if known) ... */
#define CP_BOOK_SAMPLE_MAX	     250 /* ... at most this many */
#define CP_BOOK_SAMPLE_NEW_PCT	     30	 /* share of new addresses in an answer */

/* Hard limits of the configuration (and of the file format). */
#define CP_BOOK_MAX_BUCKETS	4096
#define CP_BOOK_MAX_BUCKET_SIZE 256
#define CP_BOOK_MAX_REFS	8
#define CP_BOOK_MAX_BANS_LIMIT	65536

static_assert(CP_BOOK_NEW_PER_SOURCE_GROUP <= CP_BOOK_NEW_BUCKETS, "per-group share of new");
static_assert(CP_BOOK_TRIED_PER_GROUP <= CP_BOOK_TRIED_BUCKETS, "per-group share of tried");
static_assert(CP_BOOK_NEW_REFS <= CP_BOOK_MAX_REFS, "refs per address");
static_assert(CP_BOOK_SAMPLE_MIN <= CP_BOOK_SAMPLE_MAX, "sample bounds");
static_assert(CP_BOOK_RETRIES <= CP_BOOK_MAX_FAILURES, "failure thresholds");

struct cp_book_config {
	bool bucketing;		       /* false: one flat pool per table (experiments only) */
	uint32_t new_buckets;	       /* 1..CP_BOOK_MAX_BUCKETS */
	uint32_t tried_buckets;	       /* 1..CP_BOOK_MAX_BUCKETS */
	uint32_t bucket_size;	       /* slots per bucket, 1..CP_BOOK_MAX_BUCKET_SIZE */
	uint32_t new_per_source_group; /* 1..new_buckets */
	uint32_t tried_per_group;      /* 1..tried_buckets */
	uint32_t max_new_refs;	       /* 1..CP_BOOK_MAX_REFS */
	uint64_t horizon_s, min_fail_s, replacement_s;
	uint32_t retries, max_failures; /* retries >= 1, max_failures >= retries */
	uint64_t bad_s;			/* > 0 */
	uint32_t bad_to_ban;		/* >= 1 */
	uint64_t ban_s;			/* > 0 */
	uint32_t max_bans;		/* 1..CP_BOOK_MAX_BANS_LIMIT */
	uint32_t sample_pct, sample_min, sample_max, sample_new_pct; /* pct <= 100, min <= max */
};

/* Counters (names are the telemetry keys). */
#define CP_BOOK_COUNTERS(X)                                                                     \
	X(added, "addresses taken into new")                                                    \
	X(updated, "addresses heard of again (last seen refreshed, maybe one more new bucket)") \
	X(refused_full, "addresses refused: their slot holds an entry worth keeping")           \
	X(refused_banned, "addresses refused: banned")                                          \
	X(refused_invalid, "addresses refused: port 0, unusable ip or unknown flags")           \
	X(id_conflicts, "hearsay of an address we know under another identity: ignored")        \
	X(evicted, "stale entries dropped to make room (flat pools: random ones)")              \
	X(attempts, "dial attempts recorded")                                                   \
	X(goods, "successful connections recorded")                                             \
	X(promoted, "entries moved from new to tried")                                          \
	X(demoted, "entries moved from tried back to new (pushed out, or marked bad)")          \
	X(tried_collisions, "promotions refused: the tried slot's entry connected recently")    \
	X(moved, "entries dropped: a handshake found their identity at another address")        \
	X(marked_bad, "bad marks")                                                              \
	X(banned, "bans recorded")                                                              \
	X(bans_dropped, "bans forgotten to make room (the soonest to expire)")                  \
	X(picks, "addresses picked for dialing")                                                \
	X(picks_empty, "picks that found nothing eligible")                                     \
	X(samples, "samples taken for an ADDR answer")                                          \
	X(saves, "book files written")                                                          \
	X(save_failures, "book files not written (the previous one stays)")                     \
	X(loads, "book files loaded")                                                           \
	X(load_dropped, "loaded entries that no longer fit (the configuration shrank)")         \
	X(corrupt_set_aside, "corrupt book files renamed aside")

struct cp_book_stats {
#define CP_BOOK_FIELD(name, doc) uint64_t name;
	CP_BOOK_COUNTERS(CP_BOOK_FIELD)
#undef CP_BOOK_FIELD
	uint32_t entries_new, entries_tried, bans; /* now */
};

/* What the book holds about one address (cp_book_lookup(), cp_book_walk()). */
struct cp_book_info {
	struct cp_addr addr; /* last_seen included */
	uint32_t src_ip;     /* who told us first (host order) */
	bool tried;
	uint8_t refs;	       /* new buckets holding it (0 when tried) */
	uint8_t bad_count;     /* bad marks so far */
	uint32_t attempts;     /* failed attempts since the last success */
	uint32_t successes;    /* connections ever */
	uint64_t last_try;     /* UNIX s; 0: never */
	uint64_t last_success; /* UNIX s; 0: never */
	uint64_t bad_until;    /* UNIX s; excluded until then */
	uint64_t rtt_ns;       /* smoothed round-trip time; 0: unknown */
};

struct cp_book;

/* The defaults above, bucketing on. Any thread. */
void cp_book_config_defaults(struct cp_book_config *cfg);

/* An empty book. key: the secret of bucket placement and of the book's hash tables (random per
 * node; a book loaded from a file takes the file's). rng_seed: every random choice. NULL with
 * errno EINVAL (a value out of range) or ENOMEM. Memory: 12 bytes per slot and 56 per ban at
 * once, then about 150-165 bytes per entry as entries come (at most one per slot). */
struct cp_book *cp_book_create(const struct cp_book_config *cfg, const uint8_t key[SL_KEY_LEN],
			       uint64_t rng_seed);
/* Wipes the key and frees everything. NULL is a no-op. */
void cp_book_destroy(struct cp_book *b);
/* The book passes to another thread (a thread the owner starts or joins, which orders memory):
 * the next call that checks the owner binds it again (debug builds). */
void cp_book_handoff(struct cp_book *b);

/* Learned a (a->last_seen: when the node was last up, 0: unknown) from a peer at source_ip, or
 * from the config or the node itself (source_ip = a->ip). A last_seen that is unknown or more
 * than 10 minutes ahead of now_s counts as 5 days ago; hearsay (another source) counts 2 hours
 * older than told. 0: taken or refreshed; -EINVAL: port 0, ip 0.0.0.0/8, multicast or
 * broadcast, unknown flags; -EPERM: banned; -ENOSPC: no room (refused_full); -EEXIST: known
 * at that address under another identity (unchanged); -ENOMEM. */
int cp_book_add(struct cp_book *b, const struct cp_addr *a, uint32_t source_ip, uint64_t now_s);

/* We are about to dial a (found by ip and port; unknown addresses are ignored). */
void cp_book_attempt(struct cp_book *b, const struct cp_addr *a, uint64_t now_s);

/* A node we are connected to is still up at now_s: its last seen moves on (call it now and
 * then, and at disconnect, or a long session makes it look stale). Unknown: ignored. */
void cp_book_seen(struct cp_book *b, const struct cp_addr *a, uint64_t now_s);

/* A session with a is up: a moves to tried (added first if unknown) with a success at now_s and
 * rtt_ns (0: not measured) folded into its smoothed RTT. If a has an id (learned by the
 * handshake), the entry is pinned to it and any other entry with that id is dropped. Banned
 * addresses are ignored. */
void cp_book_good(struct cp_book *b, const struct cp_addr *a, uint64_t rtt_ns, uint64_t now_s);

/* a misbehaved (by ip and port, else by id): it leaves tried and is neither picked nor sampled
 * for bad_s; the bad_to_ban-th mark bans it for ban_s. Unknown addresses are ignored. */
void cp_book_bad(struct cp_book *b, const struct cp_addr *a, uint64_t now_s);

/* Ban a until until_s: every entry at a's ip and port or with a's id is dropped, and they are
 * refused until then. Bans are saved with the book; at most max_bans are kept (a new one
 * replaces the one that expires first). */
void cp_book_ban(struct cp_book *b, const struct cp_addr *a, uint64_t until_s);

/* Is a (its ip and port, or its id) banned at now_s? O(bans). */
bool cp_book_banned(const struct cp_book *b, const struct cp_addr *a, uint64_t now_s);

/* An address to dial into *out: 0, or -ENOENT when nothing eligible is left (empty, all bad or
 * skipped), -EINVAL for new_bias_pct > 100. new_bias_pct (0..100) weighs the tables as
 * CometBFT's PickAddress does: new with weight sqrt(n_new) * bias, tried with
 * sqrt(n_tried) * (100 - bias). Within a table, an entry is drawn at random (a new address in
 * k buckets k times as often) and accepted by its rank (above). skip (may be NULL) returns true
 * for addresses the caller will not dial (connected nodes, groups already used). The book is
 * not changed but for its random state: call cp_book_attempt() when dialing. */
int cp_book_pick(struct cp_book *b, unsigned int new_bias_pct,
		 bool (*skip)(void *arg, const struct cp_addr *a), void *arg, uint64_t now_s,
		 struct cp_addr *out);

/* The bias CometBFT's PEX uses for a node with `outbound` outbound peers: 10 % new with none,
 * +10 per peer, at most 90 — few connections lean on proven (tried) addresses, many explore. */
unsigned int cp_book_new_bias(unsigned int outbound);

/* A random sample for an ADDR answer into out[0..max): clamp(size * sample_pct %, sample_min,
 * sample_max) addresses, at most max, sample_new_pct % of them new (fewer if fewer are known,
 * the rest tried) and no stale, bad or banned ones. Returns how many. */
unsigned int cp_book_sample(struct cp_book *b, struct cp_addr *out, unsigned int max,
			    uint64_t now_s);

/* Distinct addresses held (new + tried). */
unsigned int cp_book_size(const struct cp_book *b);
/* Does any entry carry this id? */
bool cp_book_knows(const struct cp_book *b, const uint8_t id[SL_KEY_LEN]);
/* What the book holds at a's ip and port: 0, or -ENOENT. */
int cp_book_lookup(const struct cp_book *b, const struct cp_addr *a, struct cp_book_info *info);
/* fn for every entry, in no particular order; fn must not change the book. */
void cp_book_walk(const struct cp_book *b, void (*fn)(void *arg, const struct cp_book_info *info),
		  void *arg);

/* Write the book (entries, bans, key) to path, crash-safe: path.tmp is written, fsynced and
 * renamed over path, then the directory is fsynced, so path holds the previous complete book or
 * this one whatever happens. 0, or -errno (the previous file is untouched; path.tmp removed). */
int cp_book_save(struct cp_book *b, const char *path);

/* Replace the book's entries, bans and key with those of path. 0; -ENOENT: no file (the book
 * is unchanged); -EBADMSG: the file is corrupt (bad magic, version, size, checksum, or a record
 * that breaks a rule): it is renamed to path.corrupt-<UNIX time> (counted in
 * corrupt_set_aside) and why (may be NULL) says what was wrong; the book is unchanged; another
 * -errno: could not read it (unchanged, nothing renamed). Entries that no longer fit a smaller
 * configuration are dropped (load_dropped). */
int cp_book_load(struct cp_book *b, const char *path, char *why,
		 size_t why_len) __rte_warn_unused_result;

/* The checks and the adoption of cp_book_load() on a file's bytes already in memory (the fuzz
 * target's entry): 0, or -EBADMSG (why says what was wrong; the book unchanged). Nothing is
 * renamed: there is no file. */
int cp_book_decode(struct cp_book *b, const uint8_t *buf, size_t len, char *why,
		   size_t why_len) __rte_warn_unused_result;

const struct cp_book_stats *cp_book_stats(const struct cp_book *b);

#endif /* CP_BOOK_H */
