/*
 * multipart.h — multipart/form-data bodies (RFC 7578), as the OpenAI
 * clients send /v1/images/edits and /v1/images/variations: parts with a
 * Content-Disposition name (and filename for files). The parser treats the
 * body as hostile: the boundary comes from the Content-Type header
 * (1..70 characters), every part must be closed by a delimiter, header
 * blocks are bounded, and at most MULTIPART_MAX_PARTS parts are taken.
 * Part data point into the body (no copies): the body must outlive them.
 */
#ifndef T2I_SERVER_MULTIPART_H
#define T2I_SERVER_MULTIPART_H

#include <stddef.h>

#define MULTIPART_MAX_PARTS 32

typedef struct multipart_part {
    char name[64];               /* form field name ("image", "image[]", "prompt", ...) */
    int is_file;                 /* a filename was given */
    const unsigned char *data;   /* into the body */
    size_t len;
} multipart_part;

/* Parse body (n bytes) with the boundary of content_type
 * ("multipart/form-data; boundary=..."). Fills parts[0..*count). Returns 0,
 * or -1 with a reason in why (static text). */
int multipart_parse(const char *content_type, const unsigned char *body, size_t n, multipart_part *parts,
                    int *count, const char **why);

/* The first part named name (NULL if none). */
const multipart_part *multipart_find(const multipart_part *parts, int count, const char *name);

#endif
