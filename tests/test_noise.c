/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: Noise tests — every vector file of the cacophony schema found in the vectors
 * directory (noise/ and its root), both sides, byte-exact; plus name parsing, tampering and
 * state-poisoning cases, psk mismatches and exported secrets.
 *
 * NNpsk0 (session resumption) runs the same psk-token code as IKpsk2, which the shipped subset
 * checks; NNpsk0's own cacophony vectors run too whenever a vector file holding them is in the
 * directory (the shipped subset has none).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sl_dh.h"
#include "cp_noise.h"
#include "sl_test.h"
#include "vec.h"

/* The shipped cacophony subset has 16 vectors of the protocols implemented here
 * (NN, IK, XX, IKpsk2 x SHA256, BLAKE2b x AESGCM, ChaChaPoly); fewer means a truncated file. */
#define MIN_NOISE_VECTORS 16

static const char *const required_protocols[] = {
	"Noise_IK_25519_AESGCM_SHA256",
	"Noise_IK_25519_ChaChaPoly_BLAKE2b",
	"Noise_XX_25519_AESGCM_SHA256",
	"Noise_XX_25519_ChaChaPoly_BLAKE2b",
};

struct noise_tally {
	unsigned int files, vectors, ran, skipped, failures;
	unsigned int transport_msgs;
	unsigned int required_seen[RTE_DIM(required_protocols)];
};

/* Decoded keys of one side of a vector. */
struct side {
	uint8_t *prologue, *s, *e, *rs, *psk;
	size_t prologue_len;
	bool psk_unsupported;
};

static void
side_free(struct side *sd)
{
	free(sd->prologue);
	free(sd->s);
	free(sd->e);
	free(sd->rs);
	free(sd->psk);
}

static uint8_t *
key_or_null(const json_t *v, const char *name)
{
	size_t len = 0;
	uint8_t *k = vec_hex(v, name, &len);

	if (k != NULL && len != SL_KEY_LEN) {
		free(k);
		return NULL;
	}
	return k;
}

static void
side_load(const json_t *v, const char *prefix, struct side *sd)
{
	char name[64];
	const json_t *psks;

	memset(sd, 0, sizeof(*sd));
	snprintf(name, sizeof(name), "%s_prologue", prefix);
	sd->prologue = vec_hex(v, name, &sd->prologue_len);
	snprintf(name, sizeof(name), "%s_static", prefix);
	sd->s = key_or_null(v, name);
	snprintf(name, sizeof(name), "%s_ephemeral", prefix);
	sd->e = key_or_null(v, name);
	snprintf(name, sizeof(name), "%s_remote_static", prefix);
	sd->rs = key_or_null(v, name);
	snprintf(name, sizeof(name), "%s_psks", prefix);
	psks = json_object_get(v, name);
	if (json_array_size(psks) > 1)
		sd->psk_unsupported = true;
	if (json_array_size(psks) == 1) {
		json_t *wrap = json_pack("{sO}", "k", json_array_get(psks, 0));
		size_t len = 0;

		sd->psk = vec_hex(wrap, "k", &len);
		if (len != SL_KEY_LEN)
			sd->psk_unsupported = true;
		json_decref(wrap);
	}
}

static int
side_init(struct cp_noise_hs *hs, const struct cp_noise_protocol *proto, const struct side *sd,
	  bool initiator)
{
	struct cp_noise_params p = {
		.proto = *proto,
		.initiator = initiator,
		.prologue = sd->prologue,
		.prologue_len = sd->prologue_len,
		.s = sd->s,
		.rs = sd->rs,
		.psk = sd->psk,
		.fixed_e = sd->e,
	};

	return cp_noise_init(hs, &p);
}

/* One message: writer produces the expected ciphertext, reader recovers the payload. */
static bool
run_handshake_msg(struct cp_noise_hs *w, struct cp_noise_hs *r, const uint8_t *pl, size_t pl_len,
		  const uint8_t *ct, size_t ct_len)
{
	uint8_t out[CP_NOISE_MAX_MSG], back[CP_NOISE_MAX_MSG];
	int n = cp_noise_write(w, pl, pl_len, out, sizeof(out));

	if (n < 0 || (size_t)n != ct_len || memcmp(out, ct, ct_len) != 0)
		return false;
	n = cp_noise_read(r, ct, ct_len, back, sizeof(back));
	return n >= 0 && (size_t)n == pl_len && memcmp(back, pl, pl_len) == 0;
}

