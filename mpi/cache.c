/* cache.c — the arena communicators already made, per communicator: an attribute of the
 * user's comm (so they go when comm is freed: its delete callback frees them) holding
 * (pool id, communicator) pairs. Every cache is also on a list, which MPI_Finalize empties
 * (finalize.c): nothing is left to the user to free, and nothing leaks. */
#include <pthread.h>
#include <stdlib.h>

#include "mpi_internal.h"

struct entry {
    uint64_t pool_id;
    MPI_Comm comm;
    struct entry *next;
};

struct cache {
    MPI_Comm owner;
    struct entry *entries;
    struct cache *prev, *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int cache_key = MPI_KEYVAL_INVALID;
static struct cache *caches; /* every cache whose comm still lives */

static void unlist(struct cache *c)
{
    pthread_mutex_lock(&lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        caches = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&lock);
}

/* MPI calls this when the owner comm is freed, or when finalize.c deletes the attribute. */
static int free_cache(MPI_Comm owner, int key, void *value, void *extra)
{
    struct cache *c = value;

    (void)owner, (void)key, (void)extra;
    unlist(c);
    while (c->entries) {
        struct entry *e = c->entries;
        c->entries = e->next;
        MPI_Comm_free(&e->comm);
        free(e);
    }
    free(c);
    return MPI_SUCCESS;
}

/* The cache attribute of comm (NULL if it has none); creates the keyval on first use. */
static int cache_of(MPI_Comm comm, struct cache **out)
{
    int found = 0, err = MPI_SUCCESS;

    *out = NULL;
    pthread_mutex_lock(&lock);
    if (cache_key == MPI_KEYVAL_INVALID)
        err = MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, free_cache, &cache_key, NULL);
    pthread_mutex_unlock(&lock);
    if (err == MPI_SUCCESS)
        err = MPI_Comm_get_attr(comm, cache_key, out, &found);
    if (!found)
        *out = NULL;
    return shmipc__mpi_check(err, "MPI_Comm_get_attr (the arena communicators' cache)");
}

MPI_Comm shmipc__mpi_cache_get(MPI_Comm comm, uint64_t pool_id)
{
    struct cache *c;

    if (cache_of(comm, &c) != 0 || !c)
        return MPI_COMM_NULL;
    for (struct entry *e = c->entries; e; e = e->next)
        if (e->pool_id == pool_id)
            return e->comm;
    return MPI_COMM_NULL;
}

/* comm's cache, made and attached if it has none yet. */
static int new_cache(MPI_Comm comm, struct cache **out)
{
    struct cache *c;
    int rc;

    if ((rc = cache_of(comm, out)) != 0 || *out)
        return rc;
    if ((rc = shmipc__mpi_at_finalize()) != 0)
        return rc;
    if (!(c = calloc(1, sizeof *c)))
        return shmipc__mpi_fail(SHMIPC_ENOMEM, "out of memory for a communicator cache");
    c->owner = comm;
    if ((rc = shmipc__mpi_check(MPI_Comm_set_attr(comm, cache_key, c), "MPI_Comm_set_attr"))) {
        free(c);
        return rc;
    }
    pthread_mutex_lock(&lock);
    c->next = caches;
    if (caches)
        caches->prev = c;
    caches = c;
    pthread_mutex_unlock(&lock);
    *out = c;
    return 0;
}

int shmipc__mpi_cache_put(MPI_Comm comm, uint64_t pool_id, MPI_Comm result)
{
    struct cache *c;
    struct entry *e;
    int rc;

    if ((rc = new_cache(comm, &c)) != 0)
        return rc;
    if (!(e = malloc(sizeof *e)))
        return shmipc__mpi_fail(SHMIPC_ENOMEM, "out of memory for a cached communicator");
    e->pool_id = pool_id;
    e->comm = result;
    e->next = c->entries; /* first: a newer result for the same arena hides an older one */
    c->entries = e;
    return 0;
}

void shmipc__mpi_cache_clear(void)
{
    for (;;) {
        struct cache *c;
        pthread_mutex_lock(&lock);
        c = caches;
        pthread_mutex_unlock(&lock);
        if (!c)
            break;
        /* free_cache takes it off the list; called here if MPI would not */
        if (MPI_Comm_delete_attr(c->owner, cache_key) != MPI_SUCCESS)
            free_cache(c->owner, cache_key, c, NULL);
    }
    pthread_mutex_lock(&lock);
    if (cache_key != MPI_KEYVAL_INVALID)
        MPI_Comm_free_keyval(&cache_key);
    pthread_mutex_unlock(&lock);
}
