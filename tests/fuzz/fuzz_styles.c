/* fuzz_styles.c — the style catalog loader (product/styles.c,
 * t2i_styles_load: TSV or A1111 CSV, told apart by the header line) on any
 * file; a loaded catalog is then applied: its first style by English name and
 * its last by id with a weight. */
#include "fuzz_util.h"
#include "t2i.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[1024];
    fuzz_write("styles.csv", data, size, path, sizeof path);
    t2i_styles *s = NULL;
    if (t2i_styles_load(path, &s) != T2I_OK) return 0;
    int n = t2i_styles_count(s);
    for (int i = 0; i < n; i++) {
        const t2i_style *st = t2i_styles_get(s, i);
        if (!st || !st->id || !st->name_en || !st->prompt || !st->negative_prompt) abort();
    }
    if (n > 0) {
        char w[300];
        const t2i_style *a = t2i_styles_get(s, 0), *b = t2i_styles_get(s, n - 1);
        snprintf(w, sizeof w, "%.250s:0.5", b->id);
        const char *use[2] = {a->name_en, w};
        char *p = NULL, *q = NULL;
        if (t2i_styles_apply(s, use, a == b ? 1 : 2, "a cat", "", &p, &q) == T2I_OK) t2i_free(p), t2i_free(q);
        t2i_styles_find(s, a->id);
    }
    t2i_styles_destroy(s);
    return 0;
}
