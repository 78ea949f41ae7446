/*
 * b64.c — base64 encode/decode; see b64.h for the accepted input forms.
 */
#include "server/b64.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *b64_encode(const void *data, size_t n)
{
    const unsigned char *s = data;
    size_t len = (n + 2) / 3 * 4;
    char *out = malloc(len + 1), *o = out;
    if (!out) return NULL;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = alphabet[v >> 18], *o++ = alphabet[v >> 12 & 63];
        *o++ = alphabet[v >> 6 & 63], *o++ = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *o++ = alphabet[v >> 18], *o++ = alphabet[v >> 12 & 63], *o++ = '=', *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = alphabet[v >> 18], *o++ = alphabet[v >> 12 & 63], *o++ = alphabet[v >> 6 & 63], *o++ = '=';
    }
    *o = 0;
    return out;
}

static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int b64_decode(const char *text, unsigned char **out, size_t *out_n, const char **why)
{
    *out = NULL, *out_n = 0;
    if (strncmp(text, "data:", 5) == 0) {
        const char *comma = strchr(text, ',');
        if (!comma || !strstr(text, ";base64,") || strstr(text, ";base64,") + 7 != comma) {
            *why = "data URL without ';base64,'";
            return -1;
        }
        text = comma + 1;
    }
    size_t n = strlen(text);
    unsigned char *buf = malloc(n / 4 * 3 + 3);
    if (!buf) return *why = "out of memory", -1;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    size_t o = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c == '=') { pad++; continue; }
        int v = value_of(c);
        if (v < 0 || pad) {
            free(buf);
            *why = v < 0 ? "character outside the base64 alphabet" : "data after '=' padding";
            return -1;
        }
        digits++;
        acc = acc << 6 | (uint32_t)v, bits += 6;
        if (bits >= 8) bits -= 8, buf[o++] = (unsigned char)(acc >> bits);
    }
    if (digits % 4 == 1 || pad > 2 || (pad && (digits + pad) % 4)) {
        free(buf);
        *why = "impossible base64 length";
        return -1;
    }
    *out = buf, *out_n = o;
    return 0;
}
