/* bench/scale — shared pieces of the scale benchmark (issue 14): the run's settings, the
 * processes it forks, the memory it reads from /proc and the rows of its report. */
#ifndef SCALE_H
#define SCALE_H

#include <stddef.h>
#include <sys/types.h>

#include "shmipc.h"

#define SCALE_APP "scale"
#define SCALE_TIMEOUT_MS 30000 /* a client's connect timeout, the "30 s" */
#define SCALE_MAX_LEVELS 4
#define SCALE_ERR 256

/* What one run does: the full form (make bench-scale) or the short one (make bench). */
struct scale_cfg {
    int quick;
    long loans[SCALE_MAX_LEVELS]; /* live loans held while the ops are timed */
    long loan_ops;                /* lend/release ops timed at each level */
    int sessions[3];              /* sessions of one app */
    long session_ops;             /* messages through all sessions together */
    int at_once;                  /* client processes connecting at once */
    long names[SCALE_MAX_LEVELS]; /* named allocations */
    long lookups;                 /* lookups timed at each level */
    long churn[3];                /* client lifetimes at which the server's RSS is read */
    int churn_inflight;           /* churn clients alive at once */
};

/* ---- processes (scale_proc.c) ------------------------------------------------------- */
/* Fork a child that runs fn(arg) and exits with its result (it dies with this process). */
pid_t scale_spawn(int (*fn)(void *), void *arg);
/* Wait for a child: its exit status, or 128 + the signal that killed it. */
int scale_wait(pid_t pid);
/* Shared anonymous memory for the results children write (zeroed). */
void *scale_shared(size_t size);
void scale_unshare(void *p, size_t size);
/* A pipe; dies on failure. */
void scale_pipe(int fd[2]);
/* Read/write exactly n bytes (EINTR retried): 0, or -1 at EOF or error. */
int scale_read(int fd, void *buf, size_t n);
int scale_write(int fd, const void *buf, size_t n);
/* 1 if fd has something to read (or EOF) within timeout_ms. */
int scale_readable(int fd, int timeout_ms);
/* Raise the descriptor limit to its hard limit (sessions hold several descriptors). */
void scale_raise_nofile(void);
/* A server name unique to this run and part. */
void scale_name(char *buf, size_t cap, const char *part, int provider, long n);
/* "<text of the code> (<detail>)" of the thread's last failure, into buf. */
const char *scale_error(int rc, char *buf, size_t cap);
double scale_now_ns(void);
double scale_cpu_ns(void); /* this process's CPU time */
/* The process's Rss and Pss (/proc/self/smaps_rollup), in KiB; -1 if unreadable. */
void scale_memory(long *rss_kib, long *pss_kib);
const char *scale_provider_name(int provider);
double scale_median(double *v, int n);

/* ---- the report (scale_report.c) ------------------------------------------------------ */
/* One row of the table: a figure at one size, its ratio to a base, the goal. ratio < 0:
 * none; goal NULL: no goal (information); note: an error or a remark. */
struct scale_row {
    const char *part;     /* loans, sessions, at-once, names, churn */
    const char *provider; /* shared, lend or "" */
    long n;               /* the size: loans, sessions, clients, names, lifetimes */
    const char *metric;   /* what is measured, with its unit */
    double value;         /* the figure; NAN when it failed */
    double ratio;         /* value / base (see base) */
    const char *base;     /* what the ratio is to, e.g. "1k" */
    const char *goal;     /* e.g. "<= 1.3" on the ratio, or on the value if no ratio */
    char note[3 * SCALE_ERR];
};
void scale_add(const struct scale_row *row);
/* The row's verdict: "met", "MISSED", "failed" or "" (no goal). */
const char *scale_status(const struct scale_row *row);
void scale_print_table(void);
int scale_write_csv(const char *path);

/* ---- the parts (scale_loans.c, scale_sessions.c, scale_names.c, scale_churn.c) -------- */
void scale_loans(const struct scale_cfg *cfg, int provider);
void scale_sessions(const struct scale_cfg *cfg, int provider);
void scale_at_once(const struct scale_cfg *cfg, int provider);
void scale_names(const struct scale_cfg *cfg);
void scale_churn(const struct scale_cfg *cfg);

#endif
