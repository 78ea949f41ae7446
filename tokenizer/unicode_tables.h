/*
 * unicode_tables.h — the Unicode properties the CLIP tokenizer needs.
 *
 * Generated data (tokenizer/unicode_tables.c, by scripts/gen/gen_unicode_tables.py)
 * from Python's unicodedata, corrected where the installed HuggingFace
 * `tokenizers` library (which transformers' CLIPTokenizer runs on) answers
 * differently for code points assigned in newer Unicode versions. Lookups are
 * bisections over sorted tables; ASCII takes a fast path.
 *
 *   letter / number / space   \p{L}, \p{N} and \s of the pre-tokenizer regex
 *   lower                     per-character full lower-casing (no context)
 *   ccc / decompose / compose canonical combining class, full canonical
 *                             decomposition and primary composition: what NFC
 *                             needs besides the algorithmic Hangul rules
 */
#ifndef T2I_UNICODE_TABLES_H
#define T2I_UNICODE_TABLES_H

#include <stdint.h>

/* Longest lower-casing or full canonical decomposition of one code point. */
#define T2I_UC_MAX_SEQ 4

int t2i_uc_is_letter(uint32_t cp);   /* general category L* */
int t2i_uc_is_number(uint32_t cp);   /* general category N* */
int t2i_uc_is_space(uint32_t cp);    /* White_Space */

/* Writes the lower-case form of cp (1..T2I_UC_MAX_SEQ code points) to out and
 * returns its length; cp itself when it has none. */
int t2i_uc_lower(uint32_t cp, uint32_t out[T2I_UC_MAX_SEQ]);

/* Canonical combining class (0 for starters). */
int t2i_uc_ccc(uint32_t cp);

/* Full canonical decomposition of cp (Hangul syllables excluded) into out;
 * returns its length, or 0 when cp does not decompose. */
int t2i_uc_decompose(uint32_t cp, uint32_t out[T2I_UC_MAX_SEQ]);

/* The primary composite of the pair (a, b), or 0 (Hangul excluded). */
uint32_t t2i_uc_compose(uint32_t a, uint32_t b);

#endif
