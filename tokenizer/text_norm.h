/*
 * text_norm.h — Unicode normalization forms over code-point arrays, as the
 * tokenizers need them: NFD for BERT's strip_accents (wordpiece.c), NFC for
 * CLIP's normalizer (clip_bpe.c).
 *
 * Both follow Unicode's algorithm: full canonical decomposition (Hangul
 * syllables algorithmically, everything else from tokenizer/unicode_tables.h),
 * canonical ordering of each run of non-starters (a stable sort by combining
 * class), and for NFC primary composition as in UAX #15's sample code.
 */
#ifndef T2I_TEXT_NORM_H
#define T2I_TEXT_NORM_H

#include <stddef.h>
#include <stdint.h>
#include "tokenizer/utf8.h"

/* NFD / NFC of in[0..n) appended to out. Return 0 when out of memory. */
int t2i_nfd_append(const uint32_t *in, size_t n, t2i_cp_buf *out);
int t2i_nfc_append(const uint32_t *in, size_t n, t2i_cp_buf *out);

#endif
