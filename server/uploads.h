/*
 * uploads.h — admission for decoding uploaded images. Every route that
 * decodes an image from a request (today /sdapi/v1/png-info; the editing
 * routes to come) asks here first, with the decoded size it is about to
 * allocate, so that decodes in flight stay within --max-decodes at once and
 * --max-decode-bytes in all, whatever the clients send.
 */
#ifndef T2I_SERVER_UPLOADS_H
#define T2I_SERVER_UPLOADS_H

#include <stddef.h>

/* Admit a decode of `bytes`: 0 admitted (call uploads_leave with the same
 * bytes when its buffers are freed), 413 when one upload alone exceeds
 * --max-decode-bytes, 429 when the decodes in flight leave no room now. */
int uploads_enter(size_t bytes);
void uploads_leave(size_t bytes);

#endif
