/*
 * conditioning.h — prompts (with the prompt language, any length) → the
 * UNet's "context": the A1111 web UI's long-prompt and emphasis semantics
 * (modules/sd_hijack_clip.py, emphasis "Original").
 *
 *  1. tokenizer/prompt_parse.h turns the text into (text, weight) segments,
 *     one list per prompt-editing schedule entry.
 *  2. Each segment is tokenised on its own (t2i_clip_tokenize) and its
 *     tokens appended to 75-token chunks, each token with its segment's
 *     weight. Comma back-off: when a chunk is full and the last ',' in it is
 *     at most 20 tokens back, the tokens after that comma move to the next
 *     chunk. BREAK closes the chunk (padding it). Each chunk becomes
 *     BOS + 75 + EOS: [BOS, tokens, EOS, pad…] (for SD 1.x pad = EOS, as
 *     A1111; for SD 2.x pad = "!", as A1111's OpenCLIP path), weight 1.0 on
 *     BOS/EOS/pad. A plain prompt of <= 75 tokens is thus exactly the padded
 *     ids diffusers' tokenizer gives.
 *  3. Each chunk goes through the text encoder on its own ([1,77] plan);
 *     then z ← z·w per token, and z ← z · mean(z_before) / mean(z_after),
 *     the mean over the chunk's 77×C values (skipped when all w are 1, and
 *     when the weighted mean is 0). Chunks are concatenated: [77·k, C].
 *  4. Every conditioning of a run (negative and positive, every distinct
 *     schedule entry) is padded to the largest chunk count K with the
 *     embedding of the empty prompt, one chunk at a time — A1111 pads the
 *     shorter of cond/uncond the same way; the UNet plan is then compiled
 *     once for a context of 77·K tokens.
 *
 * Other text encoders (runtime/text_encoder.h):
 *  - SDXL: the chunks are tokenizer 1's (tokenizer_2 differs only in its pad
 *    token, replaced per chunk); each chunk's context is the concatenation
 *    of both encoders' penultimate states, and the emphasis of step 3 is
 *    applied to each encoder's channels separately (A1111 weights each
 *    embedder on its own); the pooled output of a conditioning is that of
 *    its first chunk (as A1111). With force_zeros_for_empty_prompt, an empty
 *    negative prompt is zeros (context and pooled), as diffusers does.
 *  - BERT (Taiyi): one chunk of the tokenizer's model_max_length (512):
 *    [CLS] tokens [SEP] [PAD]…, each segment tokenized on its own with its
 *    weight, tokens past 510 dropped (diffusers' StableDiffusionPipeline
 *    truncates there), BREAK ignored, emphasis as above. A plain prompt is
 *    exactly diffusers' tokenizer(text, padding to 512) and embedding.
 *
 * Departures from A1111, both from its batching: A1111 takes the mean of
 * step 3 over all the texts it encodes in one batch (the entries of one
 * prompt-editing schedule); here each text's chunk has its own mean, which
 * is what A1111 computes for a prompt without editing. A1111 would run
 * schedule entries of different chunk counts with different context lengths;
 * here they are padded to K like the negative prompt.
 */
#ifndef T2I_CONDITIONING_H
#define T2I_CONDITIONING_H

#include <stdint.h>
#include "runtime/model.h"
#include "tokenizer/clip_bpe.h"
#include "tokenizer/prompt_parse.h"

#define T2I_CHUNK_TOKENS 75     /* tokens per chunk between BOS and EOS */
#define T2I_COMMA_BACKTRACK 20  /* A1111 opts.comma_padding_backtrack */
#define T2I_MAX_CHUNKS 32       /* 2,400 tokens: longer prompts are an error */

/* Token ids and per-token weights of one prompt, in chunks of chunk_len =
 * T2I_CHUNK_TOKENS + 2 (77). */
typedef struct t2i_prompt_chunks {
    int n_chunks;
    int chunk_len;
    int32_t *ids;    /* [n_chunks][chunk_len] */
    float *mult;     /* [n_chunks][chunk_len] */
} t2i_prompt_chunks;

/* Tokenise and chunk `segs` (step 2). chunk_len = the tokenizer's
 * model_max_length (77). On success the caller frees *out with
 * t2i_prompt_chunks_free. T2I_ERR_INVALID_ARG past T2I_MAX_CHUNKS chunks. */
t2i_status t2i_prompt_chunks_build(const t2i_clip_tokenizer *tok, const t2i_prompt_segments *segs,
                                   t2i_prompt_chunks *out);
void t2i_prompt_chunks_free(t2i_prompt_chunks *c);   /* accepts NULL */

/* Encode chunks with the model's text encoder and apply the weights (step 3).
 * out has room for n_chunks · chunk_len · hidden_size floats. */
t2i_status t2i_prompt_chunks_encode(t2i_model *m, const t2i_prompt_chunks *c, float *out);
/* The same, with the first chunk's pooled output [P] (SDXL) in pooled when
 * not NULL. */
t2i_status t2i_prompt_chunks_encode_pooled(t2i_model *m, const t2i_prompt_chunks *c, float *out, float *pooled);

/* Everything the sampler loop needs, computed before it. */
typedef struct t2i_conditioning {
    int n_chunks;        /* K */
    int ctx_len;         /* K · 77: the UNet's context length */
    int hidden;          /* C */
    int n_distinct;      /* distinct conditionings */
    float *emb;          /* [n_distinct][ctx_len][C] */
    int32_t *ids;        /* [n_distinct][ctx_len] (for stage dumps) */
    int steps;
    int *pos_at_step;    /* [steps] index into emb for the prompt */
    int *neg_at_step;    /* [steps] the same for the negative; NULL if none */
    int pooled_dim;      /* P: SDXL's pooled text embedding, else 0 */
    float *pooled;       /* [n_distinct][P] (SDXL), else NULL */
} t2i_conditioning;

/* Parse, chunk and encode `prompt` and, unless negative is NULL, the
 * negative prompt ("" = empty) for a run of `steps` sampling steps. Syntax
 * errors are T2I_ERR_INVALID_ARG with the column (prefixed "negative prompt"
 * for the negative). Free with t2i_conditioning_free. */
t2i_status t2i_conditioning_build(t2i_model *m, const char *prompt, const char *negative, int steps,
                                  t2i_conditioning *out);
void t2i_conditioning_free(t2i_conditioning *c);   /* accepts NULL / empty */

#endif
