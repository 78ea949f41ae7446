/* fuzz_safetensors.c — the safetensors reader (formats/safetensors.c) on any
 * file: open, then every accessor on whatever it accepts. */
#include "fuzz_util.h"
#include "formats/safetensors.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[1024];
    fuzz_write("w.safetensors", data, size, path, sizeof path);
    t2i_st_file *f = NULL;
    if (t2i_st_open(path, &f) != T2I_OK) return 0;
    t2i_st_metadata(f, "format");
    for (int i = 0; i < t2i_st_count(f); i++) {
        const t2i_st_tensor *t = t2i_st_get(f, i);
        if (t2i_st_find(f, t->name) != t) abort();   /* names are unique */
        int64_t n = t2i_st_numel(t);
        if (n < 0) abort();
        if (n <= (1 << 20)) {
            float *dst = malloc((size_t)n * sizeof *dst + 1);
            if (!dst) abort();
            t2i_st_read_f32(t, dst);
            free(dst);
        }
    }
    t2i_st_find(f, "");
    t2i_st_close(f);
    return 0;
}
