/*
 * fuzz_util.h — helpers shared by the fuzz harnesses (tests/fuzz/fuzz_*.c).
 *
 * Each harness defines LLVMFuzzerTestOneInput (and may define
 * LLVMFuzzerInitialize). Built with clang -fsanitize=fuzzer it is a libFuzzer
 * binary; built with replay_main.c it replays files (the regression ctest).
 * Readers that only take a path get the input through a file in a private
 * temporary folder made once per process and removed at exit.
 */
#ifndef T2I_FUZZ_UTIL_H
#define T2I_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The process's temporary folder (created on first use; aborts if it cannot
 * be: a harness without its folder tests nothing). */
const char *fuzz_tmpdir(void);
/* "<tmpdir>/<name>", in a static buffer per call site's copy (the caller
 * copies it when it needs two). */
const char *fuzz_path(const char *name, char *buf, size_t cap);
/* Write data to <tmpdir>/<name>; returns the path in buf. Aborts on failure. */
const char *fuzz_write(const char *name, const void *data, size_t size, char *buf, size_t cap);
/* A malloc'd NUL-terminated copy of data (aborts when out of memory). */
char *fuzz_cstr(const uint8_t *data, size_t size);
/* Copy a whole file into <tmpdir>/<name>. */
void fuzz_copy_file(const char *src, const char *name);

#endif
