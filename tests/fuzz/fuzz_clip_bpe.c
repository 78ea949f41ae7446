/* fuzz_clip_bpe.c — CLIP's BPE tokenizer (tokenizer/clip_bpe.c with
 * added_tokens.c, text_norm.c, utf8.c) on any text, with the tiny vocabulary
 * of tests/fixtures/tiny-sd1/tokenizer. */
#include "fuzz_util.h"
#include "tokenizer/clip_bpe.h"

#include <stdio.h>
#include <stdlib.h>

static t2i_clip_tokenizer *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (t2i_clip_tokenizer_load(T2I_SOURCE_DIR "/tests/fixtures/tiny-sd1/tokenizer", &tok) != T2I_OK) {
        fprintf(stderr, "fuzz_clip_bpe: %s\n", t2i_last_error());
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    int32_t *ids = NULL, padded[77];
    int n = 0;
    if (t2i_clip_tokenize(tok, text, &ids, &n) == T2I_OK) {
        for (int i = 0; i < n; i++)
            if (ids[i] < 0 || ids[i] >= t2i_clip_vocab_size(tok)) abort();
        free(ids);
        if (t2i_clip_encode_padded(tok, text, padded, 77) != T2I_OK) abort();
    }
    free(text);
    return 0;
}
