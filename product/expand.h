/*
 * expand.h — prompt expansion behind t2i_prompt_expand (include/t2i.h).
 *
 * Not a language model: a small grammar over hand-written phrase tables and
 * a seeded PRNG, so that the same (prompt, seed) always gives the same text
 * and costs microseconds.
 *
 *  1. Language: a prompt with any CJK ideograph uses the Chinese tables and
 *     joins phrases with "，"; otherwise English tables and ", ".
 *  2. Subject class, from keyword lists (English words, Chinese
 *     substrings): person, animal, landscape, city/architecture, food,
 *     object/vehicle, fantasy creature, or generic. The class picks the
 *     detail and scene tables and the style categories that fit it.
 *  3. The PRNG (splitmix64 seeded with seed ^ FNV-1a(prompt)) draws two
 *     details, a scene, a lighting, a composition and a quality phrase, and
 *     one style from the built-in catalog among the fitting categories —
 *     With users' preferences (feedback, t2i_style_pref) of total weight W
 *     for the subject: a liked style with probability W / (W + 1), chosen
 *     ∝ its weight (weights are odds against exploring), else as above.
 *  4. Assembly within the budget: the user's text, kept verbatim, then the
 *     style (English: its template applied, e.g. "oil painting of {prompt},
 *     …"; Chinese: "<中文名>风格"), then each phrase in the order above,
 *     each added only if the whole still fits max_tokens (tokens as the
 *     model's tokenizer counts them: CLIP BPE, or WordPiece for Chinese
 *     BERT models; without a model an upper estimate:
 *     one per ASCII word or punctuation mark, three per other character).
 *     A phrase that does not fit is skipped and the next tried; the style
 *     is dropped if even it alone does not fit; a prompt over the budget by
 *     itself comes back unchanged.
 */
#ifndef T2I_EXPAND_H
#define T2I_EXPAND_H

#include "t2i.h"

#define T2I_EXPAND_DEFAULT_TOKENS 75

/* Subject classes of step 2 (exposed for tests). */
typedef enum t2i_subject {
    T2I_SUBJECT_GENERIC = 0,
    T2I_SUBJECT_PERSON,
    T2I_SUBJECT_ANIMAL,
    T2I_SUBJECT_LANDSCAPE,
    T2I_SUBJECT_CITY,
    T2I_SUBJECT_FOOD,
    T2I_SUBJECT_OBJECT,
    T2I_SUBJECT_FANTASY,
    T2I_SUBJECT_COUNT
} t2i_subject;

t2i_subject t2i_expand_subject(const char *prompt);
/* "generic", "person", "animal", "landscape", "city", "food", "object",
 * "fantasy" (t2i_prompt_subject in t2i.h returns these). */
extern const char *const t2i_subject_names[T2I_SUBJECT_COUNT];
int t2i_expand_is_cjk(const char *utf8);   /* 1 if any CJK ideograph */

/* t2i_prompt_expand with the style step optional (style = 0: none, for
 * callers that apply the user's own styles). */
t2i_status t2i_prompt_expand_ex(const t2i_model *m, const char *prompt, uint64_t seed, int max_tokens, int style,
                                char **out, const char **style_id);

/* The same, the style picked with users' preferences (t2i.h
 * t2i_style_pref, see step 3). prefs NULL / n_prefs 0, or none for the
 * prompt's subject: exactly t2i_prompt_expand_ex. */
t2i_status t2i_prompt_expand_prefs(const t2i_model *m, const char *prompt, uint64_t seed, int max_tokens, int style,
                                   const t2i_style_pref *prefs, int n_prefs, char **out, const char **style_id);

/* Tokens of text as the expansion counts them (see step 4). */
int t2i_expand_count_tokens(const t2i_model *m, const char *text);

#endif
