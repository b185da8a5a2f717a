/* bench/scale: the rows of the report, printed as a plain table and written as CSV (which
 * bench/plot_scale.py draws). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scale.h"

#define MAX_ROWS 128

static struct scale_row rows[MAX_ROWS];
static int nrows;

void scale_add(const struct scale_row *row)
{
    if (nrows < MAX_ROWS)
        rows[nrows++] = *row;
    if (row->note[0])
        printf("  %s %s %ld: %s\n", row->part, row->provider, row->n, row->note);
    fflush(stdout);
}

/* The goal is "<= x", "< x" or ">= x" on the ratio (or on the value when there is no
 * ratio). */
const char *scale_status(const struct scale_row *r)
{
    double v = r->ratio >= 0 ? r->ratio : r->value, limit;
    int met;

    if (isnan(r->value))
        return "failed";
    if (!r->goal)
        return "";
    limit = strtod(r->goal + strcspn(r->goal, "0123456789."), NULL);
    if (r->goal[0] == '<')
        met = r->goal[1] == '=' ? v <= limit : v < limit;
    else
        met = v >= limit;
    return met ? "met" : "MISSED";
}

static const char *count(long n, char *buf, size_t cap)
{
    if (n >= 1000000 && n % 1000000 == 0)
        snprintf(buf, cap, "%ldM", n / 1000000);
    else if (n >= 1000 && n % 1000 == 0)
        snprintf(buf, cap, "%ldk", n / 1000);
    else
        snprintf(buf, cap, "%ld", n);
    return buf;
}

static const char *figure(double v, char *buf, size_t cap)
{
    if (isnan(v))
        snprintf(buf, cap, "—");
    else if (fabs(v) >= 100 || v == floor(v))
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.3g", v);
    return buf;
}

void scale_print_table(void)
{
    char n[32], v[32], ratio[48];

    printf("\n| part | provider | n | measure | value | ratio | goal | status |\n"
           "|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < nrows; i++) {
        const struct scale_row *r = &rows[i];
        if (r->ratio >= 0)
            snprintf(ratio, sizeof ratio, "%.2f× %s", r->ratio, r->base);
        else
            snprintf(ratio, sizeof ratio, "—");
        printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", r->part, r->provider,
               count(r->n, n, sizeof n), r->metric, figure(r->value, v, sizeof v), ratio,
               r->goal ? r->goal : "", scale_status(r));
    }
    for (int i = 0; i < nrows; i++)
        if (rows[i].note[0])
            printf("%s %s %s: %s\n", rows[i].part, rows[i].provider,
                   count(rows[i].n, n, sizeof n), rows[i].note);
}

/* A CSV field: quoted, with quotes doubled. */
static void field(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int scale_write_csv(const char *path)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    fprintf(f, "part,provider,n,metric,value,ratio,base,goal,status,note\n");
    for (int i = 0; i < nrows; i++) {
        const struct scale_row *r = &rows[i];
        fprintf(f, "%s,%s,%ld,", r->part, r->provider, r->n);
        field(f, r->metric);
        if (isnan(r->value))
            fprintf(f, ",");
        else
            fprintf(f, ",%.6g", r->value);
        if (r->ratio >= 0)
            fprintf(f, ",%.4f,", r->ratio);
        else
            fprintf(f, ",,");
        field(f, r->base ? r->base : "");
        fputc(',', f);
        field(f, r->goal ? r->goal : "");
        fprintf(f, ",%s,", scale_status(r));
        field(f, r->note);
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : -1;
}
