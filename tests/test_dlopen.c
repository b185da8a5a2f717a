/* test_dlopen — libshmipc loaded with dlopen() after start-up, with no environment
 * variable, uses the lend provider: its jemalloc is built in, with no initial-exec TLS
 * (a system libjemalloc's would not load here). The module tests/helper_dlopen links the
 * shared libshmipc; this program does not. */
#include "tap.h"

#include <dlfcn.h>
#include <stdlib.h>

int main(void)
{
    char path[4096], dir[64], why[1024] = "";
    const char *b = getenv("SHMIPC_BUILDDIR");
    int (*lend)(const char *, char *, size_t);
    void *h;
    int rc;

    snprintf(dir, sizeof dir, "/tmp/shmipc-test-XXXXXX");
    if (!mkdtemp(dir))
        return 99;
    setenv("SHMIPC_SOCKET_DIR", dir, 1);
    snprintf(path, sizeof path, "%s/tests/.libs/helper_dlopen.so", b ? b : ".");
    if (access(path, F_OK) != 0) {
        skip("no shared library in this build (--disable-shared)");
        rmdir(dir);
        return done_testing();
    }
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ok(h != NULL, "dlopen the module that links libshmipc%s%s", h ? "" : ": ",
       h ? "" : dlerror());
    *(void **)&lend = h ? dlsym(h, "helper_dlopen_lend") : NULL;
    rc = lend ? lend("dlopen", why, sizeof why) : SHMIPC_EINVAL;
    if (rc == SHMIPC_ENOTSUP)
        skip("the lend provider: this build has no jemalloc (--without-jemalloc)");
    else
        ok(rc == 0, "a lend session in it: %s", why);
    ok(rmdir(dir) == 0, "nothing left in the socket directory");
    return done_testing();
}
