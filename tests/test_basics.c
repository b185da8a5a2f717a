/* Error codes, their texts, the version, and offset pointers. */
#include <stdint.h>
#include <sys/mman.h>

#include "tap.h"

struct node {
    int value;
    shmipc_rel next;
};

static void test_errors(void)
{
    const int codes[] = {SHMIPC_EINVAL,  SHMIPC_ENOMEM,  SHMIPC_ENOENT,    SHMIPC_EEXIST,
                         SHMIPC_EPERM,   SHMIPC_ECLOSED, SHMIPC_ETIMEDOUT, SHMIPC_EBADBLOB,
                         SHMIPC_ESTALE,  SHMIPC_EPROTO,  SHMIPC_ENOTSUP,   SHMIPC_ESYS,
                         SHMIPC_ECORRUPT};
    int distinct = 1;

    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = shmipc_strerror(codes[i]);
        ok(codes[i] < 0 && s && strcmp(s, "unknown error") != 0, "code %d has text '%s'",
           codes[i], s);
        for (size_t j = 0; j < i; j++)
            distinct &= strcmp(s, shmipc_strerror(codes[j])) != 0;
    }
    ok(distinct, "every code has its own text");
    ok(strcmp(shmipc_strerror(0), "success") == 0, "0 is success");
    ok(strcmp(shmipc_strerror(SHMIPC_ERRNO_MIN - 1), "unknown error") == 0 &&
           strcmp(shmipc_strerror(5), "unknown error") == 0,
       "codes outside the list are 'unknown error'");
    is_rc(shmipc_pool_open("no/slash", 0, &(shmipc_pool *){0}), SHMIPC_EINVAL,
          "bad name fails");
    ok(strstr(shmipc_error_detail(), "no/slash") != NULL, "detail names the culprit: %s",
       shmipc_error_detail());
    is_rc(shmipc_error_set(SHMIPC_ECLOSED, "a layered library's failure"), SHMIPC_ECLOSED,
          "shmipc_error_set returns its code");
    ok(strcmp(shmipc_error_detail(), "a layered library's failure") == 0,
       "and shmipc_error_detail() says what it recorded");
    shmipc_error_set(SHMIPC_EINVAL, NULL);
    ok(strcmp(shmipc_error_detail(), "") == 0, "a NULL detail records \"\"");
}

static void test_version(void)
{
    char want[32];

    snprintf(want, sizeof want, "%d.%d.%d", SHMIPC_VERSION_MAJOR, SHMIPC_VERSION_MINOR,
             SHMIPC_VERSION_PATCH);
    ok(strcmp(shmipc_version(), want) == 0 && strcmp(SHMIPC_VERSION_STRING, want) == 0,
       "version %s matches the macros", shmipc_version());
    ok(shmipc_version_number() == SHMIPC_VERSION_NUMBER, "version number %u",
       shmipc_version_number());
}

/* A list linked with shmipc_rel reads the same through two mappings at different
 * addresses of the same memory. */
static void test_rel_across_mappings(void)
{
    shmipc_pool *p;
    int fd;
    char *second;
    struct node *n, *m;
    int values = 0, count = 0;

    is_rc(shmipc_pool_create(NULL, 1 << 16, 0, &p), 0, "anonymous pool");
    n = shmipc_pool_base(p);
    for (int i = 0; i < 4; i++) {
        n[i].value = i + 1;
        shmipc_rel_set(&n[i].next, i < 3 ? &n[i + 1] : NULL);
    }
    ok(shmipc_rel_is_null(&n[3].next) && shmipc_rel_get(&n[3].next) == NULL, "NULL survives");
    fd = shmipc_pool_fd(p);
    second = mmap(NULL, 4096 + (1 << 16), PROT_READ, MAP_SHARED, fd, 0);
    ok(second != MAP_FAILED && second + 4096 != (char *)n, "second mapping elsewhere");
    for (m = (struct node *)(second + 4096); m; m = SHMIPC_REL_GET(struct node, &m->next)) {
        values += m->value;
        count++;
        if (count > 4)
            break;
    }
    ok(count == 4 && values == 10, "walked 4 nodes through the second mapping (sum %d)",
       values);
    munmap(second, 4096 + (1 << 16));
    shmipc_pool_close(p);
    {
        shmipc_rel r = SHMIPC_REL_NULL;
        ok(shmipc_rel_get(&r) == NULL, "SHMIPC_REL_NULL is NULL");
        shmipc_rel_set(&r, &r);
        ok(shmipc_rel_get(&r) == &r && !shmipc_rel_is_null(&r), "a rel may point at itself");
    }
}

int main(void)
{
    test_errors();
    test_version();
    test_rel_across_mappings();
    return done_testing();
}
