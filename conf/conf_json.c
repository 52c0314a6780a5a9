/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: typed access to the JSON of a configuration, reporting what is wrong by path
 * (see conf_pvt.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "conf_pvt.h"

const char *
conf_path_key(char buf[CONF_WHERE_LEN], const char *parent, const char *key)
{
	if (parent[0] == '\0')
		snprintf(buf, CONF_WHERE_LEN, "%s", key);
	else
		snprintf(buf, CONF_WHERE_LEN, "%s.%s", parent, key);
	return buf;
}

const char *
conf_path_index(char buf[CONF_WHERE_LEN], const char *parent, size_t i)
{
	snprintf(buf, CONF_WHERE_LEN, "%s[%zu]", parent, i);
	return buf;
}

const char *
conf_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
	default:
		return "null";
	}
}

/* What conf_is() expected, for its message. */
static const char *
expected_name(json_type type)
{
	switch (type) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	default:
		return "true or false";
	}
}

bool
conf_is(struct conf_ctx *x, const json_t *v, const char *where, json_type type)
{
	if (json_typeof(v) == type || (type == JSON_TRUE && (json_is_true(v) || json_is_false(v))))
		return true;
	conf_error(x, where, "expected %s, got %s", expected_name(type), conf_type_name(v));
	return false;
}

bool
conf_uint(struct conf_ctx *x, const json_t *v, const char *where, uint64_t min, uint64_t max,
	  uint64_t *out)
{
	json_int_t n;

	if (!conf_is(x, v, where, JSON_INTEGER))
		return false;
	n = json_integer_value(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max) {
		conf_error(x, where, "%lld is out of range %" PRIu64 "..%" PRIu64, (long long)n,
			   min, max);
		return false;
	}
	*out = (uint64_t)n;
	return true;
}

bool
conf_number(struct conf_ctx *x, const json_t *v, const char *where, double min, double max,
	    double *out)
{
	double d;

	if (!json_is_number(v)) {
		conf_error(x, where, "expected a number, got %s", conf_type_name(v));
		return false;
	}
	d = json_number_value(v);
	if (!(d >= min && d <= max)) {
		conf_error(x, where, "%g is out of range %g..%g", d, min, max);
		return false;
	}
	*out = d;
	return true;
}

bool
conf_bool(struct conf_ctx *x, const json_t *v, const char *where, bool *out)
{
	if (!json_is_boolean(v)) {
		conf_error(x, where, "expected true or false, got %s", conf_type_name(v));
		return false;
	}
	*out = json_is_true(v);
	return true;
}

bool
conf_string(struct conf_ctx *x, const json_t *v, const char *where, size_t max_len, char *out,
	    size_t size)
{
	const char *s;
	size_t len;

	if (!conf_is(x, v, where, JSON_STRING))
		return false;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0) {
		conf_error(x, where, "must not be empty");
		return false;
	}
	if (len > max_len || len >= size) {
		conf_error(x, where, "is %zu characters long, at most %zu", len,
			   max_len < size ? max_len : size - 1);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			conf_error(x, where, "contains a control character");
			return false;
		}
	}
	memcpy(out, s, len + 1);
	return true;
}

/* "a, b, c" from a NULL-terminated list, cut at size. */
static void
join(char *buf, size_t size, const char *const names[])
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i] != NULL && used < size; i++) {
		int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

int
conf_choice(struct conf_ctx *x, const json_t *v, const char *where, const char *const names[])
{
	char list[160];

	if (!conf_is(x, v, where, JSON_STRING))
		return -1;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(json_string_value(v), names[i]) == 0)
			return i;
	}
	join(list, sizeof(list), names);
	conf_error(x, where, "\"%.40s\" is not one of: %s", json_string_value(v), list);
	return -1;
}

