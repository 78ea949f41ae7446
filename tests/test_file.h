/*
 * test_file.h — read a whole fixture file into memory, for test programs
 * (with test_util.h's checks or their own). Static: each tests/test_*.c is
 * its own program.
 */
#ifndef T2I_TEST_FILE_H
#define T2I_TEST_FILE_H

#include <stdio.h>
#include <stdlib.h>

/* The file's bytes plus a NUL (malloc'd; *len bytes without it when len is
 * non-NULL), or NULL when it cannot be opened or read. */
static inline char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) buf[n] = 0;
    if (len) *len = (size_t)n;
    return buf;
}

#endif
