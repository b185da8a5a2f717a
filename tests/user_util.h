/* user_util.h — a real second user for the tests that need one: made with useradd when the
 * test runs as root and it does not exist, and a child becoming it for good. */
#ifndef SHMIPC_USER_UTIL_H
#define SHMIPC_USER_UTIL_H

#include "tap.h" /* first: it defines _GNU_SOURCE */

#include <grp.h>
#include <pwd.h>

static uid_t other_uid;
static gid_t other_gid;

/* Look up user `name`, making it (as root) if it is missing: 1 if there is one then, with
 * *made set if this call made it. */
static int other_user(const char *name, int *made)
{
    char cmd[256];
    struct passwd *pw = getpwnam(name);

    snprintf(cmd, sizeof cmd,
             "useradd --system --no-create-home --shell /usr/sbin/nologin "
             "%s >/dev/null 2>&1",
             name);
    *made = 0;
    if (!pw && getuid() == 0 && system(cmd) == 0) {
        *made = 1;
        pw = getpwnam(name);
    }
    if (!pw)
        return 0;
    other_uid = pw->pw_uid;
    other_gid = pw->pw_gid;
    return 1;
}

/* In a child: become the other user for good. */
static __attribute__((unused)) void become_other(void)
{
    if (setgroups(0, NULL) != 0 || setresgid(other_gid, other_gid, other_gid) != 0 ||
        setresuid(other_uid, other_uid, other_uid) != 0)
        _exit(90);
}

#endif