bool
conf_name(struct conf_ctx *x, const json_t *v, const char *where, char out[CONF_NAME_LEN])
{
	char tmp[CONF_NAME_LEN] = ""; /* all of it is copied: nothing of the stack after the NUL */

	if (!conf_string(x, v, where, CONF_NAME_LEN - 1, tmp, sizeof(tmp)))
		return false;
	if (strspn(tmp, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
	    strlen(tmp)) {
		conf_error(x, where,
			   "\"%s\": a name may only contain letters, digits, '_', '-' "
			   "and '.'",
			   tmp);
		return false;
	}
	memcpy(out, tmp, sizeof(tmp));
	return true;
}

void
conf_check_keys(struct conf_ctx *x, const json_t *obj, const char *path, const char *const keys[])
{
	char where[CONF_WHERE_LEN], list[200];
	const char *key;
	json_t *val;
	size_t i;

	json_object_foreach ((json_t *)obj, key, val) {
		for (i = 0; keys[i] != NULL; i++) {
			if (strcmp(key, keys[i]) == 0)
				break;
		}
		if (keys[i] != NULL)
			continue;
		join(list, sizeof(list), keys);
		conf_error(x, conf_path_key(where, path, key), "unknown key (expected one of: %s)",
			   list);
	}
}

json_t *
conf_member(struct conf_ctx *x, const json_t *obj, const char *path, const char *key,
	    const char *what)
{
	char where[CONF_WHERE_LEN];
	json_t *v = json_object_get(obj, key);

	if (v == NULL && what != NULL)
		conf_error(x, conf_path_key(where, path, key), "missing: %s is required", what);
	return v;
}

bool
conf_opt_uint(struct conf_ctx *x, const json_t *obj, const char *path, const char *key,
	      uint64_t min, uint64_t max, uint64_t *out)
{
	char where[CONF_WHERE_LEN];
	const json_t *v = json_object_get(obj, key);

	return v == NULL || conf_uint(x, v, conf_path_key(where, path, key), min, max, out);
}

bool
conf_opt_u32(struct conf_ctx *x, const json_t *obj, const char *path, const char *key, uint32_t min,
	     uint32_t max, uint32_t *out)
{
	uint64_t n = *out;
	bool ok = conf_opt_uint(x, obj, path, key, min, max, &n);

	*out = (uint32_t)n;
	return ok;
}

bool
conf_opt_u16(struct conf_ctx *x, const json_t *obj, const char *path, const char *key, uint16_t min,
	     uint16_t max, uint16_t *out)
{
	uint64_t n = *out;
	bool ok = conf_opt_uint(x, obj, path, key, min, max, &n);

	*out = (uint16_t)n;
	return ok;
}

bool
conf_opt_bool(struct conf_ctx *x, const json_t *obj, const char *path, const char *key, bool *out)
{
	char where[CONF_WHERE_LEN];
	const json_t *v = json_object_get(obj, key);

	return v == NULL || conf_bool(x, v, conf_path_key(where, path, key), out);
}

bool
conf_opt_number(struct conf_ctx *x, const json_t *obj, const char *path, const char *key,
		double min, double max, double *out)
{
	char where[CONF_WHERE_LEN];
	const json_t *v = json_object_get(obj, key);

	return v == NULL || conf_number(x, v, conf_path_key(where, path, key), min, max, out);
}

bool
conf_opt_string(struct conf_ctx *x, const json_t *obj, const char *path, const char *key,
		size_t max_len, char *out, size_t size)
{
	char where[CONF_WHERE_LEN];
	const json_t *v = json_object_get(obj, key);

	return v == NULL || conf_string(x, v, conf_path_key(where, path, key), max_len, out, size);
}

bool
conf_opt_choice(struct conf_ctx *x, const json_t *obj, const char *path, const char *key,
		const char *const names[], int *out)
{
	char where[CONF_WHERE_LEN];
	const json_t *v = json_object_get(obj, key);
	int i;

	if (v == NULL)
		return true;
	i = conf_choice(x, v, conf_path_key(where, path, key), names);
	if (i < 0)
		return false;
	*out = i;
	return true;
}

bool
conf_array(struct conf_ctx *x, const json_t *v, const char *where, size_t min, size_t max)
{
	size_t n;

	if (!conf_is(x, v, where, JSON_ARRAY))
		return false;
	n = json_array_size(v);
	if (n < min) {
		conf_error(x, where, "must have at least %zu element%s", min, min == 1 ? "" : "s");
		return false;
	}
	if (n > max) {
		conf_error(x, where, "has %zu elements, at most %zu", n, max);
		return false;
	}
	return true;
}
