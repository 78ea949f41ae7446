/*
 * test_server_b64.c — the server's base64 codec (server/b64.c), which
 * decodes hostile request fields: exact RFC 4648 vectors, round trips of
 * random buffers of every length 0..300, the accepted variants (data: URL
 * prefix, white space, missing padding) and a table of malformed inputs that
 * must be refused; then 20,000 random strings over a biased alphabet must
 * never crash and must agree with a strict re-encode whenever accepted.
 */
#include <stdint.h>
#include "server/b64.c"
#include "test_util.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t next_u32(void)
{
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

static int decodes_to(const char *in, const char *want)
{
    unsigned char *out = NULL;
    size_t n = 0;
    const char *why = NULL;
    int ok = b64_decode(in, &out, &n, &why) == 0 && n == strlen(want) && memcmp(out, want, n) == 0;
    free(out);
    return ok;
}

static int refused(const char *in)
{
    unsigned char *out = NULL;
    size_t n = 0;
    const char *why = NULL;
    int r = b64_decode(in, &out, &n, &why);
    free(out);
    return r != 0 && why && out == NULL;
}

int main(void)
{
    static const char *vec[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                   {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                   {"foobar", "Zm9vYmFy"}};
    for (int i = 0; i < 7; i++) {
        char *e = b64_encode(vec[i][0], strlen(vec[i][0]));
        CHECK(e && !strcmp(e, vec[i][1]), "encode '%s' -> '%s'", vec[i][0], e ? e : "(null)");
        CHECK(decodes_to(vec[i][1], vec[i][0]), "decode '%s'", vec[i][1]);
        free(e);
    }
    unsigned char buf[300];
    int round_trips = 1;
    for (size_t n = 0; n <= sizeof buf; n++) {
        for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)next_u32();
        char *e = b64_encode(buf, n);
        unsigned char *d = NULL;
        size_t dn = 0;
        const char *why;
        round_trips &= e && b64_decode(e, &d, &dn, &why) == 0 && dn == n && memcmp(d, buf, n) == 0;
        free(e), free(d);
    }
    CHECK(round_trips, "random buffers 0..300 bytes round-trip");
    CHECK(decodes_to("data:image/png;base64,Zm9vYmFy", "foobar"), "data: URL prefix");
    CHECK(decodes_to("Zm9v\nYmFy\r\n", "foobar"), "white space ignored");
    CHECK(decodes_to("Zm9vYg", "foob"), "missing padding tolerated");
    static const char *bad[] = {"Zm9v!", "Zm9vY", "Zm=9v", "Zg===", "=", "Zg=a", "data:image/png,Zm9v",
                                "data:;base64", "Zm9v\x80", "Z"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK(refused(bad[i]), "malformed '%s' refused", bad[i]);

    static const char alphabet[] = "AZaz09+/=\n =data:;base64,\x01\xff";
    int consistent = 1;
    for (int t = 0; t < 20000; t++) {
        char s[64];
        size_t n = next_u32() % 63;
        for (size_t i = 0; i < n; i++) s[i] = alphabet[next_u32() % (sizeof alphabet - 1)];
        s[n] = 0;
        unsigned char *d = NULL;
        size_t dn = 0;
        const char *why = NULL;
        if (b64_decode(s, &d, &dn, &why) == 0) {
            /* Whatever was accepted must re-encode to a string that decodes
             * back to the same bytes. */
            char *e = b64_encode(d, dn);
            unsigned char *d2 = NULL;
            size_t dn2 = 0;
            consistent &= e && b64_decode(e, &d2, &dn2, &why) == 0 && dn2 == dn && !memcmp(d, d2, dn);
            free(e), free(d2);
        } else {
            consistent &= d == NULL && why != NULL;
        }
        free(d);
    }
    CHECK(consistent, "random strings: refused cleanly or consistent");
    return test_finish();
}
