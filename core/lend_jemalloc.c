/* lend_jemalloc.c — jemalloc's entry points for the lend provider: linked, or loaded on
 * first use (SHMIPC_JEMALLOC_DLOPEN; see lend_internal.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "lend_internal.h"

#ifdef SHMIPC_HAVE_JEMALLOC
#ifdef SHMIPC_JEMALLOC_DLOPEN
#include <dlfcn.h>

struct shmipc_je shmipc__je;
static pthread_once_t je_once = PTHREAD_ONCE_INIT;
static char je_error[512];

static void je_load(void)
{
    void *h = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    const char *e;

    if (h) {
        *(void **)&shmipc__je.mallocx = dlsym(h, "mallocx");
        *(void **)&shmipc__je.dallocx = dlsym(h, "dallocx");
        *(void **)&shmipc__je.mallctl = dlsym(h, "mallctl");
        if (shmipc__je.mallocx && shmipc__je.dallocx && shmipc__je.mallctl)
            return;
        shmipc__je.mallocx = NULL;
        snprintf(je_error, sizeof je_error, "libjemalloc.so.2 lacks mallocx/dallocx/mallctl");
        return;
    }
    e = dlerror();
    snprintf(je_error, sizeof je_error, "%s%s", e ? e : "libjemalloc.so.2 not found",
             e && strstr(e, "static TLS") ? " (start the process with GLIBC_TUNABLES="
                                             "glibc.rtld.optional_static_tls=16384)" : "");
}

int shmipc__je_ready(void)
{
    pthread_once(&je_once, je_load);
    if (shmipc__je.mallocx)
        return 0;
    return shmipc__fail(SHMIPC_ENOTSUP, "the lend provider needs jemalloc, which could not "
                        "be loaded: %s", je_error);
}
#else
int shmipc__je_ready(void)
{
    return 0;
}
#endif
#endif
