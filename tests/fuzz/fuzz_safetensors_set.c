/* fuzz_safetensors_set.c — the sharded index (formats/safetensors_set.c).
 * The input is the index json ("diffusion_pytorch_model.safetensors.index.json")
 * of a folder holding two valid shards a.safetensors ("x", "y") and
 * b.safetensors ("z"); bytes after a line "--shard--" become a third shard,
 * c.safetensors (absent when there is no such line). */
#include "fuzz_util.h"
#include "formats/safetensors.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_shard(const char *name, const char *t1, const char *t2)
{
    t2i_st_writer *w = NULL;
    int64_t shape[2] = {2, 3};
    float v[6] = {1, 2, 3, 4, 5, 6};
    char path[1024];
    fuzz_path(name, path, sizeof path);
    if (t2i_st_writer_create(&w) || t2i_st_writer_add(w, t1, T2I_F32, 2, shape, v) ||
        (t2 && t2i_st_writer_add(w, t2, T2I_F16, 1, shape, v)) || t2i_st_writer_save(w, path))
        abort();
    t2i_st_writer_destroy(w);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    write_shard("a.safetensors", "x", "y");
    write_shard("b.safetensors", "z", NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n--shard--\n";
    const uint8_t *shard = NULL;
    size_t index_size = size;
    for (size_t i = 0; i + sizeof sep - 1 <= size; i++)
        if (!memcmp(data + i, sep, sizeof sep - 1)) {
            shard = data + i + sizeof sep - 1;
            index_size = i;
            break;
        }
    char path[1024];
    if (shard) fuzz_write("c.safetensors", shard, size - (size_t)(shard - data), path, sizeof path);
    else unlink(fuzz_path("c.safetensors", path, sizeof path));
    fuzz_write("diffusion_pytorch_model.safetensors.index.json", data, index_size, path, sizeof path);

    t2i_st_set *s = NULL;
    if (t2i_st_set_open_dir(fuzz_tmpdir(), &s) != T2I_OK) return 0;
    for (int i = 0; i < t2i_st_set_file_count(s); i++) {
        const t2i_st_file *f = t2i_st_set_file(s, i);
        for (int k = 0; k < t2i_st_count(f); k++)
            if (!t2i_st_set_find(s, t2i_st_get(f, k)->name)) abort();
    }
    t2i_st_set_find(s, "x");
    t2i_st_set_destroy(s);
    return 0;
}
