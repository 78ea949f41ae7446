#!/usr/bin/env python3
"""Generate tokenizer/unicode_tables.c: the Unicode data the CLIP tokenizer
needs, from Python's unicodedata (Unicode 14.0 in Python 3.11).

Tables (all sorted, searched by bisection):
  letter_ranges  code points of general category L* (Lu Ll Lt Lm Lo)   = \\p{L}
  number_ranges  code points of general category N* (Nd Nl No)         = \\p{N}
  space_ranges   the White_Space property (what Oniguruma's \\s matches
                 in a Unicode string): str.isspace() minus U+001C..U+001F
  lower_map      per-code-point unconditional full lower-casing
                 (chr(c).lower() on one character: no final-sigma context,
                 U+0130 -> "i" U+0307), as Rust's char::to_lowercase does
  ccc_ranges     canonical combining class, runs of equal non-zero class
  decomp_map     full (recursive) canonical decomposition, Hangul excluded
  compose_map    primary composites (pair -> composite) for NFC: canonical
                 2-character decompositions of characters that NFC keeps

Where the installed `tokenizers` library (which transformers' CLIPTokenizer
runs on) disagrees with unicodedata for a code point, its answer is used
(see tokenizers_overlay: every code point is probed through its normalizers
and its Oniguruma regex; the header of the output says how many differ).

usage: /work/pyenv/bin/python scripts/gen/gen_unicode_tables.py > tokenizer/unicode_tables.c
"""
import sys
import unicodedata as ud

MAXCP = 0x110000


def is_surrogate(c):
    return 0xD800 <= c <= 0xDFFF


def ranges(pred):
    out, start = [], None
    for c in range(MAXCP + 1):
        ok = c < MAXCP and pred(c)
        if ok and start is None:
            start = c
        elif not ok and start is not None:
            out.append((start, c - 1))
            start = None
    return out


def is_letter(c):
    return ud.category(chr(c)).startswith("L")


def is_number(c):
    return ud.category(chr(c)).startswith("N")


def is_space(c):
    return chr(c).isspace() and not (0x1C <= c <= 0x1F)


def lower_map():
    m = []
    for c in range(MAXCP):
        if is_surrogate(c):
            continue
        lo = chr(c).lower()
        if lo != chr(c):
            m.append((c, [ord(x) for x in lo]))
    return m


def ccc_ranges():
    out = []
    for c in range(MAXCP):
        k = ud.combining(chr(c))
        if k == 0:
            continue
        if out and out[-1][1] == c - 1 and out[-1][2] == k:
            out[-1][1] = c
        else:
            out.append([c, c, k])
    return out


def is_hangul_syllable(c):
    return 0xAC00 <= c < 0xAC00 + 11172


def decomp_map():
    m = []
    for c in range(MAXCP):
        if is_surrogate(c) or is_hangul_syllable(c):
            continue
        d = ud.decomposition(chr(c))
        if not d or d.startswith("<"):
            continue
        full = ud.normalize("NFD", chr(c))
        m.append((c, [ord(x) for x in full]))
    return m


def compose_map_ud():
    m = []
    for c in range(MAXCP):
        if is_surrogate(c) or is_hangul_syllable(c):
            continue
        d = ud.decomposition(chr(c))
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        if len(parts) == 2 and ud.normalize("NFC", chr(c)) == chr(c):
            m.append((parts[0], parts[1], c))
    m.sort()
    return m


def emit_ranges(name, rs):
    print(f"static const t2i_uc_range {name}[{len(rs)}] = {{")
    for i in range(0, len(rs), 4):
        print("    " + " ".join(f"{{0x{a:05X}, 0x{b:05X}}}," for a, b in rs[i:i + 4]))
    print("};\n")


def emit_map(name, m, width):
    # entries: code point, length, then `width` code points
    print(f"static const t2i_uc_mapping {name}[{len(m)}] = {{")
    for c, seq in m:
        vals = ", ".join(f"0x{x:05X}" for x in seq + [0] * (width - len(seq)))
        print(f"    {{0x{c:05X}, {len(seq)}, {{{vals}}}}},")
    print("};\n")


