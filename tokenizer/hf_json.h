/*
 * hf_json.h — reading a Hugging Face `tokenizers` file (tokenizer.json), the
 * only vocabulary file transformers 5 writes into a tokenizer folder.
 *
 * The file holds the model (its type, vocabulary and, for BPE, the merges),
 * the added tokens with their ids and flags, and the normalizer and
 * pre-tokenizer pipelines. t2i implements two fixed pipelines — CLIP's
 * byte-level BPE (clip_bpe.h) and BERT's WordPiece (wordpiece.h) — so the
 * file is read for its data and its settings are CHECKED against what those
 * tokenizers do: a model type, normalizer or pre-tokenizer they do not
 * implement is T2I_ERR_UNSUPPORTED naming the key ("model.type",
 * "normalizer", "pre_tokenizer.pretokenizers[0].pattern", ...) and the
 * value found. The post-processor is not read: the sequence is framed from
 * the bos/eos (CLIP) or cls/sep (BERT) tokens of tokenizer_config.json, as
 * transformers 5 frames it.
 */
#ifndef T2I_TOKENIZER_HF_JSON_H
#define T2I_TOKENIZER_HF_JSON_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "t2i.h"

/* dir/tokenizer.json parsed: *root = NULL (and OK) when the file does not
 * exist; else a JSON object the caller cJSON_Deletes. path receives the file
 * name for messages. Malformed JSON -> T2I_ERR_FORMAT naming the path. */
t2i_status t2i_hf_json_open(const char *dir, char *path, size_t path_size, cJSON **root);

/* The "model" object, whose "type" must be `type` ("BPE", "WordPiece"),
 * with a "vocab" object of token -> integer id. A different type ->
 * T2I_ERR_UNSUPPORTED "path: key 'model.type': ... (supported here: <type>)". */
t2i_status t2i_hf_json_model(const cJSON *root, const char *path, const char *type, const cJSON **model);

/* Walk model.vocab: put(ctx, token, id) for each entry; an id that is not an
 * integer in [0, INT32_MAX] -> T2I_ERR_FORMAT naming the token. *max_id is
 * the largest id seen. */
typedef t2i_status (*t2i_hf_put_fn)(void *ctx, const char *token, int32_t id);
t2i_status t2i_hf_json_vocab(const cJSON *model, const char *path, t2i_hf_put_fn put, void *ctx,
                             int32_t *max_id);

/* Walk "added_tokens": add(ctx, content, id, normalized, where) for each.
 * Entries need an integer "id" and a string "content"; "lstrip", "rstrip"
 * and "single_word" set to true are unsupported (named). */
typedef t2i_status (*t2i_hf_add_fn)(void *ctx, const char *content, int32_t id, int normalized,
                                    const char *where);
t2i_status t2i_hf_json_added(const cJSON *root, const char *path, t2i_hf_add_fn add, void *ctx);

/* Check that the value at `key` (of `obj`, named `key` in messages) matches
 * the JSON text `expected`: objects key by key (keys of the file that
 * `expected` lacks are an error unless listed in `ignore`, a '|'-separated
 * list of key names whose value does not change the ids), arrays entry by
 * entry, other values equal. Absent counts as null. Mismatch ->
 * T2I_ERR_UNSUPPORTED "path: key '<key>[.sub...]': unsupported value ...". */
t2i_status t2i_hf_json_expect(const cJSON *obj, const char *path, const char *key, const char *expected,
                              const char *ignore);

#endif
