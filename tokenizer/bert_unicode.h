/*
 * bert_unicode.h — the Unicode properties of BERT's text clean-up and
 * pre-tokenizer, as the HuggingFace `tokenizers` library (which transformers'
 * BertTokenizer runs on) answers them.
 *
 * Generated data (tokenizer/bert_unicode.c, by scripts/gen/gen_bert_unicode.py),
 * probed code point by code point from the installed library rather than
 * derived from a Unicode version: its Rust tables (the unicode_categories
 * crate) are older than Python's unicodedata. NFD and lower-casing come from
 * tokenizer/unicode_tables.h, which mirrors the same library.
 */
#ifndef T2I_BERT_UNICODE_H
#define T2I_BERT_UNICODE_H

#include <stdint.h>

int t2i_bert_is_removed(uint32_t cp);          /* clean_text drops it (NUL, U+FFFD, controls) */
int t2i_bert_is_to_space(uint32_t cp);         /* clean_text turns it into " " */
int t2i_bert_is_chinese(uint32_t cp);          /* handle_chinese_chars pads it with spaces */
int t2i_bert_is_mark_nonspacing(uint32_t cp);  /* strip_accents drops it after NFD */
int t2i_bert_is_white(uint32_t cp);            /* pre-tokenizer: splits, dropped */
int t2i_bert_is_punct(uint32_t cp);            /* pre-tokenizer: splits, kept alone */

#endif
