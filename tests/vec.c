/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: loading external test vectors (see vec.h).
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vec.h"

const char *
vec_dir(void)
{
	const char *env = getenv("SLUICE_VECTORS");

	return (env != NULL && env[0] != '\0') ? env : SL_VECTORS_DIR;
}

json_t *
vec_load_path(const char *path)
{
	json_error_t err;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);

	if (root == NULL)
		fprintf(stderr, "vectors: %s:%d:%d: %s\n", path, err.line, err.column, err.text);
	return root;
}

json_t *
vec_load(const char *relpath)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", vec_dir(), relpath) >= (int)sizeof(path)) {
		fprintf(stderr, "vectors: path too long: %s/%s\n", vec_dir(), relpath);
		return NULL;
	}
	return vec_load_path(path);
}

uint8_t *
vec_hex(const json_t *obj, const char *key, size_t *len)
{
	const char *hex = json_string_value(json_object_get(obj, key));
	size_t hex_len, bin_len;
	uint8_t *bin;

	if (hex == NULL)
		return NULL;
	hex_len = strlen(hex);
	if (hex_len % 2 != 0)
		return NULL;
	bin = malloc(hex_len / 2 + 1);
	if (bin == NULL)
		return NULL;
	if (sodium_hex2bin(bin, hex_len / 2 + 1, hex, hex_len, NULL, &bin_len, NULL) != 0 ||
	    bin_len != hex_len / 2) {
		free(bin);
		return NULL;
	}
	*len = bin_len;
	return bin;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
vec_for_each_json(const char *subdir, void (*fn)(const char *path, void *arg), void *arg)
{
	char dir[PATH_MAX], path[PATH_MAX];
	char *names[256];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", vec_dir(), subdir);
	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "vectors: cannot open %s\n", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL && n < (int)(sizeof(names) / sizeof(names[0]))) {
		size_t l = strlen(de->d_name);

		if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (int i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < (int)sizeof(path))
			fn(path, arg);
		free(names[i]);
	}
	return n;
}

int
vec_has_flag(const json_t *test, const char *name)
{
	const json_t *flags = json_object_get(test, "flags");
	size_t i;
	json_t *f;

	json_array_foreach (flags, i, f) {
		if (json_is_string(f) && strcmp(json_string_value(f), name) == 0)
			return 1;
	}
	return 0;
}
