/*
 * b64.h — standard base64 (RFC 4648, '+' '/', '=' padding) for PNG images
 * carried inside JSON. Decoding treats input as hostile: it accepts an
 * optional "data:<mime>;base64," prefix (A1111 clients send one), ignores
 * ASCII white space, tolerates missing padding, and rejects every other
 * character and impossible lengths.
 */
#ifndef T2I_SERVER_B64_H
#define T2I_SERVER_B64_H

#include <stddef.h>

/* Encode n bytes; returns a malloc'ed NUL-terminated string, NULL on OOM. */
char *b64_encode(const void *data, size_t n);

/* Decode text (NUL-terminated); *out is malloc'ed (free with free()).
 * Returns 0, or -1 for malformed input / OOM (with a reason in why). */
int b64_decode(const char *text, unsigned char **out, size_t *out_n, const char **why);

#endif
