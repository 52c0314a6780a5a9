/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: loading external test vectors (Wycheproof, Noise) at run time.
 *
 * The directory is $SLUICE_VECTORS if set, else the build's default (../shared/vectors next to
 * the source tree). A missing or malformed file is reported with its path and, for JSON syntax
 * errors, line:column.
 */
#ifndef SL_TEST_VEC_H
#define SL_TEST_VEC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

const char *vec_dir(void);

/* Parse <vec_dir>/<relpath>; NULL (after printing why) on any error. */
json_t *vec_load(const char *relpath);

/* Parse an absolute path; NULL (after printing why) on any error. */
json_t *vec_load_path(const char *path);

/* Decode the hex string member `key` of obj into a fresh buffer (free() it); *len gets its
 * length. Returns NULL if the member is missing or not valid hex. An empty string gives a
 * non-NULL buffer of length 0. */
uint8_t *vec_hex(const json_t *obj, const char *key, size_t *len);

/* Call fn(path, arg) for every regular *.json file in <vec_dir>/<subdir>, sorted by name.
 * Returns the number of files visited, or -1 if the directory cannot be read. */
int vec_for_each_json(const char *subdir, void (*fn)(const char *path, void *arg), void *arg);

/* True if the JSON array `flags` of a Wycheproof test contains name. */
int vec_has_flag(const json_t *test, const char *name);

#endif /* SL_TEST_VEC_H */
