/* fuzz_prompt.c — the prompt language parser (tokenizer/prompt_parse.c). The
 * first byte picks the number of steps (1..256), the rest is the prompt. */
#include "fuzz_util.h"
#include "tokenizer/prompt_parse.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int steps = data[0] + 1;
    char *text = fuzz_cstr(data + 1, size - 1);
    t2i_prompt_has_syntax(text);
    t2i_prompt_schedule s;
    t2i_prompt_error err;
    if (t2i_prompt_parse(text, steps, &s, &err) == T2I_OK) {
        if (s.n < 1 || s.end_at_step[s.n - 1] != steps) abort();
        for (int i = 0; i < steps; i++) {
            int e = t2i_prompt_schedule_entry(&s, i);
            if (e < 0 || e >= s.n) abort();
        }
        for (int i = 0; i < s.n; i++) t2i_prompt_segments_equal(&s.parts[i], &s.parts[0]);
        t2i_prompt_schedule_free(&s);
    }
    free(text);
    return 0;
}