static bool
run_transport_msg(struct cp_noise_cipherstate *send, struct cp_noise_cipherstate *recv,
		  const uint8_t *pl, size_t pl_len, const uint8_t *ct, size_t ct_len)
{
	uint8_t out[CP_NOISE_MAX_MSG], back[CP_NOISE_MAX_MSG];
	int n = cp_noise_cs_encrypt(send, NULL, 0, pl, pl_len, out);

	if (n < 0 || (size_t)n != ct_len || memcmp(out, ct, ct_len) != 0)
		return false;
	n = cp_noise_cs_decrypt(recv, NULL, 0, ct, ct_len, back);
	return n >= 0 && (size_t)n == pl_len && memcmp(back, pl, pl_len) == 0;
}

struct pair {
	struct cp_noise_hs init, resp;
	struct cp_noise_cipherstate i_send, i_recv, r_send, r_recv;
	bool split;
};

static bool
check_split(struct pair *p, const json_t *v)
{
	size_t hh_len = 0, li, lr;
	uint8_t *hh = vec_hex(v, "handshake_hash", &hh_len);
	const uint8_t *hi = cp_noise_hash(&p->init, &li), *hr = cp_noise_hash(&p->resp, &lr);
	bool ok = hh != NULL && hh_len == li && li == lr && memcmp(hi, hh, li) == 0 &&
		  memcmp(hr, hh, lr) == 0;

	free(hh);
	ok = ok && cp_noise_split(&p->init, &p->i_send, &p->i_recv) == 0 &&
	     cp_noise_split(&p->resp, &p->r_send, &p->r_recv) == 0;
	p->split = true;
	return ok;
}

static bool
run_messages(struct pair *p, const json_t *v, struct noise_tally *t)
{
	const json_t *msgs = json_object_get(v, "messages"), *m;
	bool ok = json_array_size(msgs) > 0;
	size_t i;

	json_array_foreach (msgs, i, m) {
		size_t pl_len = 0, ct_len = 0;
		uint8_t *pl = vec_hex(m, "payload", &pl_len),
			*ct = vec_hex(m, "ciphertext", &ct_len);
		bool from_init = i % 2 == 0;

		ok = ok && pl != NULL && ct != NULL;
		if (ok && !cp_noise_done(&p->init))
			ok = from_init
				     ? run_handshake_msg(&p->init, &p->resp, pl, pl_len, ct, ct_len)
				     : run_handshake_msg(&p->resp, &p->init, pl, pl_len, ct,
							 ct_len);
		else if (ok) {
			if (!p->split)
				ok = check_split(p, v);
			ok = ok && (from_init ? run_transport_msg(&p->i_send, &p->r_recv, pl,
								  pl_len, ct, ct_len)
					      : run_transport_msg(&p->r_send, &p->i_recv, pl,
								  pl_len, ct, ct_len));
			t->transport_msgs += ok;
		}
		free(pl);
		free(ct);
	}
	/* every vector has at least one transport message, so the hash was checked */
	return ok && p->split && cp_noise_done(&p->resp);
}

static bool
run_vector(const json_t *v, const struct cp_noise_protocol *proto, struct noise_tally *t)
{
	struct side si, sr;
	struct pair *p = aligned_alloc(64, sizeof(*p)); /* holds ipsec-mb key schedules */
	bool ok = p != NULL;

	if (p != NULL)
		memset(p, 0, sizeof(*p));

	side_load(v, "init", &si);
	side_load(v, "resp", &sr);
	ok = ok && side_init(&p->init, proto, &si, true) == 0 &&
	     side_init(&p->resp, proto, &sr, false) == 0;
	ok = ok && run_messages(p, v, t);
	if (p != NULL) {
		cp_noise_wipe(&p->init);
		cp_noise_wipe(&p->resp);
		free(p);
	}
	side_free(&si);
	side_free(&sr);
	return ok;
}

