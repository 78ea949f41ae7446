/*
 * text_norm.c — NFD and NFC (see text_norm.h).
 */
#include "tokenizer/text_norm.h"

#include "tokenizer/unicode_tables.h"

/* Hangul syllable arithmetic (Unicode chapter 3.12). */
enum { S_BASE = 0xAC00, L_BASE = 0x1100, V_BASE = 0x1161, T_BASE = 0x11A7,
       L_COUNT = 19, V_COUNT = 21, T_COUNT = 28, N_COUNT = V_COUNT * T_COUNT,
       S_COUNT = L_COUNT * N_COUNT };

int t2i_nfd_append(const uint32_t *in, size_t n, t2i_cp_buf *out)
{
    size_t base = out->n;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = in[i], d[T2I_UC_MAX_SEQ];
        if (c >= S_BASE && c < S_BASE + S_COUNT) {
            uint32_t s = c - S_BASE;
            if (!t2i_cp_push(out, L_BASE + s / N_COUNT) || !t2i_cp_push(out, V_BASE + (s % N_COUNT) / T_COUNT))
                return 0;
            if (s % T_COUNT && !t2i_cp_push(out, T_BASE + s % T_COUNT)) return 0;
            continue;
        }
        int k = t2i_uc_decompose(c, d);
        if (!k) { if (!t2i_cp_push(out, c)) return 0; continue; }
        for (int j = 0; j < k; j++) if (!t2i_cp_push(out, d[j])) return 0;
    }
    if (out->n == base) return 1;   /* nothing appended: out->v may be NULL, and NULL + 0 is undefined */
    uint32_t *v = out->v + base;
    /* canonical ordering: stable insertion sort of each run of non-starters */
    for (size_t i = 1, m = out->n - base; i < m; i++) {
        int cc = t2i_uc_ccc(v[i]);
        if (!cc) continue;
        uint32_t c = v[i];
        size_t j = i;
        while (j > 0 && t2i_uc_ccc(v[j - 1]) > cc) { v[j] = v[j - 1]; j--; }
        v[j] = c;
    }
    return 1;
}

static uint32_t compose_two(uint32_t a, uint32_t b)
{
    if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE && b < V_BASE + V_COUNT)
        return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
    if (a >= S_BASE && a < S_BASE + S_COUNT && (a - S_BASE) % T_COUNT == 0 &&
        b > T_BASE && b < T_BASE + T_COUNT)
        return a + (b - T_BASE);
    return t2i_uc_compose(a, b);
}

int t2i_nfc_append(const uint32_t *in, size_t n, t2i_cp_buf *out)
{
    size_t base = out->n;
    if (!t2i_nfd_append(in, n, out)) return 0;
    size_t m = out->n - base;
    if (m == 0) return 1;   /* before the pointer arithmetic: out->v may be NULL */
    uint32_t *v = out->v + base;
    /* composition (the algorithm of UAX #15's sample code): a character
     * joins the last starter unless a character of equal or higher class,
     * or a starter, stands between them */
    size_t starter = 0, w = 1;
    int last_cc = t2i_uc_ccc(v[0]) ? 256 : 0;
    for (size_t i = 1; i < m; i++) {
        uint32_t c = v[i];
        int cc = t2i_uc_ccc(c);
        uint32_t comp = compose_two(v[starter], c);
        if (comp && (last_cc < cc || last_cc == 0)) {
            v[starter] = comp;
            continue;
        }
        if (cc == 0) starter = w;
        last_cc = cc;
        v[w++] = c;
    }
    out->n = base + w;
    return 1;
}
