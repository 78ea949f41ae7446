/* fuzz_wordpiece.c — BERT's WordPiece tokenizer (tokenizer/wordpiece.c with
 * bert_unicode.c, added_tokens.c) on any text, with the Taiyi vocabulary of
 * tests/fixtures/tiny-taiyi/tokenizer (lower-casing, accents stripped, CJK
 * split). */
#include "fuzz_util.h"
#include "tokenizer/wordpiece.h"

#include <stdio.h>
#include <stdlib.h>

static t2i_wordpiece *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (t2i_wordpiece_load(T2I_SOURCE_DIR "/tests/fixtures/tiny-taiyi/tokenizer", &tok) != T2I_OK) {
        fprintf(stderr, "fuzz_wordpiece: %s\n", t2i_last_error());
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    int32_t *ids = NULL, padded[64];
    int n = 0;
    if (t2i_wordpiece_tokenize(tok, text, &ids, &n) == T2I_OK) {
        for (int i = 0; i < n; i++)
            if (ids[i] < 0 || ids[i] >= t2i_wordpiece_vocab_size(tok)) abort();
        free(ids);
        if (t2i_wordpiece_encode_padded(tok, text, padded, 64) != T2I_OK) abort();
    }
    free(text);
    return 0;
}
