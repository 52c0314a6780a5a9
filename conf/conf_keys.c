/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: key files, base64 keys and network ids (see conf.h).
 *
 * A key file holds one key as 44 characters of standard base64 (with '=' padding), optionally
 * followed by one newline: what `sluice keygen` writes and `wg genkey` would. A private key file
 * must not be readable, writable or executable by group or others; conf_read_key() refuses it
 * otherwise, as ssh does, rather than use a key that others may have seen.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "conf_pvt.h"
#include "sl_dh.h"

#define B64_KEY_LEN 44 /* 4 * ceil(32 / 3) */

static_assert(B64_KEY_LEN + 1 == 45, "conf.h promises a 45-byte buffer");

void
conf_key_to_base64(const uint8_t key[SL_KEY_LEN], char out[45])
{
	sodium_bin2base64(out, B64_KEY_LEN + 1, key, SL_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
}

int
conf_key_from_base64(const char *in, uint8_t key[SL_KEY_LEN])
{
	uint8_t tmp[SL_KEY_LEN];
	const char *end = NULL;
	size_t len = 0;
	int rc = -EINVAL;

	/* exactly 44 characters: no whitespace, no missing padding; libsodium also refuses
	 * non-zero bits in the unused part of the last character, so each key has one spelling */
	if (strnlen(in, B64_KEY_LEN + 1) != B64_KEY_LEN)
		return -EINVAL;
	if (sodium_base642bin(tmp, sizeof(tmp), in, B64_KEY_LEN, NULL, &len, &end,
			      sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    len == SL_KEY_LEN && end == in + B64_KEY_LEN) {
		memcpy(key, tmp, SL_KEY_LEN);
		rc = 0;
	}
	sodium_memzero(tmp, sizeof(tmp));
	return rc;
}

/* Refuse anything but a regular file that only its owner may use. */
static int
check_key_file(int fd, const char **why)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		*why = "cannot stat the key file";
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "the key file is not a regular file";
		return -EPERM;
	}
	if (st.st_mode & 077) {
		*why = "the key file is accessible by group or others: chmod 600 it (and make a "
		       "new key if others may have read it)";
		return -EPERM;
	}
	return 0;
}

/* The whole of a small file into buf[cap]; the byte count, or -errno. */
static ssize_t
read_small(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap && (n = read(fd, buf + got, cap - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int
conf_read_key(const char *path, uint8_t key[SL_KEY_LEN], const char **why)
{
	char buf[B64_KEY_LEN + 3]; /* one byte more than the longest valid file */
	const char *dummy;
	ssize_t n;
	int fd, rc;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	/* O_NONBLOCK: a FIFO in the key's place must not hang the open */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*why = "cannot open the key file";
		return -errno;
	}
	rc = check_key_file(fd, why);
	if (rc != 0)
		goto out;
	n = read_small(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		rc = (int)n;
		*why = "cannot read the key file";
		goto out;
	}
	buf[n] = '\0';
	if (n == B64_KEY_LEN + 1 && buf[B64_KEY_LEN] == '\n')
		buf[B64_KEY_LEN] = '\0';
	rc = conf_key_from_base64(buf, key);
	if (rc != 0)
		*why = "the key file does not hold one key: 44 characters of base64 and an "
		       "optional "
		       "newline, as `sluice keygen` writes";
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

int
conf_write_key(const char *path, const uint8_t key[SL_KEY_LEN])
{
	char buf[B64_KEY_LEN + 2];
	size_t done = 0;
	ssize_t n;
	int fd, rc = 0;

	/* O_EXCL: never overwrite a key (an identity lost that way does not come back) */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	conf_key_to_base64(key, buf);
	buf[B64_KEY_LEN] = '\n';
	while (done < B64_KEY_LEN + 1) {
		n = write(fd, buf + done, B64_KEY_LEN + 1 - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0)
		unlink(path);
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

uint64_t
conf_network_id(const char *name)
{
	uint8_t h[32];
	uint64_t id = 0;

	crypto_generichash(h, sizeof(h), (const uint8_t *)name, strlen(name), NULL, 0);
	for (int i = 0; i < 8; i++)
		id = id << 8 | h[i];
	return id;
}

/* Why the key file cannot be used, with the system's reason where the failure is the
 * system's (-EPERM and -EINVAL come with a why of their own). */
static void
key_error(struct conf_ctx *x, const struct conf *c, int rc, const char *why)
{
	char cwd[CONF_PATH_LEN] = "", path[2 * CONF_PATH_LEN];

	/* the path as the process resolves it: absolute, so there is no doubt which file */
	if (c->key_file[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
		snprintf(path, sizeof(path), "%s/%s", cwd, c->key_file);
	else
		snprintf(path, sizeof(path), "%s", c->key_file);
	if (why != NULL && rc != -EPERM && rc != -EINVAL)
		conf_error(x, "identity.key_file", "%s: %s: %s", path, why, strerror(-rc));
	else
		conf_error(x, "identity.key_file", "%s: %s", path,
			   why != NULL ? why : strerror(-rc));
}

/* A keyed seed, or an entry of the inbound allow-list, with our own key: reported. */
static bool
own_key_in_discovery(struct conf_ctx *x, const struct conf_discovery *d,
		     const uint8_t pub[SL_KEY_LEN])
{
	char where[CONF_WHERE_LEN];
	bool found = false;

	for (unsigned int i = 0; i < d->n_seeds; i++) {
		if (!d->seeds[i].has_key || sodium_memcmp(d->seeds[i].pub, pub, SL_KEY_LEN) != 0)
			continue;
		snprintf(where, sizeof(where), "discovery.seeds[%u]", i);
		conf_error(x, where,
			   "this node's own public key (identity.key_file): a node cannot be its "
			   "own seed");
		found = true;
	}
	for (unsigned int i = 0; i < d->n_inbound_allow; i++) {
		if (sodium_memcmp(d->inbound_allow[i], pub, SL_KEY_LEN) != 0)
			continue;
		snprintf(where, sizeof(where), "discovery.inbound[%u]", i);
		conf_error(x, where,
			   "this node's own public key (identity.key_file): it never dials itself");
		found = true;
	}
	return found;
}

int
conf_check_identity(const struct conf *c, uint8_t priv[SL_KEY_LEN], struct conf_errors *errs)
{
	struct conf_errors local;
	struct conf_ctx x = { .errs = errs != NULL ? errs : &local };
	uint8_t pub[SL_KEY_LEN];
	const char *why = NULL;
	char where[CONF_WHERE_LEN];
	int rc;

	memset(x.errs, 0, sizeof(*x.errs));
	rc = conf_read_key(c->key_file, priv, &why);
	if (rc == 0 && sl_dh_pubkey(pub, priv) != 0) {
		rc = -EINVAL;
		why = "the key file holds a key with no usable public key: make a new one with "
		      "`sluice keygen`";
	}
	if (rc != 0) {
		key_error(&x, c, rc, why);
		goto out;
	}
	for (unsigned int i = 0; i < c->n_peers; i++) {
		if (sodium_memcmp(c->peers[i].pub, pub, SL_KEY_LEN) != 0)
			continue;
		snprintf(where, sizeof(where), "peers[%u]", i);
		conf_error(&x, where,
			   "\"%s\" has this node's own public key (identity.key_file): a "
			   "node cannot be its own peer",
			   c->peers[i].name);
		rc = -EINVAL;
	}
	if (own_key_in_discovery(&x, &c->discovery, pub))
		rc = -EINVAL;
out:
	if (rc != 0)
		sodium_memzero(priv, SL_KEY_LEN);
	return rc;
}
