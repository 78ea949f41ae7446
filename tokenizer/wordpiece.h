/*
 * wordpiece.h — BERT's WordPiece tokenizer (vocab.txt), giving exactly the
 * ids of transformers' BertTokenizer as installed in the project's Python
 * environment (transformers 5.x: the `tokenizers`-backed class). It is the
 * tokenizer of Chinese text encoders such as Taiyi-Stable-Diffusion's.
 *
 * The steps, in order:
 *
 *  1. Added tokens whose "normalized" flag is false (the special tokens
 *     [PAD] [UNK] [CLS] [SEP] [MASK] and such entries of tokenizer_config.json's
 *     added_tokens_decoder) are cut out of the raw text, leftmost-longest,
 *     case-sensitively; each becomes its id.
 *  2. Every other segment goes through BertNormalizer, one code point at a
 *     time: clean_text (NUL, U+FFFD and control characters dropped, white
 *     space -> " "); handle_chinese_chars (tokenize_chinese_chars: each CJK
 *     ideograph padded with spaces); strip_accents (NFD, then non-spacing
 *     marks dropped; when tokenizer_config.json leaves it null it follows
 *     do_lower_case); lower-casing (do_lower_case).
 *  3. Added tokens with normalized = true are cut out of the normalized text.
 *  4. BertPreTokenizer: white space splits and is dropped; each punctuation
 *     character is a word of its own.
 *  5. WordPiece per word: a word longer than 100 code points is [UNK];
 *     otherwise greedy longest-prefix matching against the vocabulary, pieces
 *     after the first prefixed with "##"; if some position has no match the
 *     whole word is [UNK].
 *
 * vocab.txt is read as the `tokenizers` library reads it: lines split at
 * "\n", trailing white space removed, id = line index, a later duplicate
 * wins. Unicode properties: tokenizer/bert_unicode.h. Not supported: the
 * lstrip / rstrip / single_word flags of added tokens (BERT vocabularies'
 * special tokens have none); special tokens missing from vocab.txt are an
 * error here (transformers would append them with new ids).
 *
 * Input text must be valid UTF-8; otherwise T2I_ERR_INVALID_ARG names the
 * byte offset. Files are hostile input: size-limited, UTF-8 checked, errors
 * name the file and line.
 */
#ifndef T2I_WORDPIECE_H
#define T2I_WORDPIECE_H

#include <stdint.h>
#include "t2i.h"

typedef struct t2i_wordpiece t2i_wordpiece;

/* Load a tokenizer folder: vocab.txt and the optional tokenizer_config.json
 * (do_lower_case, strip_accents, tokenize_chinese_chars, model_max_length,
 * unk/sep/pad/cls/mask tokens as strings or {"content": ...} objects,
 * added_tokens_decoder) and special_tokens_map.json. On success *out is owned
 * by the caller (t2i_wordpiece_destroy). */
t2i_status t2i_wordpiece_load(const char *dir, t2i_wordpiece **out);
void t2i_wordpiece_destroy(t2i_wordpiece *t);   /* accepts NULL */

/* Token ids of utf8 without [CLS]/[SEP] and without truncation. On success
 * *ids is a malloc'd array of *n ids (NULL when *n == 0) the caller frees. */
t2i_status t2i_wordpiece_tokenize(const t2i_wordpiece *t, const char *utf8, int32_t **ids, int *n);

/* tokenizer(text, padding="max_length", max_length=max_len, truncation=True):
 * [CLS], the ids truncated to max_len - 2, [SEP], then [PAD] up to max_len.
 * out_ids has room for max_len ids; max_len >= 2. */
t2i_status t2i_wordpiece_encode_padded(const t2i_wordpiece *t, const char *utf8, int32_t *out_ids, int max_len);

int32_t t2i_wordpiece_cls(const t2i_wordpiece *t);
int32_t t2i_wordpiece_sep(const t2i_wordpiece *t);
int32_t t2i_wordpiece_pad(const t2i_wordpiece *t);
int32_t t2i_wordpiece_unk(const t2i_wordpiece *t);
/* model_max_length of tokenizer_config.json; 0 when absent (transformers
 * then has no limit and padding to it is impossible). */
int t2i_wordpiece_max_length(const t2i_wordpiece *t);
int t2i_wordpiece_vocab_size(const t2i_wordpiece *t);   /* lines of vocab.txt */

#endif