static void
run_file(const char *path, void *arg)
{
	struct noise_tally *t = arg;
	json_t *root = vec_load_path(path), *v;
	const json_t *vectors = json_object_get(root, "vectors");
	size_t i;

	if (root == NULL) {
		t->failures++; /* a file that does not parse is an error, not a skip */
		return;
	}
	if (!json_is_array(vectors)) {
		json_decref(root); /* some other schema: not ours to judge */
		return;
	}
	t->files++;
	json_array_foreach (vectors, i, v) {
		const char *name = json_string_value(json_object_get(v, "protocol_name"));
		struct cp_noise_protocol proto;

		t->vectors++;
		if (name == NULL || cp_noise_parse_name(name, &proto) != 0 ||
		    json_array_size(json_object_get(v, "init_psks")) > 1) {
			t->skipped++;
			continue;
		}
		t->ran++;
		if (!run_vector(v, &proto, t)) {
			t->failures++;
			fprintf(stderr, "%s: vector %zu (%s) failed\n", path, i, name);
		}
		for (size_t r = 0; r < RTE_DIM(required_protocols); r++)
			t->required_seen[r] += strcmp(name, required_protocols[r]) == 0;
	}
	json_decref(root);
}

static void
test_cacophony_vectors(void)
{
	struct noise_tally t = { 0 };
	int files = vec_for_each_json("noise", run_file, &t);

	CU_ASSERT(files > 0);
	vec_for_each_json(".", run_file, &t);
	printf("\n  noise: %u files, %u vectors: ran %u, skipped %u (not implemented), "
	       "%u transport messages, %u failed\n",
	       t.files, t.vectors, t.ran, t.skipped, t.transport_msgs, t.failures);
	CU_ASSERT_EQUAL(t.failures, 0);
	CU_ASSERT(t.ran >= MIN_NOISE_VECTORS);
	CU_ASSERT_EQUAL(t.ran + t.skipped, t.vectors);
	CU_ASSERT(t.transport_msgs >= t.ran);
	for (size_t r = 0; r < RTE_DIM(required_protocols); r++)
		CU_ASSERT(t.required_seen[r] > 0);
}

static void
test_parse_names(void)
{
	static const struct {
		const char *name;
		int rc;
	} cases[] = {
		{ "Noise_IK_25519_AESGCM_SHA256", 0 },
		{ "Noise_XX_25519_ChaChaPoly_BLAKE2b", 0 },
		{ "Noise_NN_25519_AESGCM_BLAKE2b", 0 },
		{ "Noise_IKpsk2_25519_ChaChaPoly_SHA256", 0 },
		{ "Noise_NNpsk0_25519_AESGCM_BLAKE2b", 0 },
		{ "Noise_NNpsk2_25519_AESGCM_SHA256", -ENOTSUP },
		{ "Noise_IK_25519_AESGCM_BLAKE2s", -ENOTSUP },
		{ "Noise_IK_448_AESGCM_SHA256", -ENOTSUP },
		{ "Noise_KK_25519_AESGCM_SHA256", -ENOTSUP },
		{ "Noise_IK_25519_AESGCM_MD5", -EINVAL },
		{ "Noise_IK_25519_AESGCM", -EINVAL },
		{ "Noise_IK_25519_AESGCM_SHA256_x", -EINVAL },
		{ "Nois_IK_25519_AESGCM_SHA256", -EINVAL },
		{ "Noise__25519_AESGCM_SHA256", -EINVAL },
		{ "", -EINVAL },
	};
	struct cp_noise_protocol p;
	char buf[64];

	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		int rc = cp_noise_parse_name(cases[i].name, &p);

		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc == 0) {
			CU_ASSERT(cp_noise_name(&p, buf, sizeof(buf)) > 0);
			CU_ASSERT_STRING_EQUAL(buf, cases[i].name);
		}
	}
	CU_ASSERT_EQUAL(cp_noise_parse_name("Noise_IK_25519_AESGCM_SHA256", &p), 0);
	CU_ASSERT_EQUAL(cp_noise_name(&p, buf, 10), -ENOSPC);
}

/* Fresh random keys for a pair: statics for IK, XX and IKpsk2, one psk for both sides of the
 * psk patterns. */
