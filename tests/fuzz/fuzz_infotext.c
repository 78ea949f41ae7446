/* fuzz_infotext.c — the A1111 "parameters" text (product/infotext.c): parse
 * any text, format what was parsed, parse that again. */
#include "fuzz_util.h"
#include "t2i.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    t2i_infotext it;
    if (t2i_infotext_parse(text, &it) == T2I_OK) {
        char *again = NULL;
        if (t2i_infotext_format(&it, &again) == T2I_OK) {
            t2i_infotext it2;
            t2i_infotext_parse(again, &it2);
            t2i_infotext_free(&it2);
            free(again);
        }
    }
    t2i_infotext_free(&it);
    free(text);
    return 0;
}
