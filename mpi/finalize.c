/* finalize.c — the library's clean-up, run by MPI_Finalize itself: an attribute on
 * MPI_COMM_SELF, whose delete callback MPI calls first thing in MPI_Finalize while MPI
 * still works (MPI-2.2 and later, section "Allowing User Functions at Process
 * Termination"). It frees the cached communicators and unlinks the arenas this process
 * created with shmipc_mpi_arena_open, so that a job leaves nothing in /dev/shm and needs
 * no cleanup call. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

struct name {
    struct name *next;
    char text[SHMIPC_NAME_MAX + 1];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int self_key = MPI_KEYVAL_INVALID;
static struct name *names; /* arenas to unlink */

static void unlink_names(void)
{
    struct name *n;

    pthread_mutex_lock(&lock);
    n = names;
    names = NULL;
    pthread_mutex_unlock(&lock);
    while (n) {
        struct name *next = n->next;
        shmipc_arena_unlink(n->text); /* ENOENT: another rank of the node did it */
        free(n);
        n = next;
    }
}

static int at_finalize(MPI_Comm self, int key, void *value, void *extra)
{
    (void)self, (void)key, (void)value, (void)extra;
    shmipc__mpi_cache_clear();
    unlink_names();
    pthread_mutex_lock(&lock);
    MPI_Comm_free_keyval(&self_key);
    pthread_mutex_unlock(&lock);
    return MPI_SUCCESS;
}

int shmipc__mpi_at_finalize(void)
{
    int err = MPI_SUCCESS;

    pthread_mutex_lock(&lock);
    if (self_key == MPI_KEYVAL_INVALID) {
        err = MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, at_finalize, &self_key, NULL);
        if (err == MPI_SUCCESS &&
            (err = MPI_Comm_set_attr(MPI_COMM_SELF, self_key, NULL)) != MPI_SUCCESS)
            MPI_Comm_free_keyval(&self_key);
    }
    pthread_mutex_unlock(&lock);
    return shmipc__mpi_check(err, "installing the clean-up at MPI_Finalize (MPI_COMM_SELF)");
}

int shmipc__mpi_unlink_at_finalize(const char *text)
{
    struct name *n;
    int rc;

    if ((rc = shmipc__mpi_at_finalize()) != 0)
        return rc;
    pthread_mutex_lock(&lock);
    for (n = names; n && strcmp(n->text, text) != 0; n = n->next)
        ;
    if (!n && (n = calloc(1, sizeof *n)) != NULL) {
        snprintf(n->text, sizeof n->text, "%s", text);
        n->next = names;
        names = n;
    }
    pthread_mutex_unlock(&lock);
    return n ? 0 : shmipc__mpi_fail(SHMIPC_ENOMEM, "out of memory for the name '%s'", text);
}