def tokenizers_overlay():
    """Where the installed `tokenizers` library (Rust + Oniguruma, Unicode 15/16)
    disagrees with Python's unicodedata — code points assigned after Unicode 14,
    and U+11938 whose decomposition unicode-normalization does not apply — its
    answer wins, because the tokenizer must equal transformers' CLIPTokenizer.
    Returns (class overrides, lower overrides, decomposition overrides,
    composition pairs it does not compose), or None without `tokenizers`."""
    try:
        from tokenizers import normalizers, pre_tokenizers, Regex
    except ImportError:
        return None
    lower, nfd, nfc = normalizers.Lowercase(), normalizers.NFD(), normalizers.NFC()
    split = pre_tokenizers.Split(Regex(r"[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"), behavior="removed", invert=True)
    cls_fix, lower_fix, decomp_fix = {}, {}, {}
    for c in range(MAXCP):
        if is_surrogate(c):
            continue
        ch = chr(c)
        n_a = len(split.pre_tokenize_str("a" + ch + "a"))
        n_x = len(split.pre_tokenize_str("!" + ch + "!"))
        got = "L" if n_a == 1 else "S" if n_a == 2 else "P" if n_x == 1 else "N"
        want = "L" if is_letter(c) else "N" if is_number(c) else "S" if is_space(c) else "P"
        if got != want:
            cls_fix[c] = got
        lo = lower.normalize_str(ch)
        if lo != ch.lower():
            lower_fix[c] = [ord(x) for x in lo]
        if not is_hangul_syllable(c):
            d = nfd.normalize_str(ch)
            if d != ud.normalize("NFD", ch):
                decomp_fix[c] = [ord(x) for x in d]
    no_compose = set()
    for a, b, comp in compose_map_ud():
        if nfc.normalize_str(chr(a) + chr(b)) != chr(comp):
            no_compose.add((a, b))
    return cls_fix, lower_fix, decomp_fix, no_compose


def generate():
    ov = tokenizers_overlay()
    cls_fix, lower_fix, decomp_fix, no_compose = ov if ov else ({}, {}, {}, set())
    cls = lambda c: cls_fix.get(c) or ("L" if is_letter(c) else "N" if is_number(c)
                                       else "S" if is_space(c) else "P")
    letters = ranges(lambda c: cls(c) == "L")
    numbers = ranges(lambda c: cls(c) == "N")
    spaces = ranges(lambda c: cls(c) == "S")
    lower = dict(lower_map())
    for c, seq in lower_fix.items():
        if seq == [c]:
            lower.pop(c, None)
        else:
            lower[c] = seq
    lower = sorted(lower.items())
    decomp = dict(decomp_map())
    for c, seq in decomp_fix.items():
        if seq == [c]:
            decomp.pop(c, None)
        else:
            decomp[c] = seq
    decomp = sorted(decomp.items())
    comp = [p for p in compose_map_ud() if (p[0], p[1]) not in no_compose]
    ccc = ccc_ranges()
    width = max(max(len(s) for _, s in lower), max(len(s) for _, s in decomp))
    assert width <= 4, width
    print("/* unicode_tables.c — GENERATED by scripts/gen/gen_unicode_tables.py from")
    print(f" * Python {sys.version.split()[0]} unicodedata (Unicode {ud.unidata_version}). Do not edit.")
    if ov:
        import tokenizers
        print(f" * Overridden where tokenizers {tokenizers.__version__} disagrees (newer Unicode):")
        print(f" * {len(cls_fix)} classes, {len(lower_fix)} lower-casings, {len(decomp_fix)} decompositions,")
        print(f" * {len(no_compose)} compositions.")
    else:
        print(" * (tokenizers not importable: no overlay; see the script.)")
    print(" * See unicode_tables.h for what each table means. */")
    print('#include <stddef.h>')
    print('#include "tokenizer/unicode_tables.h"\n')
    print("typedef struct { uint32_t lo, hi; } t2i_uc_range;")
    print("typedef struct { uint32_t lo, hi, ccc; } t2i_uc_class_range;")
    print("typedef struct { uint32_t cp; uint32_t len; uint32_t seq[4]; } t2i_uc_mapping;")
    print("typedef struct { uint32_t a, b, composite; } t2i_uc_pair;\n")
    emit_ranges("letter_ranges", letters)
    emit_ranges("number_ranges", numbers)
    emit_ranges("space_ranges", spaces)
    emit_map("lower_map", lower, 4)
    emit_map("decomp_map", decomp, 4)
    print(f"static const t2i_uc_class_range ccc_ranges[{len(ccc)}] = {{")
    for a, b, k in ccc:
        print(f"    {{0x{a:05X}, 0x{b:05X}, {k}}},")
    print("};\n")
    print(f"static const t2i_uc_pair compose_map[{len(comp)}] = {{")
    for a, b, c in comp:
        print(f"    {{0x{a:05X}, 0x{b:05X}, 0x{c:05X}}},")
    print("};\n")
    print(LOOKUPS)


