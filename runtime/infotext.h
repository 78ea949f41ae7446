/*
 * infotext.h — the A1111 web UI "parameters" text stored in generated PNGs.
 *
 *   a photo of a cat,
 *   on a sofa                       <- prompt (may span lines)
 *   Negative prompt: blurry         <- omitted when empty
 *   Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1234, Size: 512x512, Model: sd15
 *
 * Format (modules/processing.py create_infotext): prompt, "\nNegative prompt:
 * " + negative if non-empty, "\n" + "k: v, k: v, ..." for the parameters
 * that are set, then the whole text stripped of surrounding whitespace. A
 * value containing ',', ':' or a newline is written as a JSON string
 * (A1111 quote(): json.dumps(v, ensure_ascii=False)). Key order: Steps,
 * Sampler, CFG scale, Seed, Size, Model, then the extra pairs in order.
 * CFG is written as Python's repr of the float would be (shortest form that
 * reads back to the same float, "7.0" not "7").
 *
 * Parse (modules/infotext_utils.py parse_generation_parameters): the last
 * line holds the parameters if the regex
 *     \s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)
 * finds at least 3 pairs in it; otherwise it belongs to the prompt. Each
 * earlier line is stripped; lines from "Negative prompt:" on form the
 * negative prompt. Quoted values are unquoted (JSON). Known keys fill the
 * fields; "Size: WxH" gives width and height; everything else (and a known
 * key whose value does not parse) goes to the extra list verbatim.
 * Consequence of A1111's rule: leading/trailing spaces of prompt lines do not
 * survive a round trip.
 */
#ifndef T2I_INFOTEXT_H
#define T2I_INFOTEXT_H

#include <stdint.h>
#include "t2i.h"

typedef struct t2i_infotext_kv {
    const char *key, *value;
} t2i_infotext_kv;

/* Strings are UTF-8. When built by a caller for t2i_infotext_format, the
 * caller owns them; when filled by t2i_infotext_parse, the struct owns them
 * (free with t2i_infotext_free). */
typedef struct t2i_infotext {
    const char *prompt;            /* NULL or "" = empty */
    const char *negative;          /* NULL or "" = none */
    int steps;                     /* <= 0: absent */
    const char *sampler;           /* NULL or "": absent (A1111 name, "Euler a") */
    int has_cfg;
    float cfg;
    int has_seed;
    uint64_t seed;
    int width, height;             /* either <= 0: Size absent */
    const char *model;             /* NULL or "": absent */
    int n_extra;
    const t2i_infotext_kv *extra;  /* appended after Model, in order */
} t2i_infotext;

/* All fields absent. */
void t2i_infotext_init(t2i_infotext *it);

/* Build the text; *out is malloc'ed (free with free()). T2I_ERR_NOMEM, or
 * T2I_ERR_INVALID_ARG for an extra with a NULL/empty key. */
t2i_status t2i_infotext_format(const t2i_infotext *it, char **out);

/* Parse `text` into *it (initialised here; owns its strings afterwards, also
 * on failure — call t2i_infotext_free either way). Never fails on content:
 * anything unrecognised ends up in the prompt or the extras, as in A1111.
 * T2I_ERR_NOMEM only. */
t2i_status t2i_infotext_parse(const char *text, t2i_infotext *it);

/* Free the strings of a parsed infotext and reset it (accepts NULL). */
void t2i_infotext_free(t2i_infotext *it);

#endif /* T2I_INFOTEXT_H */
