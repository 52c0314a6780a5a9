/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tests: EAL for test programs (see sl_eal_test.h).
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "sl_eal_test.h"

/* EAL's runtime directory holds only the files it made (config, fbarrays); no subdirectories. */
static void
remove_runtime_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static char runtime_dir[PATH_MAX];

int
sl_eal_test_start(const char *name)
{
	static char prefix[64], prog[32]; /* EAL may keep pointers to its arguments */
	char *argv[] = {
		prog,	    "-l",
		"0",	    "--no-huge",
		"-m",	    "64",
		"--no-pci", "--no-telemetry",
		prefix,	    "--log-level=lib.*:error",
		NULL,
	};

	snprintf(prog, sizeof(prog), "test_%s", name);
	snprintf(prefix, sizeof(prefix), "--file-prefix=test-%s-%d", name, (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "%s: EAL init failed: %s\n", prog, rte_strerror(rte_errno));
		return -1;
	}
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	return 0;
}

void
sl_eal_test_stop(void)
{
	rte_eal_cleanup();
	remove_runtime_dir(runtime_dir);
}

int
sl_eal_test_main(const char *name, CU_TestInfo *cases, struct rte_mempool **pool)
{
	char prog[32];
	int rc;

	snprintf(prog, sizeof(prog), "test_%s", name);
	if (sl_eal_test_start(name) != 0)
		return 1;
	*pool = rte_pktmbuf_pool_create(prog, 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (*pool == NULL) {
		fprintf(stderr, "%s: mbuf pool: %s\n", prog, rte_strerror(rte_errno));
		rc = 1;
	} else {
		rc = sl_test_run(name, cases);
	}
	rte_mempool_free(*pool);
	*pool = NULL;
	sl_eal_test_stop();
	return rc;
}
