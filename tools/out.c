/* out.c — the tool's output: a small streaming JSON writer (indented, strings escaped),
 * sizes for people, file modes, and messages on stderr. */
#include <stdarg.h>
#include <string.h>

#include "tool.h"

/* Start a value: the comma before it, its indentation and its key (keys are the tool's
 * own words: nothing to escape). */
static void json_item(struct json *j, const char *key)
{
    if (j->depth > 0) {
        fputs(j->first[j->depth] ? "\n" : ",\n", j->f);
        j->first[j->depth] = 0;
    }
    fprintf(j->f, "%*s", 2 * j->depth, "");
    if (key)
        fprintf(j->f, "\"%s\": ", key);
}

void json_open(struct json *j, const char *key, char bracket)
{
    json_item(j, key);
    fputc(bracket, j->f);
    j->first[++j->depth] = 1;
}

void json_close(struct json *j, char bracket)
{
    int empty = j->first[j->depth];

    j->depth--;
    if (!empty)
        fprintf(j->f, "\n%*s", 2 * j->depth, "");
    fputc(bracket, j->f);
    if (j->depth == 0)
        fputc('\n', j->f);
}

static void json_escaped(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void json_str(struct json *j, const char *key, const char *val)
{
    json_item(j, key);
    if (val)
        json_escaped(j->f, val);
    else
        fputs("null", j->f);
}

void json_u64(struct json *j, const char *key, uint64_t val)
{
    json_item(j, key);
    fprintf(j->f, "%llu", (unsigned long long)val);
}

void json_i64(struct json *j, const char *key, long long val)
{
    json_item(j, key);
    fprintf(j->f, "%lld", val);
}

void json_bool(struct json *j, const char *key, int val)
{
    json_item(j, key);
    fputs(val ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
    json_item(j, key);
    fputs("null", j->f);
}

const char *human(uint64_t n, char *buf, size_t cap)
{
    static const char units[] = "KMGTPE";
    double v = (double)n;
    int u = -1;

    if (n < 1024) {
        snprintf(buf, cap, "%llu", (unsigned long long)n);
        return buf;
    }
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
    return buf;
}

const char *mode_str(mode_t mode, char *buf, size_t cap)
{
    snprintf(buf, cap, "%04o", (unsigned)(mode & 07777));
    return buf;
}

void warn(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("shmipc: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
