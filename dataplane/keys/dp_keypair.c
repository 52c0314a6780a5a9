/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: per-session keys and data packets (see dp_keypair.h).
 */
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_byteorder.h>
#include <sodium.h>

#include "dp_keypair.h"

static_assert(DP_DATA_MAX_PLAIN + DP_DATA_OVERHEAD <= 65507, "a data packet fits one datagram");
static_assert((DP_KEYPAIR_CACHE & (DP_KEYPAIR_CACHE - 1)) == 0, "cache size: a power of two");

static void (*release_hook)(const struct dp_keypair *kp, void *arg);
static void *release_hook_arg;

/* --- the expanded-key cache ----------------------------------------------------------------- */

/* The schedules of one keypair; tag 0: empty. ipsec-mb wants GCM key data 64-byte aligned. */
struct kc_entry {
	struct sl_aead_key send __rte_aligned(64);
	struct sl_aead_key recv __rte_aligned(64);
	uint64_t tag;
};

static uint64_t next_tag = 1;
/* Anonymous memory: zero (every entry empty), and only the entries used become resident. */
static __thread struct kc_entry *kcache;

static struct kc_entry *
kc_table(void)
{
	if (kcache == NULL) {
		void *m = mmap(NULL, DP_KEYPAIR_CACHE * sizeof(struct kc_entry),
			       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		kcache = m == MAP_FAILED ? NULL : m;
	}
	return kcache;
}

/* The expanded keys of kp for this thread, made if the entry holds another keypair's. */
static const struct kc_entry *
kc_get(IMB_MGR *mgr, const struct dp_keypair *kp)
{
	struct kc_entry *t = kc_table(), *e;

	if (t == NULL)
		return NULL;
	e = &t[kp->tag & (DP_KEYPAIR_CACHE - 1)];
	if (e->tag != kp->tag) {
		/* the algorithm and key length were checked when the keypair was made */
		e->tag = 0;
		if (sl_aead_key_set(&e->send, mgr, kp->alg, kp->send_key, SL_KEY_LEN) != 0 ||
		    sl_aead_key_set(&e->recv, mgr, kp->alg, kp->recv_key, SL_KEY_LEN) != 0)
			return NULL;
		e->tag = kp->tag;
	}
	return e;
}

bool
dp_keypair_cached(uint64_t tag)
{
	return kcache != NULL && tag != 0 && kcache[tag & (DP_KEYPAIR_CACHE - 1)].tag == tag;
}

void
dp_keypair_thread_release(void)
{
	if (kcache == NULL)
		return;
	for (unsigned int i = 0; i < DP_KEYPAIR_CACHE; i++) /* reads of unused pages map nothing */
		if (kcache[i].tag != 0)
			sodium_memzero(&kcache[i], sizeof(kcache[i]));
	munmap(kcache, DP_KEYPAIR_CACHE * sizeof(struct kc_entry));
	kcache = NULL;
}

void
dp_key_limits_init(struct dp_key_limits *lim)
{
	lim->rekey_after_ns = SL_REKEY_AFTER_TIME_NS;
	lim->reject_after_ns = SL_REJECT_AFTER_TIME_NS;
	lim->rekey_after_msgs = SL_REKEY_AFTER_MESSAGES;
	lim->reject_after_msgs = SL_REJECT_AFTER_MESSAGES;
}

bool
dp_key_limits_valid(const struct dp_key_limits *lim)
{
	return lim->reject_after_ns > 0 && lim->reject_after_msgs > 0 &&
	       lim->rekey_after_ns < lim->reject_after_ns &&
	       lim->rekey_after_msgs < lim->reject_after_msgs;
}

struct dp_keypair *
dp_keypair_create(enum sl_aead_alg alg, const uint8_t send_key[SL_KEY_LEN],
		  const uint8_t recv_key[SL_KEY_LEN], uint32_t local_id, uint32_t remote_id,
		  bool initiator, uint64_t now_ns)
{
	struct dp_keypair *kp;

	if (send_key == NULL || recv_key == NULL || sl_aead_key_len(alg) != SL_KEY_LEN) {
		errno = EINVAL;
		return NULL;
	}
	kp = calloc(1, sizeof(*kp));
	if (kp == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(kp->send_key, send_key, SL_KEY_LEN);
	memcpy(kp->recv_key, recv_key, SL_KEY_LEN);
	kp->tag = __atomic_fetch_add(&next_tag, 1, __ATOMIC_RELAXED);
	dp_replay_init(&kp->replay);
	kp->created_ns = now_ns;
	kp->local_id = local_id;
	kp->remote_id = remote_id;
	kp->alg = alg;
	kp->initiator = initiator;
	return kp;
}

void
dp_keypair_destroy(struct dp_keypair *kp)
{
	if (kp == NULL)
		return;
	if (dp_keypair_cached(kp->tag))
		sodium_memzero(&kcache[kp->tag & (DP_KEYPAIR_CACHE - 1)], sizeof(struct kc_entry));
	sodium_memzero(kp, sizeof(*kp));
	if (release_hook != NULL)
		release_hook(kp, release_hook_arg);
	free(kp);
}

void
dp_keypair_set_release_hook(void (*hook)(const struct dp_keypair *kp, void *arg), void *arg)
{
	release_hook = hook;
	release_hook_arg = arg;
}

/* A clock that steps back reads as age 0 rather than as a huge age. */
static inline uint64_t
age_ns(const struct dp_keypair *kp, uint64_t now_ns)
{
	return now_ns > kp->created_ns ? now_ns - kp->created_ns : 0;
}

bool
dp_keypair_can_send(const struct dp_keypair *kp, uint64_t now_ns, const struct dp_key_limits *lim)
{
	return age_ns(kp, now_ns) < lim->reject_after_ns && kp->next_pn < lim->reject_after_msgs;
}

bool
dp_keypair_can_receive(const struct dp_keypair *kp, uint64_t now_ns,
		       const struct dp_key_limits *lim)
{
	return age_ns(kp, now_ns) < lim->reject_after_ns;
}

bool
dp_keypair_needs_rekey(const struct dp_keypair *kp, uint64_t now_ns,
		       const struct dp_key_limits *lim)
{
	if (kp->next_pn >= lim->rekey_after_msgs)
		return true;
	/* Only the initiator rekeys on time, so both sides do not start handshakes at once. */
	return kp->initiator && age_ns(kp, now_ns) >= lim->rekey_after_ns;
}

int
dp_keypair_next_pn(struct dp_keypair *kp, uint64_t now_ns, const struct dp_key_limits *lim,
		   uint64_t *pn)
{
	if (!dp_keypair_can_send(kp, now_ns, lim))
		return -EKEYEXPIRED;
	*pn = kp->next_pn++;
	return 0;
}

static int
seal_at(IMB_MGR *mgr, struct dp_keypair *kp, uint64_t pn, const uint8_t *plain, size_t len,
	uint8_t *out)
{
	uint8_t nonce[SL_NONCE_LEN];
	struct sl_data_hdr hdr = {
		.type = SL_MSG_DATA,
		.receiver = rte_cpu_to_be_32(kp->remote_id),
		.pn = rte_cpu_to_be_64(pn),
	};
	uint8_t *ct = out + sizeof(hdr);
	const struct kc_entry *keys = kc_get(mgr, kp);

	if (keys == NULL)
		return -ENOMEM;
	memcpy(out, &hdr, sizeof(hdr));
	sl_aead_nonce_be(nonce, pn);
	sl_aead_seal(mgr, &keys->send, nonce, out, sizeof(hdr), plain, len, ct, ct + len);
	kp->counters.tx_packets++;
	kp->counters.tx_bytes += len;
	return (int)(len + DP_DATA_OVERHEAD);
}

int
dp_keypair_seal(IMB_MGR *mgr, struct dp_keypair *kp, uint64_t now_ns,
		const struct dp_key_limits *lim, const uint8_t *plain, size_t len, uint8_t *out)
{
	uint64_t pn;
	int rc;

	if (len > DP_DATA_MAX_PLAIN)
		return -EMSGSIZE;
	rc = dp_keypair_next_pn(kp, now_ns, lim, &pn);
	if (rc != 0)
		return rc;
	return seal_at(mgr, kp, pn, plain, len, out);
}

int
dp_keypair_seal_pn(IMB_MGR *mgr, struct dp_keypair *kp, uint64_t pn, uint64_t now_ns,
		   const struct dp_key_limits *lim, const uint8_t *plain, size_t len, uint8_t *out)
{
	if (len > DP_DATA_MAX_PLAIN)
		return -EMSGSIZE;
	if (pn < kp->next_pn)
		return -EINVAL;
	kp->next_pn = pn;
	if (!dp_keypair_can_send(kp, now_ns, lim))
		return -EKEYEXPIRED;
	kp->next_pn = pn + 1;
	return seal_at(mgr, kp, pn, plain, len, out);
}

/* Open rx under kp, the keypair its receiver id names: limits, replay window, tag. */
static int
open_under(IMB_MGR *mgr, struct dp_keypair *kp, uint64_t now_ns, const struct dp_key_limits *lim,
	   const struct dp_data_rx *rx, uint8_t *plain)
{
	const uint8_t *ct = rx->pkt + sizeof(struct sl_data_hdr);
	const uint64_t pn = rx->pn;
	const uint16_t len = rx->plain_len;
	const struct kc_entry *keys;
	uint8_t nonce[SL_NONCE_LEN];

	if (!dp_keypair_can_receive(kp, now_ns, lim) || pn >= lim->reject_after_msgs)
		return -EKEYEXPIRED;
	if (!dp_replay_check(&kp->replay, pn, lim->reject_after_msgs))
		return -EALREADY;

	keys = kc_get(mgr, kp);
	if (keys == NULL)
		return -ENOMEM;
	sl_aead_nonce_be(nonce, pn);
	if (!sl_aead_open(mgr, &keys->recv, nonce, rx->pkt, sizeof(struct sl_data_hdr), ct, len,
			  plain, ct + len))
		return -EPERM; /* plain already zeroed */
	if (!dp_replay_update(&kp->replay, pn, lim->reject_after_msgs)) {
		/* Cannot happen after the check above on the owner lcore; never leak anyway. */
		sodium_memzero(plain, len);
		return -EALREADY;
	}
	kp->counters.rx_packets++;
	kp->counters.rx_bytes += len;
	return len;
}

int
dp_keypair_open(IMB_MGR *mgr, struct dp_keypair *kp, uint64_t now_ns,
		const struct dp_key_limits *lim, const struct dp_data_rx *rx, uint8_t *plain)
{
	if (rx->reserved_set)
		return -EBADMSG;
	if (rx->receiver != kp->local_id)
		return -ENOKEY;
	return open_under(mgr, kp, now_ns, lim, rx, plain);
}

/* --- keysets ------------------------------------------------------------------------------ */

void
dp_keyset_init(struct dp_keyset *ks)
{
	ks->cur = ks->prev = ks->next = NULL;
	ks->retire = NULL;
	ks->retire_arg = NULL;
}

/* A keypair leaves the set: destroyed now, or handed to the retire hook. */
static void
drop(struct dp_keyset *ks, struct dp_keypair *kp)
{
	if (kp == NULL)
		return;
	if (ks->retire != NULL)
		ks->retire(kp, ks->retire_arg);
	else
		dp_keypair_destroy(kp);
}

void
dp_keyset_install(struct dp_keyset *ks, struct dp_keypair *kp)
{
	if (!kp->initiator) {
		/* A newer handshake answered before the last one was confirmed: the unconfirmed
		 * keypair was never used to send, so nothing is lost dropping it. */
		drop(ks, ks->next);
		ks->next = kp;
		return;
	}
	drop(ks, ks->prev);
	if (ks->next != NULL) {
		/* Both sides rekeyed at once. The unconfirmed keypair is newer than cur and the
		 * peer already sends under it: keep it to receive on, and drop cur. */
		ks->prev = ks->next;
		ks->next = NULL;
		drop(ks, ks->cur);
	} else {
		ks->prev = ks->cur;
	}
	ks->cur = kp;
}

struct dp_keypair *
dp_keyset_lookup(const struct dp_keyset *ks, uint32_t local_id)
{
	if (ks->cur != NULL && ks->cur->local_id == local_id)
		return ks->cur;
	if (ks->next != NULL && ks->next->local_id == local_id)
		return ks->next;
	if (ks->prev != NULL && ks->prev->local_id == local_id)
		return ks->prev;
	return NULL;
}

bool
dp_keyset_confirm(struct dp_keyset *ks, const struct dp_keypair *kp)
{
	if (kp == NULL || kp != ks->next)
		return false;
	drop(ks, ks->prev);
	ks->prev = ks->cur;
	ks->cur = ks->next;
	ks->next = NULL;
	return true;
}

unsigned int
dp_keyset_expire(struct dp_keyset *ks, uint64_t now_ns, const struct dp_key_limits *lim)
{
	struct dp_keypair **slots[] = { &ks->cur, &ks->prev, &ks->next };
	unsigned int n = 0;

	for (size_t i = 0; i < RTE_DIM(slots); i++) {
		if (*slots[i] != NULL && !dp_keypair_can_receive(*slots[i], now_ns, lim)) {
			drop(ks, *slots[i]);
			*slots[i] = NULL;
			n++;
		}
	}
	return n;
}

void
dp_keyset_clear(struct dp_keyset *ks)
{
	drop(ks, ks->cur);
	drop(ks, ks->prev);
	drop(ks, ks->next);
	ks->cur = ks->prev = ks->next = NULL;
}

int
dp_keyset_seal(IMB_MGR *mgr, struct dp_keyset *ks, uint64_t now_ns, const struct dp_key_limits *lim,
	       const uint8_t *plain, size_t len, uint8_t *out)
{
	if (ks->cur == NULL)
		return -ENOKEY;
	return dp_keypair_seal(mgr, ks->cur, now_ns, lim, plain, len, out);
}

int
dp_keyset_open(IMB_MGR *mgr, struct dp_keyset *ks, uint64_t now_ns, const struct dp_key_limits *lim,
	       const struct dp_data_rx *rx, uint8_t *plain)
{
	struct dp_keypair *kp;
	int rc;

	if (rx->reserved_set)
		return -EBADMSG;
	kp = dp_keyset_lookup(ks, rx->receiver);
	if (kp == NULL)
		return -ENOKEY;
	rc = open_under(mgr, kp, now_ns, lim, rx, plain);
	if (rc >= 0)
		dp_keyset_confirm(ks, kp);
	return rc;
}
