/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: key files and base64 keys (conf_keys.c) — a written key reads back, with mode 0600
 * and never over another; a key readable by group or others, or not a regular file, is
 * refused; every malformed file is refused with the reason; the identity a configuration names
 * (the key file's problems, the node's own key as a peer); base64 known answers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "conf_text.h"
#include "sl_dh.h"
#include "sl_test.h"

static void
test_key_round_trip(void)
{
	uint8_t key[SL_KEY_LEN], back[SL_KEY_LEN];
	char dir[64], path[128];
	const char *why = "unset";
	struct stat st;

	tmpdir_make(dir);
	snprintf(path, sizeof(path), "%s/node.key", dir);
	randombytes_buf(key, sizeof(key));
	CU_ASSERT_EQUAL(conf_write_key(path, key), 0);
	CU_ASSERT(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 45);
	CU_ASSERT_EQUAL(conf_read_key(path, back, &why), 0);
	CU_ASSERT(why == NULL);
	CU_ASSERT(memcmp(key, back, sizeof(key)) == 0);
	/* never overwrites */
	CU_ASSERT_EQUAL(conf_write_key(path, key), -EEXIST);
	/* read-only for the owner is fine */
	CU_ASSERT_FATAL(chmod(path, 0400) == 0);
	CU_ASSERT_EQUAL(conf_read_key(path, back, NULL), 0);
	unlink(path);
	CU_ASSERT_EQUAL(conf_read_key(path, back, &why), -ENOENT);
	CU_ASSERT(why != NULL);
	rmdir(dir);
}

static void
test_key_permissions(void)
{
	static const mode_t refused[] = { 0644, 0640, 0604, 0610, 0601, 0660, 0666 };
	uint8_t key[SL_KEY_LEN] = { 1 };
	char dir[64], path[128];
	const char *why;

	tmpdir_make(dir);
	snprintf(path, sizeof(path), "%s/node.key", dir);
	CU_ASSERT_FATAL(conf_write_key(path, key) == 0);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CU_ASSERT_FATAL(chmod(path, refused[i]) == 0);
		why = NULL;
		CU_ASSERT_EQUAL(conf_read_key(path, key, &why), -EPERM);
		CU_ASSERT(why != NULL && strstr(why, "group or others") != NULL);
	}
	/* not a regular file */
	why = NULL;
	CU_ASSERT_EQUAL(conf_read_key(dir, key, &why), -EPERM);
	CU_ASSERT(why != NULL && strstr(why, "not a regular file") != NULL);
	unlink(path);
	rmdir(dir);
}

/* The identity a configuration names: the key file's problems with its path and the system's
 * reason, and a peer with this node's own key. */
static void
test_check_identity(void)
{
	uint8_t priv[SL_KEY_LEN] = { 0 }, pub[SL_KEY_LEN];
	struct conf c = { .n_peers = 2 };
	struct conf_errors errs;
	char dir[64];

	tmpdir_make(dir);
	snprintf(c.key_file, sizeof(c.key_file), "%s/node.key", dir);
	CU_ASSERT_EQUAL(conf_check_identity(&c, priv, &errs), -ENOENT);
	CU_ASSERT(errs.n == 1 && error_matches(&errs.e[0], "identity.key_file",
					       "node.key: cannot "
					       "open the key file: No such file or directory"));
	CU_ASSERT_FATAL(mkdir(c.key_file, 0700) == 0);
	CU_ASSERT_EQUAL(conf_check_identity(&c, priv, &errs), -EPERM);
	CU_ASSERT(error_matches(&errs.e[0], "identity.key_file", "not a regular file"));
	CU_ASSERT_FATAL(rmdir(c.key_file) == 0);
	sl_dh_keygen(priv, pub);
	CU_ASSERT_FATAL(conf_write_key(c.key_file, priv) == 0);
	CU_ASSERT_FATAL(chmod(c.key_file, 0640) == 0);
	CU_ASSERT_EQUAL(conf_check_identity(&c, priv, &errs), -EPERM);
	CU_ASSERT(error_matches(&errs.e[0], "identity.key_file", "accessible by group or others"));
	CU_ASSERT(sodium_is_zero(priv, sizeof(priv)));
	CU_ASSERT_FATAL(chmod(c.key_file, 0600) == 0);
	/* peers[1] is this node */
	snprintf(c.peers[1].name, sizeof(c.peers[1].name), "me");
	memcpy(c.peers[1].pub, pub, SL_KEY_LEN);
	CU_ASSERT_EQUAL(conf_check_identity(&c, priv, &errs), -EINVAL);
	CU_ASSERT(errs.n == 1 && error_matches(&errs.e[0], "peers[1]", "own public key"));
	c.peers[1].pub[0] ^= 1;
	CU_ASSERT_EQUAL(conf_check_identity(&c, priv, &errs), 0);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT(!sodium_is_zero(priv, sizeof(priv)));
	unlink(c.key_file);
	rmdir(dir);
}

static void
test_key_contents(void)
{
	static const char *const bad[] = {
		"",
		"\n",
		"short\n",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",      /* 43: no padding */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",   /* two newlines */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r\n",   /* CR */
		" AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",    /* leading space */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n",     /* non-zero unused bits */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=\n",     /* not base64 */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd-h8=\n",     /* URL-safe alphabet */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8AAAA=\n", /* 35 bytes */
	};
	uint8_t key[SL_KEY_LEN];
	char dir[64], path[128];
	const char *why;

	tmpdir_make(dir);
	snprintf(path, sizeof(path), "%s/node.key", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(path, bad[i], 0600);
		why = NULL;
		CU_ASSERT_EQUAL(conf_read_key(path, key, &why), -EINVAL);
		CU_ASSERT(why != NULL && strstr(why, "44 characters") != NULL);
	}
	/* no newline at the end is fine */
	write_text(path, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 0600);
	CU_ASSERT_EQUAL(conf_read_key(path, key, NULL), 0);
	CU_ASSERT(key[0] == 0 && key[31] == 31);
	unlink(path);
	rmdir(dir);
}

static void
test_base64(void)
{
	uint8_t key[SL_KEY_LEN], back[SL_KEY_LEN];
	char b64[45];

	for (unsigned int i = 0; i < SL_KEY_LEN; i++)
		key[i] = (uint8_t)i;
	conf_key_to_base64(key, b64);
	CU_ASSERT_STRING_EQUAL(b64, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	CU_ASSERT_EQUAL(conf_key_from_base64(b64, back), 0);
	CU_ASSERT(memcmp(key, back, sizeof(key)) == 0);
	memset(back, 0xaa, sizeof(back));
	CU_ASSERT_EQUAL(conf_key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", back),
			-EINVAL);
	CU_ASSERT_EQUAL(back[0], 0xaa); /* untouched on failure */
	CU_ASSERT_EQUAL(
		conf_key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", back),
		-EINVAL);
	CU_ASSERT_EQUAL(conf_key_from_base64("", back), -EINVAL);
}

static CU_TestInfo cases[] = {
	{ "key write/read round trip", test_key_round_trip },
	{ "key file permissions", test_key_permissions },
	{ "key file contents", test_key_contents },
	{ "the identity: key file problems, own key as a peer", test_check_identity },
	{ "base64 keys", test_base64 },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("conf_keys", cases)