static void
random_pair(struct pair *p, enum cp_noise_pattern pat, enum cp_noise_cipher c, enum sl_hash_alg h)
{
	uint8_t si[SL_KEY_LEN], sr[SL_KEY_LEN], pi[SL_KEY_LEN], pr[SL_KEY_LEN], psk[SL_KEY_LEN];
	struct cp_noise_params a = { .proto = { pat, c, h }, .initiator = true, .s = si };
	struct cp_noise_params b = { .proto = { pat, c, h }, .initiator = false, .s = sr };

	sl_dh_keygen(si, pi);
	sl_dh_keygen(sr, pr);
	randombytes_buf(psk, sizeof(psk));
	if (pat == CP_NOISE_IK || pat == CP_NOISE_IKPSK2)
		a.rs = pr;
	if (pat == CP_NOISE_IKPSK2 || pat == CP_NOISE_NNPSK0)
		a.psk = b.psk = psk;
	if (pat == CP_NOISE_NNPSK0)
		a.s = b.s = NULL; /* the psk is all either side has */
	memset(p, 0, sizeof(*p));
	CU_ASSERT_EQUAL_FATAL(cp_noise_init(&p->init, &a), 0);
	CU_ASSERT_EQUAL_FATAL(cp_noise_init(&p->resp, &b), 0);
	sodium_memzero(psk, sizeof(psk));
}

/* Read a tampered message on a copy of the pair. Noise authenticates everything after the
 * first key is set, so the reader fails at once, except for XX message 1 (a cleartext
 * ephemeral and payload): there the tampering must surface when the answer is read. A failed
 * state must refuse to go on. */
static bool
tampered_rejected(struct pair *p, bool to_resp, const uint8_t *msg, size_t n)
{
	struct cp_noise_hs *r = to_resp ? &p->resp : &p->init;
	struct cp_noise_hs *w = to_resp ? &p->init : &p->resp;
	uint8_t out[256], answer[256];
	int m;

	if (cp_noise_read(r, msg, n, out, sizeof(out)) < 0)
		return cp_noise_read(r, msg, n, out, sizeof(out)) == -EINVAL;
	if (p->init.proto.pattern != CP_NOISE_XX || !to_resp || r->msg_index != 1)
		return false;
	m = cp_noise_write(r, NULL, 0, answer, sizeof(answer));
	return m > 0 && cp_noise_read(w, answer, (size_t)m, out, sizeof(out)) == -EBADMSG;
}

