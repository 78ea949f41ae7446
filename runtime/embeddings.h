/*
 * embeddings.h — textual-inversion embeddings, used by file name in prompts.
 *
 * Files (.safetensors only): A1111's {"emb_params": [n, C]} (SD 1.x/2.x) or
 * {"clip_l": [n, C1], "clip_g": [n, C2]} (SDXL, one set of rows per
 * encoder), and diffusers' learned_embeds {"<token>": [C] or [n, C]} (one
 * tensor, any name). The name a prompt uses is the file name without
 * ".safetensors", whatever token the file was trained under (as A1111).
 *
 * How a prompt uses them (A1111's modules/sd_hijack_clip.py and
 * textual_inversion.py): the embedding directory is scanned for files whose
 * name occurs in the prompt or negative prompt (case-insensitively; the rest
 * are not opened, so a broken file only matters once used); each is loaded
 * and its name tokenized. While a prompt segment's tokens are laid into
 * chunks (runtime/conditioning.c), a run of tokens equal to an embedding's
 * name tokens (the longest such name first) is replaced by its n vectors,
 * moved whole to the next chunk when the current one cannot hold them,
 * carrying the segment's weight. In the id sequences those vectors are the
 * ids vocab_size + row, row indexing the loaded vectors — the ids diffusers'
 * load_textual_inversion gives to its added tokens in the same way.
 *
 * Encoding a sequence with such ids (runtime/text_encoder.c): the token
 * embedding rows are gathered on the host — ordinary ids from the text
 * encoder's token_embedding weight (read back from the device), the others
 * from the embeddings — and fed to the encoder built with a "token_embeds"
 * input (graph/build.h), compiled once per encoder and length; the plain
 * path is untouched. For SDXL's pooled output the position is found with the
 * embedding ids counted as token 0 (A1111's placeholders).
 */
#ifndef T2I_EMBEDDINGS_H
#define T2I_EMBEDDINGS_H

#include <stdint.h>
#include "runtime/model.h"

/* Load the embeddings of `dir` that `prompt` or `negative` (either may be
 * NULL) may name, replacing those of the previous run; dir NULL or "" = none.
 * A file that fails to load is kept as its error, reported only when a
 * prompt's tokens use its name (a substring such as "art" in "party" does
 * not): T2I_ERR_IO, T2I_ERR_FORMAT (no usable tensor), T2I_ERR_INVALID_ARG
 * (a width that is not the text encoder's, an SD embedding on SDXL or the
 * reverse), naming the file and tensor. Errors here: T2I_ERR_IO (the
 * folder), T2I_ERR_UNSUPPORTED (a BERT text encoder), T2I_ERR_NOMEM. */
t2i_status t2i_embeddings_prepare(t2i_model *m, const char *dir, const char *prompt, const char *negative);

/* The embedding whose name tokens start at ids[pos] (ids[0..n)): returns 1
 * with the number of name tokens *n_name, the vectors' ids *first ..
 * *first + *n_vectors − 1; 0 if none. When that file failed to load, *err
 * is its error (set as the last error), else T2I_OK. */
int t2i_embeddings_match(const t2i_model *m, const int32_t *ids, int n, int pos, int *n_name, int *n_vectors,
                         int32_t *first, t2i_status *err);

/* Whether ids[0..L) holds an embedding id. */
int t2i_embeddings_in(const t2i_model *m, const int32_t *ids, int L);
/* Embedding ids → 0, in place. */
void t2i_embeddings_mask(const t2i_model *m, int32_t *ids, int L);

/* The [1, L] token-embeds plan of encoder `which` (0, or 1 = SDXL's
 * text_encoder_2) with its input gathered for ids. */
t2i_status t2i_embeddings_plan(t2i_model *m, int which, const int32_t *ids, int L, t2i_plan **out);

void t2i_embeddings_free(t2i_model *m);   /* model destroy */

#endif
