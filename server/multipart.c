/*
 * multipart.c — multipart/form-data parsing (see multipart.h).
 *
 * Layout of a body with boundary B:
 *   [preamble] "--B" CRLF headers CRLF CRLF data CRLF "--B" CRLF headers ...
 *   ... data CRLF "--B--" [epilogue]
 * Only Content-Disposition matters here (name, filename); other part
 * headers (Content-Type) are skipped. Quoted values may hold '\"' escapes
 * (curl, Python's httpx). Names longer than the field are refused, not cut.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE              /* memmem */
#endif
#include "server/multipart.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_BOUNDARY 70          /* RFC 2046 */
#define MAX_HEADER_BLOCK 8192

static const unsigned char *find(const unsigned char *hay, size_t n, const char *needle, size_t m)
{
    return memmem(hay, n, needle, m);
}

/* The boundary parameter of a Content-Type header, copied to out. */
static int get_boundary(const char *ct, char *out, size_t cap, const char **why)
{
    static const char type[] = "multipart/form-data";
    if (!ct || strncasecmp(ct, type, sizeof type - 1) != 0)
        return *why = "Content-Type must be multipart/form-data", -1;
    const char *p = ct + sizeof type - 1;
    for (;;) {
        p = strchr(p, ';');
        if (!p) return *why = "Content-Type has no boundary", -1;
        p++;
        while (*p == ' ' || *p == '\t') p++;
        if (strncasecmp(p, "boundary=", 9) == 0) break;
    }
    p += 9;
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (p[n] && p[n] != '"') n++;
        if (p[n] != '"') return *why = "unterminated boundary in Content-Type", -1;
    } else {
        while (p[n] && p[n] != ';' && p[n] != ' ' && p[n] != '\t') n++;
    }
    if (n == 0 || n > MAX_BOUNDARY || n >= cap) return *why = "boundary must be 1..70 characters", -1;
    memcpy(out, p, n), out[n] = 0;
    return 0;
}

/* One parameter value of a Content-Disposition line: key="value" or
 * key=token, where key is preceded by ';' or white space (so "name" does not
 * match inside "filename"). Returns 1 found, 0 absent, -1 malformed/too long. */
static int disposition_param(const char *line, size_t len, const char *key, char *out, size_t cap)
{
    size_t k = strlen(key);
    for (size_t i = 0; i + k + 1 <= len; i++) {
        if (i > 0 && line[i - 1] != ';' && line[i - 1] != ' ' && line[i - 1] != '\t') continue;
        if (strncasecmp(line + i, key, k) != 0 || line[i + k] != '=') continue;
        size_t j = i + k + 1, o = 0;
        if (j < len && line[j] == '"') {
            for (j++; j < len && line[j] != '"'; j++) {
                if (line[j] == '\\' && j + 1 < len) j++;
                if (o + 1 >= cap) return -1;
                out[o++] = line[j];
            }
            if (j >= len) return -1;
        } else {
            for (; j < len && line[j] != ';' && line[j] != ' ' && line[j] != '\t'; j++) {
                if (o + 1 >= cap) return -1;
                out[o++] = line[j];
            }
        }
        out[o] = 0;
        return 1;
    }
    return 0;
}

/* The headers of one part (hdr, n bytes, without the blank line). */
static int parse_headers(const char *hdr, size_t n, multipart_part *part, const char **why)
{
    static const char cd[] = "content-disposition:";
    int have_name = 0;
    char filename[256];
    while (n > 0) {
        const char *eol = memchr(hdr, '\r', n);
        size_t len = eol ? (size_t)(eol - hdr) : n;
        if (memchr(hdr, '\n', len)) return *why = "part headers must end lines with CRLF", -1;
        if (len >= sizeof cd - 1 && strncasecmp(hdr, cd, sizeof cd - 1) == 0) {
            int r = disposition_param(hdr, len, "name", part->name, sizeof part->name);
            if (r < 0) return *why = "a part's name is malformed or longer than 63 bytes", -1;
            have_name |= r;
            r = disposition_param(hdr, len, "filename", filename, sizeof filename);
            if (r < 0) return *why = "a part's filename is malformed or longer than 255 bytes", -1;
            part->is_file = r;
        }
        if (!eol) break;
        if (len + 2 > n || eol[1] != '\n') return *why = "part headers must end lines with CRLF", -1;
        hdr += len + 2, n -= len + 2;
    }
    if (!have_name) return *why = "a part has no Content-Disposition name", -1;
    return 0;
}

int multipart_parse(const char *content_type, const unsigned char *body, size_t n, multipart_part *parts,
                    int *count, const char **why)
{
    char b[MAX_BOUNDARY + 1], delim[MAX_BOUNDARY + 5];
    *count = 0;
    if (get_boundary(content_type, b, sizeof b, why)) return -1;
    /* CRLF "--" boundary: what ends a part's data; the first delimiter may
     * also open the body without the CRLF. */
    size_t dl = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", b);
    const unsigned char *p, *end = body + n;
    if (n >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0) p = body + dl - 2;
    else if ((p = find(body, n, delim, dl))) p += dl;
    else return *why = "no boundary delimiter in the body", -1;
    for (;;) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') return 0;   /* closing delimiter */
        while (p < end && (*p == ' ' || *p == '\t')) p++;           /* transport padding */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') return *why = "a delimiter is not followed by CRLF", -1;
        p += 2;
        size_t avail = (size_t)(end - p);
        const unsigned char *hend = find(p, avail < MAX_HEADER_BLOCK ? avail : MAX_HEADER_BLOCK, "\r\n\r\n", 4);
        multipart_part part = {{0}, 0, NULL, 0};
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') hend = p - 2;   /* no headers at all */
        if (!hend) return *why = "a part's headers do not end within 8 KiB", -1;
        if (parse_headers((const char *)p, hend > p ? (size_t)(hend - p) : 0, &part, why)) return -1;
        p = hend + 4;
        const unsigned char *dend = find(p, (size_t)(end - p), delim, dl);
        if (!dend) return *why = "a part is not closed by a boundary delimiter", -1;
        if (*count == MULTIPART_MAX_PARTS) return *why = "more than 32 parts", -1;
        part.data = p, part.len = (size_t)(dend - p);
        parts[(*count)++] = part;
        p = dend + dl;
    }
}

const multipart_part *multipart_find(const multipart_part *parts, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(parts[i].name, name) == 0) return &parts[i];
    return NULL;
}
