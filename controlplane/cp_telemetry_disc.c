/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the telemetry of discovery — /sluice/discovery (the node's discovery counters, its
 * pool, its address book's and peer exchange's counters) and /sluice/book (the addresses the
 * book holds). Called by cp_telemetry.c under the control thread's lock. */
#include <stdio.h>

#include <rte_telemetry.h>

#include "cp_main.h"
#include "cp_telemetry_disc.h"

static void
disc_counters(struct rte_tel_data *d, const struct cp_discovery *x)
{
	const struct cp_disc *disc = cp_discovery_disc(x);
	const struct cp_disc_stats *st = cp_disc_stats(disc);
	const struct cp_pool_stats *ps = cp_pool_stats(cp_disc_pool(disc));
	const struct cp_book_stats *bs = cp_book_stats(cp_disc_book(disc));

	rte_tel_data_add_dict_u64(d, "book_size", cp_book_size(cp_disc_book(disc)));
	rte_tel_data_add_dict_u64(d, "book_new", bs->entries_new);
	rte_tel_data_add_dict_u64(d, "book_tried", bs->entries_tried);
	rte_tel_data_add_dict_u64(d, "loaded", cp_discovery_loaded(x));
	rte_tel_data_add_dict_u64(d, "outbound", ps->outbound);
	rte_tel_data_add_dict_u64(d, "inbound", ps->inbound);
	rte_tel_data_add_dict_u64(d, "unconditional", ps->unconditional);
	rte_tel_data_add_dict_u64(d, "dialing", st->dialing);
#define DISC_TEL(name, doc) rte_tel_data_add_dict_u64(d, #name, st->name);
	CP_DISC_COUNTERS(DISC_TEL)
#undef DISC_TEL
}

/* One sub-dictionary of counters: book_*, pool_*, pex_*. */
static void
part_counters(struct rte_tel_data *d, const struct cp_disc *disc)
{
	const struct cp_book_stats *bs = cp_book_stats(cp_disc_book(disc));
	const struct cp_pool_stats *ps = cp_pool_stats(cp_disc_pool(disc));
	const struct cp_pex_stats *xs = cp_disc_pex_stats(disc);
	struct rte_tel_data *b = rte_tel_data_alloc(), *p = rte_tel_data_alloc(),
			    *x = rte_tel_data_alloc();

	if (b == NULL || p == NULL || x == NULL) {
		rte_tel_data_free(b), rte_tel_data_free(p), rte_tel_data_free(x);
		return;
	}
	rte_tel_data_start_dict(b), rte_tel_data_start_dict(p), rte_tel_data_start_dict(x);
#define BOOK_TEL(name, doc) rte_tel_data_add_dict_u64(b, #name, bs->name);
	CP_BOOK_COUNTERS(BOOK_TEL)
#undef BOOK_TEL
#define POOL_TEL(name, doc) rte_tel_data_add_dict_u64(p, #name, ps->name);
	CP_POOL_COUNTERS(POOL_TEL)
#undef POOL_TEL
	for (unsigned int v = 0; v < CP_PEX_VERDICT_COUNT; v++)
		rte_tel_data_add_dict_u64(x, cp_pex_verdict_name(v), xs->msgs[v]);
	for (unsigned int j = 0; j < CP_PEX_REJECT_COUNT; j++)
		rte_tel_data_add_dict_u64(x, cp_pex_reject_name(j), xs->rejected[j]);
#define PEX_TEL(name, doc) rte_tel_data_add_dict_u64(x, #name, xs->name);
	CP_PEX_COUNTERS(PEX_TEL)
#undef PEX_TEL
	rte_tel_data_add_dict_container(d, "book", b, 0);
	rte_tel_data_add_dict_container(d, "pool", p, 0);
	rte_tel_data_add_dict_container(d, "pex", x, 0);
}

static int
discovery(struct cp_main *a, const char *params, struct rte_tel_data *d)
{
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "enabled", a->disc != NULL);
	if (a->disc == NULL)
		return 0;
	rte_tel_data_add_dict_u64(d, "seed_mode", a->cfg->discovery.seed_mode);
	disc_counters(d, a->disc);
	part_counters(d, cp_discovery_disc(a->disc));
	return 0;
}

struct book_walk {
	struct rte_tel_data *d;
	unsigned int n;
};

static void
book_entry(void *arg, const struct cp_book_info *info)
{
	struct book_walk *w = arg;
	struct rte_tel_data *c;
	char key[32], ip[16], id[45] = "";
	uint32_t a = info->addr.ip;

	if (w->n >= RTE_TEL_MAX_DICT_ENTRIES || (c = rte_tel_data_alloc()) == NULL)
		return;
	w->n++;
	snprintf(key, sizeof(key), "%u_%u_%u_%u_%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
		 a & 0xff, info->addr.port);
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
		 a & 0xff);
	if (info->addr.flags & CP_ADDR_F_HAS_ID)
		conf_key_to_base64(info->addr.id, id);
	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_string(c, "ip", ip);
	rte_tel_data_add_dict_u64(c, "port", info->addr.port);
	rte_tel_data_add_dict_string(c, "id", id);
	rte_tel_data_add_dict_u64(c, "tried", info->tried);
	rte_tel_data_add_dict_u64(c, "attempts", info->attempts);
	rte_tel_data_add_dict_u64(c, "successes", info->successes);
	rte_tel_data_add_dict_u64(c, "last_seen", info->addr.last_seen);
	rte_tel_data_add_dict_container(w->d, key, c, 0);
}

/* At most RTE_TEL_MAX_DICT_ENTRIES addresses, in no particular order. */
static int
book(struct cp_main *a, const char *params, struct rte_tel_data *d)
{
	struct book_walk w = { .d = d };

	(void)params;
	rte_tel_data_start_dict(d);
	if (a->disc != NULL)
		cp_book_walk(cp_disc_book(cp_discovery_disc(a->disc)), book_entry, &w);
	return 0;
}

static int
tel_discovery(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return cp_telemetry_with_app(discovery, params, d);
}

static int
tel_book(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return cp_telemetry_with_app(book, params, d);
}

int
cp_telemetry_disc_register(void)
{
	int rc = rte_telemetry_register_cmd(
		"/sluice/discovery", tel_discovery,
		"Discovery: pool, address book and peer exchange counters. No parameters");

	return rc | rte_telemetry_register_cmd(
			    "/sluice/book", tel_book,
			    "The address book's entries (at most 256). No parameters");
}
