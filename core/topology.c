/* topology.c — which CPU package (socket) the calling process runs on, for arenas of
 * SHMIPC_SCOPE_SOCKET: the package shared by every CPU of the process's affinity mask, read
 * from /sys/devices/system/cpu/cpuN/topology/physical_package_id. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>

#include "internal.h"

static int package_of(int cpu, int *pkg)
{
    char path[128];
    FILE *f;
    int ok;

    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id",
             cpu);
    f = fopen(path, "re");
    if (!f)
        return shmipc__fail_errno("reading the CPU topology (%s)", path);
    ok = fscanf(f, "%d", pkg) == 1;
    fclose(f);
    return ok ? 0 : shmipc__fail(SHMIPC_ENOTSUP, "cannot parse %s", path);
}

int shmipc_cpu_package(int *pkg)
{
    cpu_set_t set;
    int first = -1, rc;

    if (!pkg)
        return shmipc__fail(SHMIPC_EINVAL, "out is NULL");
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return shmipc__fail_errno("sched_getaffinity");
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        int p;
        if (!CPU_ISSET(cpu, &set))
            continue;
        if ((rc = package_of(cpu, &p)) != 0)
            return rc;
        if (first >= 0 && p != first)
            return shmipc__fail(SHMIPC_EINVAL,
                                "socket scope needs the process bound to the "
                                "CPUs of one package; its affinity spans packages %d and %d",
                                first, p);
        first = p;
    }
    if (first < 0)
        return shmipc__fail(SHMIPC_ENOTSUP, "empty CPU affinity mask");
    *pkg = first;
    return 0;
}
