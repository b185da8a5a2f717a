/* named_list — two processes share a linked list through a named shared arena.
 *
 * The first process finds-or-creates the arena "demo-catalogue", builds a catalogue (a
 * named allocation) whose items are linked with self-relative offset pointers, and starts a
 * second process (this program again, with --reader). That one opens the arena by name,
 * finds the catalogue by name, walks the list — at a different address in its own address
 * space — and appends an item. The first process then sees the new item, frees everything
 * and shows the arena back at its baseline.
 *
 * Build: cc named_list.c $(pkg-config --cflags --libs shmipc)
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmipc.h>

#define ARENA "demo-catalogue"

struct item {
    shmipc_rel next; /* struct item */
    shmipc_rel name; /* char[] */
    double price;
};

struct catalogue {
    atomic_uint ready; /* 1 once the list is built */
    unsigned count;
    shmipc_rel head; /* struct item */
};

static int die(const char *what, int rc)
{
    fprintf(stderr, "named_list: %s: %s (%s)\n", what, shmipc_strerror(rc),
            shmipc_error_detail());
    return 1;
}

/* Allocate an item in the arena and put it at the end of the list. */
static int append(shmipc_arena *a, struct catalogue *c, const char *name, double price)
{
    struct item *it = shmipc_alloc(a, sizeof *it);
    char *s = shmipc_alloc(a, strlen(name) + 1);
    shmipc_rel *link = &c->head;

    if (!it || !s)
        return -1;
    strcpy(s, name);
    shmipc_rel_set(&it->name, s);
    shmipc_rel_set(&it->next, NULL);
    it->price = price;
    while (!shmipc_rel_is_null(link))
        link = &SHMIPC_REL_GET(struct item, link)->next;
    shmipc_rel_set(link, it);
    c->count++;
    return 0;
}

static void print(const char *who, const struct catalogue *c)
{
    printf("  [%s, pid %d] catalogue of %u items at %p:\n", who, (int)getpid(), c->count,
           (const void *)c);
    for (struct item *it = SHMIPC_REL_GET(struct item, &c->head); it;
         it = SHMIPC_REL_GET(struct item, &it->next))
        printf("      %-28s %8.2f\n", SHMIPC_REL_GET(char, &it->name), it->price);
}

static int reader(void)
{
    shmipc_arena *a;
    struct catalogue *c;
    char name[64];
    int rc;

    if ((rc = shmipc_arena_open(ARENA, 16 << 20, SHMIPC_SCOPE_NODE, &a)) != 0)
        return die("reader: arena_open", rc);
    if ((rc = shmipc_named_find(a, "catalogue", (void **)&c, NULL)) != 0)
        return die("reader: named_find", rc);
    while (atomic_load_explicit(&c->ready, memory_order_acquire) != 1)
        usleep(1000);
    print("reader", c);
    snprintf(name, sizeof name, "added by reader pid %d", (int)getpid());
    if (append(a, c, name, 9.99) != 0)
        return die("reader: append", SHMIPC_ENOMEM);
    shmipc_arena_close(a);
    return 0;
}

static void free_all(shmipc_arena *a, struct catalogue *c)
{
    struct item *it = SHMIPC_REL_GET(struct item, &c->head);

    while (it) {
        struct item *next = SHMIPC_REL_GET(struct item, &it->next);
        shmipc_free(a, shmipc_rel_get(&it->name));
        shmipc_free(a, it);
        it = next;
    }
    shmipc_rel_set(&c->head, NULL);
    c->count = 0;
}

static int writer(const char *self)
{
    static const char *names[] = {"lens, 50 mm", "tripod", "memory card 256 GB",
                                  "battery grip"};
    static const double prices[] = {349.0, 89.5, 41.25, 120.0};
    struct shmipc_arena_stats before, during, after;
    shmipc_arena *a;
    struct catalogue *c;
    int rc, status;
    pid_t pid;

    if ((rc = shmipc_arena_open(ARENA, 16 << 20, SHMIPC_SCOPE_NODE, &a)) != 0)
        return die("arena_open", rc);
    shmipc_arena_stats(a, &before);
    printf("shmipc %s: named arena '%s', %zu bytes, %zu in use\n", shmipc_version(), ARENA,
           before.capacity, before.used);
    if ((rc = shmipc_named_alloc(a, "catalogue", sizeof *c, (void **)&c)) < 0)
        return die("named_alloc", rc);
    c->count = 0;
    shmipc_rel_set(&c->head, NULL);
    for (int i = 0; i < 4; i++)
        if (append(a, c, names[i], prices[i]) != 0)
            return die("append", SHMIPC_ENOMEM);
    atomic_store_explicit(&c->ready, 1, memory_order_release);
    print("writer", c);

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        execl(self, self, "--reader", (char *)NULL);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "named_list: the reader process failed\n");
        return 1;
    }
    printf("  [writer] after the reader exited:\n");
    print("writer", c);
    shmipc_arena_stats(a, &during);
    free_all(a, c);
    shmipc_named_free(a, "catalogue");
    shmipc_arena_stats(a, &after);
    rc = shmipc_arena_check(a);
    printf("arena in use: before %zu, with the catalogue %zu (%zu blocks), after freeing %zu: "
           "%s; allocator check: %s\n",
           before.used, during.used, during.allocations, after.used,
           after.used == before.used ? "back to baseline" : "LEAKED",
           rc == 0 ? "ok" : shmipc_strerror(rc));
    shmipc_arena_close(a);
    shmipc_arena_unlink(ARENA);
    /* The catalogue and 5 items of 2 blocks each. */
    return after.used != before.used || rc != 0 || during.allocations != 11;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--reader") == 0)
        return reader();
    return writer(argv[0]);
}