/* Every single-bit flip of every handshake message is rejected. */
static void
flip_all_bits(enum cp_noise_pattern pat, enum cp_noise_cipher c, enum sl_hash_alg h,
	      unsigned int *trials, unsigned int *rejected)
{
	static struct pair base, p;
	uint8_t msg[256], out[256];
	int n;

	random_pair(&base, pat, c, h);
	for (unsigned int step = 0; step < (pat == CP_NOISE_XX ? 3u : 2u); step++) {
		struct cp_noise_hs *w = step % 2 ? &base.resp : &base.init;
		struct cp_noise_hs *r = step % 2 ? &base.init : &base.resp;

		n = cp_noise_write(w, (const uint8_t *)"payload", 7, msg, sizeof(msg));
		CU_ASSERT_FATAL(n > 0);
		for (int bit = 0; bit < n * 8; bit++) {
			p = base;
			msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			(*trials)++;
			*rejected += tampered_rejected(&p, step % 2 == 0, msg, (size_t)n);
			msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		CU_ASSERT_FATAL(cp_noise_read(r, msg, (size_t)n, out, sizeof(out)) == 7);
	}
	CU_ASSERT(cp_noise_done(&base.init) && cp_noise_done(&base.resp));
}

static void
test_bit_flips_rejected(void)
{
	unsigned int trials = 0, rejected = 0;

	flip_all_bits(CP_NOISE_IK, CP_NOISE_AESGCM, SL_HASH_SHA256, &trials, &rejected);
	flip_all_bits(CP_NOISE_XX, CP_NOISE_CHACHAPOLY, SL_HASH_BLAKE2B, &trials, &rejected);
	flip_all_bits(CP_NOISE_NNPSK0, CP_NOISE_AESGCM, SL_HASH_SHA256, &trials, &rejected);
	printf("\n  %u/%u flipped messages rejected\n", rejected, trials);
	/* IK: 103 + 55 bytes; XX: 39 + 103 + 71 bytes; NNpsk0: 55 + 55 (7-byte payloads) */
	CU_ASSERT_EQUAL(trials, 8 * (103 + 55 + 39 + 103 + 71 + 55 + 55));
	CU_ASSERT_EQUAL(rejected, trials);
}

/* A message of the wrong length, a read out of turn and a write out of turn all fail. */
static void
test_misuse(void)
{
	struct pair p;
	uint8_t msg[256], out[256];
	int n;

	random_pair(&p, CP_NOISE_IK, CP_NOISE_AESGCM, SL_HASH_SHA256);
	CU_ASSERT_EQUAL(cp_noise_read(&p.init, msg, 100, out, sizeof(out)), -EINVAL);
	CU_ASSERT(p.init.failed);

	random_pair(&p, CP_NOISE_IK, CP_NOISE_AESGCM, SL_HASH_SHA256);
	CU_ASSERT_EQUAL(cp_noise_write(&p.init, NULL, 0, msg, 10), -ENOSPC); /* no harm done */
	n = cp_noise_write(&p.init, NULL, 0, msg, sizeof(msg));
	CU_ASSERT_EQUAL(n, 32 + 48 + 16);
	CU_ASSERT_EQUAL(cp_noise_read(&p.resp, msg, (size_t)n - 1, out, sizeof(out)), -EBADMSG);

	random_pair(&p, CP_NOISE_IK, CP_NOISE_AESGCM, SL_HASH_SHA256);
	CU_ASSERT_EQUAL(cp_noise_write(&p.resp, NULL, 0, msg, sizeof(msg)), -EINVAL);
	CU_ASSERT_EQUAL(cp_noise_split(&p.init, &p.i_send, &p.i_recv), -EINVAL);

	/* IK initiator without the responder's key, XX without a static key */
	struct cp_noise_params bad = { .proto = { CP_NOISE_IK, CP_NOISE_AESGCM, SL_HASH_SHA256 },
				       .initiator = true,
				       .s = msg };
	CU_ASSERT_EQUAL(cp_noise_init(&p.init, &bad), -EINVAL);
	bad.proto.pattern = CP_NOISE_XX;
	bad.s = NULL;
	CU_ASSERT_EQUAL(cp_noise_init(&p.init, &bad), -EINVAL);
}

/* A full handshake with random keys, then transport both ways with both ends agreeing. */
static void
test_random_handshakes(void)
{
	static const enum cp_noise_pattern pats[] = { CP_NOISE_IK, CP_NOISE_XX, CP_NOISE_IKPSK2,
						      CP_NOISE_NNPSK0 };
	unsigned int ok = 0, total = 0;

	for (size_t pi = 0; pi < RTE_DIM(pats); pi++)
		for (int c = 0; c < 2; c++)
			for (int h = 0; h < 2; h++) {
				static struct pair p;
				uint8_t msg[512], out[512];
				int n = 0;
				bool good = true;

				random_pair(&p, pats[pi], c, h);
				total++;
				while (good && !cp_noise_done(&p.init)) {
					bool iw = cp_noise_our_turn(&p.init);
					struct cp_noise_hs *w = iw ? &p.init : &p.resp;
					struct cp_noise_hs *r = iw ? &p.resp : &p.init;

					n = cp_noise_write(w, msg, 40, msg, sizeof(msg));
					good = n > 0 && cp_noise_read(r, msg, (size_t)n, out,
								      sizeof(out)) == 40;
				}
				good = good && cp_noise_done(&p.resp) &&
				       cp_noise_split(&p.init, &p.i_send, &p.i_recv) == 0 &&
				       cp_noise_split(&p.resp, &p.r_send, &p.r_recv) == 0;
				if (pats[pi] == CP_NOISE_NNPSK0) /* no static keys at all */
					good = good && cp_noise_remote_static(&p.resp) == NULL &&
					       cp_noise_remote_static(&p.init) == NULL;
				else
					good = good &&
					       memcmp(cp_noise_remote_static(&p.resp), p.init.s_pub,
						      32) == 0 &&
					       memcmp(cp_noise_remote_static(&p.init), p.resp.s_pub,
						      32) == 0;
				n = cp_noise_cs_encrypt(&p.r_send, NULL, 0, msg, 100, out);
				good = good && n == 116 &&
				       cp_noise_cs_decrypt(&p.i_recv, NULL, 0, out, 116, msg) ==
					       100;
				ok += good;
			}
	CU_ASSERT_EQUAL(ok, total);
}

/* NNpsk0 with different psks: the responder refuses the first message (it is sealed under the
 * psk); the initiator's state cannot go on either. */
static void
test_psk_mismatch(void)
{
	static struct pair p;
	uint8_t psk_i[SL_KEY_LEN], psk_r[SL_KEY_LEN], msg[256], out[256];
	struct cp_noise_params a = { .proto = { CP_NOISE_NNPSK0, CP_NOISE_CHACHAPOLY,
						SL_HASH_BLAKE2B },
				     .initiator = true,
				     .psk = psk_i };
	struct cp_noise_params b = a;
	int n;

	randombytes_buf(psk_i, sizeof(psk_i));
	memcpy(psk_r, psk_i, sizeof(psk_r));
	psk_r[31] ^= 1;
	b.initiator = false;
	b.psk = psk_r;
	CU_ASSERT_EQUAL_FATAL(cp_noise_init(&p.init, &a), 0);
	CU_ASSERT_EQUAL_FATAL(cp_noise_init(&p.resp, &b), 0);
	n = cp_noise_write(&p.init, (const uint8_t *)"hello", 5, msg, sizeof(msg));
	CU_ASSERT_EQUAL(n, 32 + 5 + 16);
	CU_ASSERT_EQUAL(cp_noise_read(&p.resp, msg, (size_t)n, out, sizeof(out)), -EBADMSG);
	CU_ASSERT(p.resp.failed);
	/* a psk pattern without a psk is refused at once */
	b.psk = NULL;
	CU_ASSERT_EQUAL(cp_noise_init(&p.resp, &b), -EINVAL);
	cp_noise_wipe(&p.init);
}

/* cp_noise_export: both sides get the same secrets, bound to the label, independent of the
 * session keys; only from a finished handshake, never with an empty label. */
static void
test_export(void)
{
	static struct pair p;
	uint8_t i1[SL_KEY_LEN], i2[SL_KEY_LEN], r1[SL_KEY_LEN], r2[SL_KEY_LEN], o1[SL_KEY_LEN];
	const uint8_t *label = (const uint8_t *)"test label";
	uint8_t msg[256], out[256];
	int n;

	random_pair(&p, CP_NOISE_NNPSK0, CP_NOISE_AESGCM, SL_HASH_SHA256);
	CU_ASSERT_EQUAL(cp_noise_export(&p.init, label, 10, i1, i2), -EINVAL); /* not done */
	n = cp_noise_write(&p.init, NULL, 0, msg, sizeof(msg));
	CU_ASSERT_FATAL(n > 0 && cp_noise_read(&p.resp, msg, (size_t)n, out, sizeof(out)) == 0);
	n = cp_noise_write(&p.resp, NULL, 0, msg, sizeof(msg));
	CU_ASSERT_FATAL(n > 0 && cp_noise_read(&p.init, msg, (size_t)n, out, sizeof(out)) == 0);
	CU_ASSERT_EQUAL(cp_noise_export(&p.init, label, 10, i1, i2), 0);
	CU_ASSERT_EQUAL(cp_noise_export(&p.resp, label, 10, r1, r2), 0);
	CU_ASSERT(memcmp(i1, r1, SL_KEY_LEN) == 0 && memcmp(i2, r2, SL_KEY_LEN) == 0);
	CU_ASSERT_NOT_EQUAL(memcmp(i1, i2, SL_KEY_LEN), 0);
	CU_ASSERT_EQUAL(cp_noise_export(&p.init, label, 9, o1, r2), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(i1, o1, SL_KEY_LEN), 0);
	CU_ASSERT_EQUAL(cp_noise_export(&p.init, label, 0, o1, r2), -EINVAL);
	CU_ASSERT_EQUAL(cp_noise_split(&p.init, &p.i_send, &p.i_recv), 0);
	CU_ASSERT(memcmp(i1, p.i_send.k, SL_KEY_LEN) != 0 &&
		  memcmp(i1, p.i_recv.k, SL_KEY_LEN) != 0 &&
		  memcmp(i2, p.i_send.k, SL_KEY_LEN) != 0 &&
		  memcmp(i2, p.i_recv.k, SL_KEY_LEN) != 0);
	cp_noise_wipe(&p.init);
	cp_noise_wipe(&p.resp);
}

static void
test_release(void)
{
	sl_aead_thread_mgr_release();
	CU_PASS("released");
}

static CU_TestInfo cases[] = {
	{ "cacophony vectors, both sides, byte-exact", test_cacophony_vectors },
	{ "protocol names", test_parse_names },
	{ "every single-bit flip of a handshake message is rejected", test_bit_flips_rejected },
	{ "misuse: wrong length, out of turn, missing keys", test_misuse },
	{ "random-key handshakes, all suites", test_random_handshakes },
	{ "NNpsk0 with another psk is refused", test_psk_mismatch },
	{ "secrets exported from a finished handshake", test_export },
	{ "release the thread manager", test_release },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("noise", cases)
