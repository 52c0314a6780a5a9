/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the api section of a configuration — where applications attach (see conf_pvt.h and
 * docs/api.md).
 *
 *   "api": { "socket": "/run/sluice/node.sock", "mode": "0660", "group": "sluice",
 *            "max_apps": 16 }
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "conf_pvt.h"

static_assert(sizeof(((struct conf_api *)0)->socket) == sizeof(((struct sockaddr_un *)0)->sun_path),
	      "the socket path fits a socket address");

/* "0660": octal permission bits; nobody but the owner and the group may reach the socket
 * (an application there acts as this node). */
static void
api_mode(struct conf_ctx *x, const json_t *v, const char *path, struct conf_api *a)
{
	char where[CONF_WHERE_LEN], s[8] = "", *end;
	unsigned long m;

	/* absent: the default (conf_opt_string() would leave s as it is) */
	if (json_object_get(v, "mode") == NULL ||
	    !conf_opt_string(x, v, path, "mode", 4, s, sizeof(s)))
		return;
	conf_path_key(where, path, "mode");
	m = strtoul(s, &end, 8);
	if (*end != '\0' || strspn(s, "01234567") != strlen(s) || m > 0777) {
		conf_error(x, where, "\"%s\" is not a mode: octal digits, e.g. \"0660\"", s);
		return;
	}
	if (m & 0007) {
		conf_error(x, where,
			   "\"%s\" lets every local user attach and act as this node: give access "
			   "through the owner and the group only (e.g. \"0660\")",
			   s);
		return;
	}
	if ((m & 0600) != 0600) {
		conf_error(x, where, "\"%s\": the owner needs read and write (0600 at least)", s);
		return;
	}
	a->mode = (uint32_t)m;
}

/* "group": a group name or a numeric id. */
static void
api_group(struct conf_ctx *x, const json_t *v, const char *path, struct conf_api *a)
{
	char where[CONF_WHERE_LEN], s[CONF_NAME_LEN] = "", *end;
	const struct group *g;
	unsigned long id;

	if (json_object_get(v, "group") == NULL ||
	    !conf_opt_string(x, v, path, "group", sizeof(s) - 1, s, sizeof(s)))
		return; /* absent: the process's group */
	conf_path_key(where, path, "group");
	id = strtoul(s, &end, 10);
	if (*end == '\0' && end != s && id < UINT32_MAX) {
		a->gid = (uint32_t)id;
		a->has_group = true;
		return;
	}
	g = getgrnam(s);
	if (g == NULL) {
		conf_error(x, where, "no group \"%s\" on this machine", s);
		return;
	}
	a->gid = (uint32_t)g->gr_gid;
	a->has_group = true;
}

void
conf_api(struct conf_ctx *x, const json_t *v, const char *path)
{
	static const char *const keys[] = { "socket", "mode", "group", "max_apps", NULL };
	struct conf_api *a = &x->c->api;
	char where[CONF_WHERE_LEN];

	a->mode = 0660;
	a->max_apps = 16;
	if (v == NULL || !conf_is(x, v, path, JSON_OBJECT))
		return; /* no section: no application interface */
	conf_check_keys(x, v, path, keys);
	if (conf_member(x, v, path, "socket", "the control socket's path") != NULL &&
	    conf_opt_string(x, v, path, "socket", sizeof(a->socket) - 1, a->socket,
			    sizeof(a->socket))) {
		if (a->socket[0] != '/')
			conf_error(x, conf_path_key(where, path, "socket"),
				   "\"%s\": an absolute path", a->socket);
		else
			a->enabled = true;
	}
	api_mode(x, v, path, a);
	api_group(x, v, path, a);
	conf_opt_u32(x, v, path, "max_apps", 1, CONF_MAX_APPS, &a->max_apps);
}
