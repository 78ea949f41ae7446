/*
 * prompt_parse.h — the prompt language of the A1111 web UI: attention weights,
 * BREAK and prompt editing, parsed into (text, weight) segments per sampling
 * step. Pure text processing; tokenising and encoding the segments is
 * runtime/conditioning.h's job.
 *
 *   (text)            weight × 1.1
 *   (text:1.5)        weight × 1.5        (any signed decimal number)
 *   [text]            weight ÷ 1.1        (× 1/1.1, as A1111 computes it)
 *   nesting           multiplies: ((a:1.3)) = 1.3 · 1.1, computed innermost
 *                     first so that the doubles equal A1111's bit for bit
 *   \( \) \[ \] \\    literal characters; a backslash escapes any character
 *                     (also \: and \|), a trailing lone backslash is literal
 *   BREAK             (upper case, a whole word) ends the current 75-token
 *                     chunk; white space around it is dropped (within the
 *                     run of text between brackets, as A1111 splits it)
 *   [from:to:when]    prompt editing: `from` up to step `when`, then `to`
 *   [to:when]         nothing, then `to`;  [from::when]  `from`, then nothing
 *   [a|b|c]           alternation: a, b, c, a, … one option per step
 *
 * Schedules follow A1111's get_learned_conditioning_prompt_schedules: `when`
 * < 1 is a fraction of the steps (when · steps), otherwise a step number; it
 * is truncated to an integer and capped at `steps`. The schedule is a list of
 * entries (end_at_step, segments), ascending, the last ending at `steps`;
 * switch points below 1 add no entry. Sampling step i (0-based) uses the
 * first entry with i <= end_at_step, and inside an entry ending at step t an
 * edit shows `from` while t <= when — A1111's rule exactly, including its
 * off-by-one: [a:b:3] over 10 steps draws `a` for steps 0..3 and `b` for
 * 4..9.
 *
 * Segments: adjacent pieces of equal weight are merged (A1111 tokenises each
 * merged piece on its own, so "(a)(b)" is the one piece "ab"); an empty
 * prompt is one segment ("", 1.0); a BREAK is a segment with is_break set.
 *
 * Checked against A1111's own prompt_parser.py on 400 random prompts of the
 * language (tests/fixtures/prompts/a1111_parse.json): identical schedules,
 * texts and weights (bit for bit).
 *
 * Where this parser departs from A1111, deliberately (A1111 is lenient: its
 * grammar falls back to literal text, its attention regex closes whatever is
 * open at the end):
 *   - unbalanced or mismatched brackets are errors: "(a", "a)", "[a", "a]",
 *     "(a]" (A1111: open brackets apply to the rest of the prompt, stray
 *     closers are literal text);
 *   - inside [ ], a ':' makes an edit, and the part after the last ':' must
 *     be a number: "[a:b]" and "[a:b:c]" are errors (A1111: de-emphasised
 *     literal "a:b"); more than two ':' or a mix of ':' and '|' in one pair of
 *     brackets are errors;
 *   - inside ( ), ":<something>)" must be a valid number when <something>
 *     consists only of number characters (digits . + - e E) or is empty:
 *     "(a:1.2.3)", "(a:)" are errors (A1111 raises or keeps the text);
 *     "(a:b)" and "(16:9 frame)" stay literal, as in A1111;
 *   - a weight written outside parentheses, "word:1.2" (a letter, ')' or ']'
 *     right before ':', a number right after it, then white space, ',' or the
 *     end) is an error that says to write "(word:1.2)"; "16:9", "10:30",
 *     "note: 2 cats" stay literal;
 *   - BREAK inside brackets still breaks the chunk (A1111 multiplies the
 *     BREAK marker's weight and so turns it into the literal word "BREAK");
 *   - "\x" for any x is x (A1111 drops a backslash before other characters);
 *   - word boundaries for BREAK count ASCII letters, digits, '_' and every
 *     non-ASCII byte as word characters (Python's \b is Unicode-aware);
 *   - "AND" (A1111's composable diffusion) is not supported: it is a word;
 *   - numbers: [+-] (digits [. digits] | . digits) [e|E [+-] digits] (lark's
 *     SIGNED_NUMBER), converted with strtod in the "C" locale's format;
 *     weights whose nested product exceeds 1e4 in magnitude are an error.
 * Limits: T2I_PROMPT_MAX_BYTES of input, T2I_PROMPT_MAX_DEPTH nested brackets
 * (errors past either, never a crash on any input).
 */
#ifndef T2I_PROMPT_PARSE_H
#define T2I_PROMPT_PARSE_H

#include <stddef.h>
#include "t2i.h"

#define T2I_PROMPT_MAX_BYTES (64 * 1024)
#define T2I_PROMPT_MAX_DEPTH 32

/* Where and why a prompt is malformed. `column` counts UTF-8 characters from
 * 1; `byte` counts bytes from 0; both point at the offending character. */
typedef struct t2i_prompt_error {
    size_t byte;
    int column;
    char message[200];
} t2i_prompt_error;

typedef struct t2i_prompt_segment {
    char *text;       /* UTF-8, owned, "" allowed (and "" for a BREAK) */
    double weight;    /* emphasis multiplier, 1.0 for plain text */
    int is_break;     /* 1: BREAK (start a new chunk) */
} t2i_prompt_segment;

typedef struct t2i_prompt_segments {
    t2i_prompt_segment *v;
    int n;
} t2i_prompt_segments;

typedef struct t2i_prompt_schedule {
    int n;                       /* entries, >= 1 */
    int *end_at_step;            /* [n] ascending; end_at_step[n-1] == steps */
    t2i_prompt_segments *parts;  /* [n] the segments of each entry */
} t2i_prompt_schedule;

/* Parse utf8 for a run of `steps` (>= 1) sampling steps. On success *out
 * holds the schedule (free with t2i_prompt_schedule_free). On malformed input
 * returns T2I_ERR_INVALID_ARG with t2i_last_error() =
 * "prompt: column C (byte B): <what>" and, if err is not NULL, the same
 * facts in *err; *out is then empty. T2I_ERR_NOMEM on allocation failure. */
t2i_status t2i_prompt_parse(const char *utf8, int steps, t2i_prompt_schedule *out, t2i_prompt_error *err);

/* The entry sampling step `step` (0-based) uses. */
int t2i_prompt_schedule_entry(const t2i_prompt_schedule *s, int step);

/* 1 if two segment lists are identical (texts, weights, breaks). */
int t2i_prompt_segments_equal(const t2i_prompt_segments *a, const t2i_prompt_segments *b);

void t2i_prompt_schedule_free(t2i_prompt_schedule *s);   /* accepts NULL / empty */

/* 1 if text contains any prompt-language syntax: ( ) [ ] \ or the word
 * BREAK. Plain prompts take the same path, this is for callers that want to
 * say "weights used" in logs. */
int t2i_prompt_has_syntax(const char *utf8);

#endif
