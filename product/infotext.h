/*
 * infotext.h — the A1111 web UI "parameters" text stored in generated PNGs.
 *
 *   a photo of a cat,
 *   on a sofa                       <- prompt (may span lines)
 *   Negative prompt: blurry         <- omitted when empty
 *   Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1234, Size: 512x512, Model: sd15
 *
 * Format (modules/processing.py create_infotext): prompt, "\nNegative prompt:
 * " + negative if non-empty, "\n" + "k: v, k: v, ..." for the parameters
 * that are set, then the whole text stripped of surrounding whitespace. A
 * value containing ',', ':' or a newline is written as a JSON string
 * (A1111 quote(): json.dumps(v, ensure_ascii=False)). Key order: Steps,
 * Sampler, CFG scale, Seed, Size, Model, then the extra pairs in order.
 * CFG is written as Python's repr of the float would be (shortest form that
 * reads back to the same float, "7.0" not "7").
 *
 * Parse (modules/infotext_utils.py parse_generation_parameters): the last
 * line holds the parameters if the regex
 *     \s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)
 * finds at least 3 pairs in it; otherwise it belongs to the prompt. Each
 * earlier line is stripped; lines from "Negative prompt:" on form the
 * negative prompt. Quoted values are unquoted (JSON). Known keys fill the
 * fields; "Size: WxH" gives width and height; everything else (and a known
 * key whose value does not parse) goes to the extra list verbatim.
 * Consequence of A1111's rule: leading/trailing spaces of prompt lines do not
 * survive a round trip.
 */
#ifndef T2I_INFOTEXT_H
#define T2I_INFOTEXT_H

#include <stdint.h>
#include "t2i.h"

/* The struct and functions are public: include/t2i.h, "PNG files and
 * infotext". */

#endif /* T2I_INFOTEXT_H */
