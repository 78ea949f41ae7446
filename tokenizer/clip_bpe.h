/*
 * clip_bpe.h — CLIP's byte-level BPE tokenizer (vocab.json + merges.txt),
 * giving exactly the ids of transformers' CLIPTokenizer.
 *
 * Reference: transformers 5.x as installed in the project's Python
 * environment. There, CLIPTokenizer is the `tokenizers`-backed class (the
 * former "slow" Python CLIPTokenizer, with its ftfy / BasicTokenizer text
 * clean-up, no longer exists; ftfy is not installed either). So this file
 * reproduces the `tokenizers` pipeline that class builds, not the
 * transformers 4.x slow path. The visible consequences: CJK text is not
 * split into one word per character, accents are kept, control characters
 * are kept as byte tokens, "!" is the special pad token of SD 2.x folders.
 * The steps, in order:
 *
 *  1. Added tokens (bos, eos, unk, pad and tokenizer_config.json's
 *     added_tokens_decoder) whose "normalized" flag is false are cut out of the
 *     raw text, leftmost-longest, case-sensitively; each becomes its id.
 *  2. Every other segment is normalized: NFC, each run of white space
 *     (Unicode White_Space) -> one " ", then per-character lower-casing.
 *  3. Added tokens with normalized = true are cut out of the normalized text.
 *  4. Pre-tokenizer: the regex
 *       <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
 *     keeps its matches (leftmost alternative wins) and drops the rest; then
 *     GPT-2's byte-level regex re-splits each match, which only changes the
 *     two special strings: "<|endoftext|>" -> "<|", "endoftext", "|>".
 *  5. Each piece's UTF-8 bytes are mapped to printable characters
 *     (bytes_to_unicode), "</w>" is appended to the last one, each symbol is
 *     looked up (missing -> unk id, one per symbol) and merges are applied,
 *     lowest rank first, leftmost on ties.
 *
 * Input text must be valid UTF-8; otherwise T2I_ERR_INVALID_ARG names the
 * byte offset. vocab.json / merges.txt are checked like any hostile input:
 * a merge whose parts or result are not in the vocabulary, a merges line
 * without exactly two space-separated parts, an id out of range ->
 * T2I_ERR_FORMAT naming the file (and line).
 */
#ifndef T2I_CLIP_BPE_H
#define T2I_CLIP_BPE_H

#include <stdint.h>
#include "t2i.h"

typedef struct t2i_clip_tokenizer t2i_clip_tokenizer;

/* Load a tokenizer folder: vocab.json and merges.txt, and optionally
 * tokenizer_config.json (which wins) / special_tokens_map.json for
 * bos/eos/unk/pad tokens ("<|endoftext|>" pad for SD 1.x, "!" for SD 2.x),
 * their "normalized" flags and model_max_length (default 77). On success
 * *out is owned by the caller (t2i_clip_tokenizer_destroy). */
t2i_status t2i_clip_tokenizer_load(const char *dir, t2i_clip_tokenizer **out);
void t2i_clip_tokenizer_destroy(t2i_clip_tokenizer *t);   /* accepts NULL */

/* Token ids of utf8 without BOS/EOS and without truncation. On success *ids
 * is a malloc'd array of *n ids (NULL when *n == 0) that the caller frees. */
t2i_status t2i_clip_tokenize(const t2i_clip_tokenizer *t, const char *utf8,
                             int32_t **ids, int *n);

/* tokenizer(text, padding="max_length", max_length=max_len, truncation=True):
 * BOS, the ids truncated to max_len - 2, EOS, then pad ids up to max_len.
 * out_ids has room for max_len ids; max_len >= 2. */
t2i_status t2i_clip_encode_padded(const t2i_clip_tokenizer *t, const char *utf8,
                                  int32_t *out_ids, int max_len);

/* Make `content` (a vocabulary token) the padding token, as a
 * tokenizer_config.json "pad_token" would (an added token, not normalized,
 * cut out of prompts): SD 2.x pads with "!" (id 0). T2I_ERR_FORMAT when it
 * is not in the vocabulary. */
t2i_status t2i_clip_set_pad(t2i_clip_tokenizer *t, const char *content);

int32_t t2i_clip_bos(const t2i_clip_tokenizer *t);
int32_t t2i_clip_eos(const t2i_clip_tokenizer *t);
int32_t t2i_clip_pad(const t2i_clip_tokenizer *t);
int t2i_clip_max_length(const t2i_clip_tokenizer *t);   /* model_max_length */
int t2i_clip_vocab_size(const t2i_clip_tokenizer *t);   /* entries of vocab.json */

#endif
