/* fuzz_hf_tokenizer.c — a tokenizer folder holding only a Hugging Face
 * tokenizer.json (tokenizer/hf_json.c through the CLIP BPE and WordPiece
 * loaders): any bytes as tokenizer.json; whatever loads must then tokenize
 * a fixed English and Chinese text into non-negative ids. (A file may give
 * sparse or large ids; the text encoder refuses ids past its embedding
 * table, so a bound on the ids is not the tokenizer's to check.) */
#include "fuzz_util.h"
#include "tokenizer/clip_bpe.h"
#include "tokenizer/wordpiece.h"

#include <stdlib.h>

static const char *const text = "a red circle on a blue background, 一只猫 <|endoftext|> [SEP]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4096];
    fuzz_write("tokenizer.json", data, size, path, sizeof path);
    int32_t *ids = NULL;
    int n = 0;
    t2i_clip_tokenizer *bpe = NULL;
    if (t2i_clip_tokenizer_load(fuzz_tmpdir(), &bpe) == T2I_OK) {
        if (t2i_clip_tokenize(bpe, text, &ids, &n) == T2I_OK)
            for (int i = 0; i < n; i++)
                if (ids[i] < 0) abort();
        free(ids);
        t2i_clip_tokenizer_destroy(bpe);
    }
    ids = NULL;
    n = 0;
    t2i_wordpiece *wp = NULL;
    if (t2i_wordpiece_load(fuzz_tmpdir(), &wp) == T2I_OK) {
        if (t2i_wordpiece_tokenize(wp, text, &ids, &n) == T2I_OK)
            for (int i = 0; i < n; i++)
                if (ids[i] < 0) abort();
        free(ids);
        t2i_wordpiece_destroy(wp);
    }
    return 0;
}