LOOKUPS = r"""
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int in_ranges(const t2i_uc_range *r, int n, uint32_t cp)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < r[mid].lo) hi = mid - 1;
        else if (cp > r[mid].hi) lo = mid + 1;
        else return 1;
    }
    return 0;
}

static const t2i_uc_mapping *find_mapping(const t2i_uc_mapping *m, int n, uint32_t cp)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < m[mid].cp) hi = mid - 1;
        else if (cp > m[mid].cp) lo = mid + 1;
        else return &m[mid];
    }
    return NULL;
}

int t2i_uc_is_letter(uint32_t cp)
{
    if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    return in_ranges(letter_ranges, COUNT(letter_ranges), cp);
}

int t2i_uc_is_number(uint32_t cp)
{
    if (cp < 0x80) return cp >= '0' && cp <= '9';
    return in_ranges(number_ranges, COUNT(number_ranges), cp);
}

int t2i_uc_is_space(uint32_t cp)
{
    return in_ranges(space_ranges, COUNT(space_ranges), cp);
}

int t2i_uc_lower(uint32_t cp, uint32_t out[T2I_UC_MAX_SEQ])
{
    if (cp < 0x80) {
        out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
        return 1;
    }
    const t2i_uc_mapping *m = find_mapping(lower_map, COUNT(lower_map), cp);
    if (!m) { out[0] = cp; return 1; }
    for (uint32_t i = 0; i < m->len; i++) out[i] = m->seq[i];
    return (int)m->len;
}

int t2i_uc_ccc(uint32_t cp)
{
    if (cp < 0x300) return 0;
    int lo = 0, hi = COUNT(ccc_ranges) - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < ccc_ranges[mid].lo) hi = mid - 1;
        else if (cp > ccc_ranges[mid].hi) lo = mid + 1;
        else return (int)ccc_ranges[mid].ccc;
    }
    return 0;
}

int t2i_uc_decompose(uint32_t cp, uint32_t out[T2I_UC_MAX_SEQ])
{
    if (cp < 0xC0) return 0;
    const t2i_uc_mapping *m = find_mapping(decomp_map, COUNT(decomp_map), cp);
    if (!m) return 0;
    for (uint32_t i = 0; i < m->len; i++) out[i] = m->seq[i];
    return (int)m->len;
}

uint32_t t2i_uc_compose(uint32_t a, uint32_t b)
{
    int lo = 0, hi = COUNT(compose_map) - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const t2i_uc_pair *p = &compose_map[mid];
        if (a < p->a || (a == p->a && b < p->b)) hi = mid - 1;
        else if (a > p->a || (a == p->a && b > p->b)) lo = mid + 1;
        else return p->composite;
    }
    return 0;
}"""


if __name__ == "__main__":
    generate()
