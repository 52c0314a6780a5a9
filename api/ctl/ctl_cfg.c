/* SPDX-License-Identifier: BSD-3-Clause
 * sluicectl: where the appliance is, from its configuration file — api.socket (the
 * application socket) and eal.file_prefix (which names its telemetry socket). Only those two
 * keys are read, with jansson, the way the appliance reads the file (comment lines, duplicate
 * keys refused); validating the rest is `sluice --check-config`'s job.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "sl_jsonc.h"

#define CFG_MAX_BYTES (4u << 20) /* the appliance's own limit on a configuration file */

/* The whole file, NUL-terminated; NULL with the reason printed. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;

	if (f == NULL) {
		fprintf(stderr, "sluicectl: %s: %s\n", ctl_esc(path), strerror(errno));
		return NULL;
	}
	buf = malloc(CFG_MAX_BYTES + 1);
	if (buf == NULL) {
		fprintf(stderr, "sluicectl: out of memory\n");
		goto out;
	}
	*len = fread(buf, 1, CFG_MAX_BYTES + 1, f);
	if (ferror(f) || *len > CFG_MAX_BYTES) {
		fprintf(stderr, "sluicectl: %s: %s\n", ctl_esc(path),
			ferror(f) ? strerror(errno) : "larger than a configuration may be (4 MiB)");
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[*len] = '\0';
out:
	fclose(f);
	return buf;
}

/* Copy the string at section.key into out (cap bytes) unless out is set already (the command
 * line said). A missing key leaves out empty; another type is an error. */
static int
take_string(const json_t *root, const char *path, const char *section, const char *key, char *out,
	    size_t cap)
{
	const json_t *v = json_object_get(json_object_get(root, section), key);

	if (out[0] != '\0' || v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap) {
		fprintf(stderr, "sluicectl: %s: %s.%s: not a string of 1 to %zu bytes\n",
			ctl_esc(path), section, key, cap - 1);
		return CTL_USAGE;
	}
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int
ctl_cfg_read(struct ctl *ctl, const char *path)
{
	json_error_t err;
	json_t *root;
	size_t len;
	char *buf = slurp(path, &len);
	int rc;

	if (buf == NULL)
		return CTL_USAGE;
	sl_json_blank_comments(buf, len);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	free(buf);
	if (root == NULL) {
		fprintf(stderr, "sluicectl: %s:%d:%d: %s\n", ctl_esc(path), err.line, err.column,
			ctl_esc(err.text));
		return CTL_USAGE;
	}
	if (!json_is_object(root)) {
		fprintf(stderr, "sluicectl: %s: not a JSON object\n", ctl_esc(path));
		json_decref(root);
		return CTL_USAGE;
	}
	rc = take_string(root, path, "api", "socket", ctl->socket, sizeof(ctl->socket));
	if (rc == 0)
		rc = take_string(root, path, "eal", "file_prefix", ctl->prefix,
				 sizeof(ctl->prefix));
	json_decref(root);
	return rc;
}
