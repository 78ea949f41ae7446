/*
 * lora.c — reading LoRA files and merging them into a model's weight stores
 * (the rules are in lora.h).
 *
 * A set is applied in three passes: (1) every file is opened and each of its
 * adapted layers resolved to a weight of the text encoder(s) or UNet and
 * shape-checked; (2) the originals kept for the previous set are written
 * back; (3) for each weight the new set touches, its stored bytes are kept,
 * read as FP32, each LoRA's delta added in the order of the set, and the
 * result converted back to the backend's weight dtype and uploaded in place
 * (plans point at the stores, so they see the new values without a
 * recompile).
 */
#include "runtime/lora.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <cjson/cJSON.h>

#include "base/error.h"
#include "formats/safetensors.h"

enum { COMP_TEXT, COMP_TEXT2, COMP_UNET, N_COMP };
static const char *const comp_name[N_COMP] = {"text_encoder", "text_encoder_2", "unet"};

/* One weight of a store under the name a LoRA may use for it. */
typedef struct alias {
    char *key;     /* "down_blocks.0.resnets.0.conv1" or "down_blocks_0_resnets_0_conv1" */
    int entry;     /* index in the store (t2i_weights_entry) */
} alias;

typedef struct comp_index {
    t2i_weights *w;
    alias *dotted, *kohya;   /* sorted by key */
    int n;
} comp_index;

/* One adapted layer of one file of the set. */
typedef struct module {
    int comp, entry, order;  /* order: the file's place in the set */
    const t2i_st_tensor *down, *up;
    float scale;             /* user weight · alpha / r */
} module;

typedef struct kept {
    int comp, entry;
    void *bytes;
    size_t nbytes;
} kept;

struct t2i_lora_state {
    int n_applied;
    char **paths;
    float *weights;
    kept *kept;
    int n_kept;
};

/* ---- names ------------------------------------------------------------------ */

static int by_key(const void *a, const void *b) { return strcmp(((const alias *)a)->key, ((const alias *)b)->key); }

static void index_free(comp_index *ix)
{
    for (int i = 0; i < ix->n; i++) {
        free(ix->dotted[i].key);
        free(ix->kohya[i].key);
    }
    free(ix->dotted);
    free(ix->kohya);
    memset(ix, 0, sizeof *ix);
}

/* Every "<module>.weight" of the store, as "<module>" and in kohya's form. */
static t2i_status index_build(t2i_weights *w, comp_index *ix)
{
    memset(ix, 0, sizeof *ix);
    ix->w = w;
    if (!w) return T2I_OK;
    int n = t2i_weights_count(w);
    ix->dotted = calloc((size_t)n + 1, sizeof *ix->dotted);
    ix->kohya = calloc((size_t)n + 1, sizeof *ix->kohya);
    if (!ix->dotted || !ix->kohya) return t2i_fail(T2I_ERR_NOMEM, "lora: out of memory");
    for (int i = 0; i < n; i++) {
        int nd;
        const int64_t *ne;
        void *data;
        const char *name = t2i_weights_entry(w, i, &nd, &ne, &data);
        size_t len = strlen(name);
        if (len < 8 || strcmp(name + len - 7, ".weight") != 0) continue;
        char *d = strndup(name, len - 7), *k = strndup(name, len - 7);
        if (!d || !k) {
            free(d), free(k);
            return t2i_fail(T2I_ERR_NOMEM, "lora: out of memory");
        }
        for (char *p = k; *p; p++)
            if (*p == '.') *p = '_';
        ix->dotted[ix->n] = (alias){d, i};
        ix->kohya[ix->n++] = (alias){k, i};
    }
    qsort(ix->dotted, (size_t)ix->n, sizeof *ix->dotted, by_key);
    qsort(ix->kohya, (size_t)ix->n, sizeof *ix->kohya, by_key);
    return T2I_OK;
}

static int index_find(const alias *a, int n, const char *key)
{
    alias k = {(char *)key, 0};
    const alias *hit = bsearch(&k, a, (size_t)n, sizeof *a, by_key);
    return hit ? hit->entry : -1;
}

/* The tensor roles, by suffix. */
enum { ROLE_DOWN, ROLE_UP, ROLE_ALPHA, ROLE_COUNT };
static const struct { const char *down, *up; } pairs[] = {
    {".lora_down.weight", ".lora_up.weight"},   /* kohya */
    {".lora_A.weight", ".lora_B.weight"},       /* PEFT */
    {".lora.down.weight", ".lora.up.weight"},   /* diffusers before PEFT */
};
#define N_PAIRS (int)(sizeof pairs / sizeof pairs[0])

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n > k && strcmp(s + n - k, suf) == 0;
}

/* Which pair and role a tensor name has; -1 if none. */
static int tensor_role(const char *name, int *pair)
{
    for (int p = 0; p < N_PAIRS; p++) {
        *pair = p;
        if (ends_with(name, pairs[p].down)) return ROLE_DOWN;
        if (ends_with(name, pairs[p].up)) return ROLE_UP;
    }
    *pair = -1;
    return ends_with(name, ".alpha") ? ROLE_ALPHA : -1;
}

/* The component and store entry a module key names (key: the tensor name
 * without its role suffix). */
static t2i_status resolve(const t2i_model *m, comp_index *ix, const char *file, const char *tensor,
                          const char *key, int *comp, int *entry)
{
    static const struct { const char *prefix; int comp, kohya; } forms[] = {
        {"lora_unet_", COMP_UNET, 1},     {"lora_te1_", COMP_TEXT, 1},      {"lora_te2_", COMP_TEXT2, 1},
        {"lora_te_", COMP_TEXT, 1},       {"unet.", COMP_UNET, 0},          {"text_encoder_2.", COMP_TEXT2, 0},
        {"text_encoder.", COMP_TEXT, 0},  {"", COMP_UNET, 0},   /* diffusers UNet-only files */
    };
    const int sdxl = m->text_kind == T2I_TEXT_SDXL;
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        size_t pl = strlen(forms[f].prefix);
        if (strncmp(key, forms[f].prefix, pl) != 0) continue;
        const int is_te12 = forms[f].comp == COMP_TEXT2 || strcmp(forms[f].prefix, "lora_te1_") == 0;
        if (is_te12 && !sdxl)
            return t2i_fail(T2I_ERR_INVALID_ARG,
                            "lora %s: tensor '%s' is for SDXL's two text encoders; the model has one "
                            "(a LoRA for SDXL on an SD 1.x/2.x model?)", file, tensor);
        const comp_index *c = &ix[forms[f].comp];
        const char *rest = key + pl;
        int e = -1;
        if (forms[f].kohya) {
            e = index_find(c->kohya, c->n, rest);
            char mapped[512];
            if (e < 0 && forms[f].comp == COMP_UNET && t2i_lora_ldm_name(&m->unet_cfg, rest, mapped, sizeof mapped))
                e = index_find(c->kohya, c->n, mapped);
        } else {
            e = index_find(c->dotted, c->n, rest);
            if (e < 0 && forms[f].comp != COMP_UNET) {   /* transformers 5 files drop "text_model." */
                char buf[512];
                snprintf(buf, sizeof buf, "text_model.%s", rest);
                e = index_find(c->dotted, c->n, buf);
            }
        }
        if (e < 0)
            return t2i_fail(T2I_ERR_INVALID_ARG, "lora %s: tensor '%s' names no weight of the model's %s", file,
                            tensor, comp_name[forms[f].comp]);
        *comp = forms[f].comp;
        *entry = e;
        return T2I_OK;
    }
    return T2I_ERR_INTERNAL;   /* the "" form matches every key */
}

/* ---- reading a file ------------------------------------------------------------ */

static void shape_str(int nd, const int64_t *ne, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < nd && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%lld", i ? "," : "", (long long)ne[i]);
    if (len < n) snprintf(buf + len, n - len, "]");
}

static int is_float(t2i_dtype d) { return d == T2I_F32 || d == T2I_F16 || d == T2I_BF16; }

/* down [r, K…] and up [out, r(,1,1)] must fit the weight [out, …] with
 * numel(down) / r = numel(weight) / out. */
static t2i_status check_fit(const comp_index *ix, const module *md, const char *file, const char *down_name,
                            const char *up_name)
{
    int nd;
    const int64_t *ne;
    void *data;
    const char *wname = t2i_weights_entry(ix[md->comp].w, md->entry, &nd, &ne, &data);
    if (t2i_weights_entry_dtype(ix[md->comp].w, md->entry) == T2I_I8)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "lora %s: weight '%s' of the model's %s is stored INT8 (precision "
                        "int8w); merging LoRAs into INT8 weights is not implemented yet: use fp32", file, wname,
                        comp_name[md->comp]);
    const t2i_st_tensor *d = md->down, *u = md->up;
    int64_t numel = 1;
    for (int i = 0; i < nd; i++) numel *= ne[i];
    const int64_t r = d->ndim >= 1 ? d->shape[0] : 0;
    const int up_ok = (u->ndim == 2 || (u->ndim == 4 && u->shape[2] == 1 && u->shape[3] == 1)) && u->shape[1] == r &&
                      u->shape[0] == ne[0];
    const int down_ok = (d->ndim == 2 || d->ndim == 4) && r > 0 && t2i_st_numel(d) / r * ne[0] == numel;
    if (up_ok && down_ok) return T2I_OK;
    char ws[96], ds[96], us[96];
    shape_str(nd, ne, ws, sizeof ws);
    shape_str(d->ndim, d->shape, ds, sizeof ds);
    shape_str(u->ndim, u->shape, us, sizeof us);
    return t2i_fail(T2I_ERR_INVALID_ARG,
                    "lora %s: tensor '%s' %s does not fit weight '%s' %s of the model's %s (with '%s' %s)", file,
                    down_ok ? up_name : down_name, down_ok ? us : ds, wname, ws, comp_name[md->comp],
                    down_ok ? down_name : up_name, down_ok ? ds : us);
}

/* PEFT scale from diffusers' "lora_adapter_metadata": lora_alpha / r per
 * component (1 without it). */
static t2i_status peft_scales(const t2i_st_file *f, const char *file, float scale[N_COMP])
{
    for (int c = 0; c < N_COMP; c++) scale[c] = 1.0f;
    const char *md = t2i_st_metadata(f, "lora_adapter_metadata");
    if (!md) return T2I_OK;
    cJSON *j = cJSON_Parse(md);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return t2i_fail(T2I_ERR_FORMAT, "lora %s: metadata lora_adapter_metadata is not a JSON object", file);
    }
    t2i_status st = T2I_OK;
    for (int c = 0; c < N_COMP && st == T2I_OK; c++) {
        char k[64];
        snprintf(k, sizeof k, "%s.lora_alpha", comp_name[c]);
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, k);
        snprintf(k, sizeof k, "%s.r", comp_name[c]);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, k);
        static const char *const unsupported[] = {"alpha_pattern", "rank_pattern"};
        for (int u = 0; u < 2; u++) {
            snprintf(k, sizeof k, "%s.%s", comp_name[c], unsupported[u]);
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, k);
            if (cJSON_IsObject(p) && p->child)
                st = t2i_fail(T2I_ERR_UNSUPPORTED, "lora %s: metadata key '%s' is not read yet", file, k);
        }
        snprintf(k, sizeof k, "%s.use_dora", comp_name[c]);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, k)))
            st = t2i_fail(T2I_ERR_UNSUPPORTED, "lora %s: DoRA ('%s') is not supported", file, k);
        if (!a && !r) continue;
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(r) || r->valuedouble <= 0 || !isfinite(a->valuedouble))
            st = t2i_fail(T2I_ERR_FORMAT, "lora %s: metadata '%s.lora_alpha' / '%s.r' missing or not positive numbers",
                          file, comp_name[c], comp_name[c]);
        else scale[c] = (float)(a->valuedouble / r->valuedouble);
    }
    cJSON_Delete(j);
    return st;
}

/* Append the modules of one open file to *mods. */
static t2i_status read_file(const t2i_model *m, comp_index *ix, const t2i_st_file *f, const char *file, float weight,
                            int order, module **mods, int *n_mods, int *cap)
{
    float peft[N_COMP];
    T2I_TRY(peft_scales(f, file, peft));
    const int nt = t2i_st_count(f);
    if (nt == 0) return t2i_fail(T2I_ERR_FORMAT, "lora %s: the file holds no tensors", file);
    for (int i = 0; i < nt; i++) {
        const t2i_st_tensor *t = t2i_st_get(f, i);
        int pair, role = tensor_role(t->name, &pair);
        if (role < 0)
            return t2i_fail(T2I_ERR_UNSUPPORTED,
                            "lora %s: tensor '%s' is not a LoRA down/up/alpha tensor (LoHa, LoKr, Tucker "
                            "and DoRA files are not read)", file, t->name);
        if (!is_float(t->dtype))
            return t2i_fail(T2I_ERR_FORMAT, "lora %s: tensor '%s' has dtype %s (F32, F16 or BF16 expected)", file,
                            t->name, t2i_dtype_name(t->dtype));
        char key[512], other[600];
        size_t klen = strlen(t->name) - strlen(role == ROLE_ALPHA ? ".alpha" : role == ROLE_DOWN ? pairs[pair].down
                                                                                                 : pairs[pair].up);
        if (klen >= sizeof key) return t2i_fail(T2I_ERR_FORMAT, "lora %s: tensor name '%.80s…' too long", file, t->name);
        memcpy(key, t->name, klen);
        key[klen] = '\0';
        if (role == ROLE_ALPHA) {   /* needs a down tensor of some form */
            int found = 0;
            for (int p = 0; p < N_PAIRS && !found; p++) {
                snprintf(other, sizeof other, "%s%s", key, pairs[p].down);
                found = t2i_st_find(f, other) != NULL;
            }
            if (!found) return t2i_fail(T2I_ERR_FORMAT, "lora %s: tensor '%s' has no down tensor beside it", file, t->name);
            if (t2i_st_numel(t) != 1)
                return t2i_fail(T2I_ERR_FORMAT, "lora %s: tensor '%s' must hold one number", file, t->name);
            continue;
        }
        snprintf(other, sizeof other, "%s%s", key, role == ROLE_DOWN ? pairs[pair].up : pairs[pair].down);
        const t2i_st_tensor *partner = t2i_st_find(f, other);
        if (!partner)
            return t2i_fail(T2I_ERR_FORMAT, "lora %s: tensor '%s' has no '%s' beside it", file, t->name, other);
        if (role == ROLE_UP) continue;   /* handled with its down tensor */
        module md = {.order = order, .down = t, .up = partner};
        T2I_TRY(resolve(m, ix, file, t->name, key, &md.comp, &md.entry));
        T2I_TRY(check_fit(ix, &md, file, t->name, partner->name));
        float s = pair == 1 ? peft[md.comp] : 1.0f;
        snprintf(other, sizeof other, "%s.alpha", key);
        const t2i_st_tensor *alpha = t2i_st_find(f, other);
        if (alpha) {
            float a;
            t2i_st_read_f32(alpha, &a);
            if (!isfinite(a)) return t2i_fail(T2I_ERR_FORMAT, "lora %s: tensor '%s' is not finite", file, other);
            s = a / (float)t->shape[0];
        }
        md.scale = weight * s;
        if (*n_mods == *cap) {
            int nc = *cap ? *cap * 2 : 64;
            module *nm = realloc(*mods, (size_t)nc * sizeof *nm);
            if (!nm) return t2i_fail(T2I_ERR_NOMEM, "lora: out of memory");
            *mods = nm;
            *cap = nc;
        }
        (*mods)[(*n_mods)++] = md;
    }
    return T2I_OK;
}

/* ---- merging --------------------------------------------------------------------- */

static int by_target(const void *a, const void *b)
{
    const module *x = a, *y = b;
    if (x->comp != y->comp) return x->comp - y->comp;
    if (x->entry != y->entry) return x->entry - y->entry;
    return x->order - y->order;
}

static void to_f32(t2i_dtype dt, const void *src, float *dst, size_t n)
{
    if (dt == T2I_F32) memcpy(dst, src, n * sizeof *dst);
    else t2i_convert_to_f32(dt, src, dst, n);
}

static void from_f32(t2i_dtype dt, const float *src, void *dst, size_t n)
{
    if (dt == T2I_F32) {
        memcpy(dst, src, n * sizeof *src);
        return;
    }
    uint16_t *h = dst;
    for (size_t i = 0; i < n; i++) h[i] = dt == T2I_F16 ? t2i_f32_to_f16(src[i]) : t2i_f32_to_bf16(src[i]);
}

/* Write every kept original back and forget them. */
static t2i_status restore_all(comp_index *ix, struct t2i_lora_state *s)
{
    t2i_status st = T2I_OK;
    for (int i = 0; i < s->n_kept; i++) {
        kept *k = &s->kept[i];
        int nd;
        const int64_t *ne;
        void *data;
        t2i_weights_entry(ix[k->comp].w, k->entry, &nd, &ne, &data);
        t2i_backend *be = t2i_weights_backend(ix[k->comp].w);
        t2i_status s2 = t2i_weights_entry_writable(ix[k->comp].w, k->entry);
        if (s2 == T2I_OK) s2 = be->vt->upload(be, data, k->bytes, k->nbytes);
        if (st == T2I_OK) st = s2;
        free(k->bytes);
    }
    s->n_kept = 0;
    return st;
}

/* W += scale · up [out, r] @ down [r, K] for one module (W is [out, K]),
 * one OpenBLAS GEMM (the backend's thread count). */
static void add_delta(const module *md, float *W, int64_t out, int64_t K, float *up, float *down)
{
    const int64_t r = md->down->shape[0];
    t2i_st_read_f32(md->up, up);
    t2i_st_read_f32(md->down, down);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)out, (blasint)K, (blasint)r, md->scale, up,
                (blasint)r, down, (blasint)K, 1.0f, W, (blasint)K);
}

/* Keep the originals of mods[0..n) (all one weight), merge, upload. */
static t2i_status merge_one(comp_index *ix, struct t2i_lora_state *s, const module *mods, int n)
{
    int nd;
    const int64_t *ne;
    void *data;
    t2i_weights *w = ix[mods[0].comp].w;
    const char *name = t2i_weights_entry(w, mods[0].entry, &nd, &ne, &data);
    t2i_backend *be = t2i_weights_backend(w);
    const t2i_dtype dt = be->weight_dtype;
    int64_t numel = 1;
    for (int i = 0; i < nd; i++) numel *= ne[i];
    const int64_t out = ne[0], K = numel / out;
    size_t up_n = 0, down_n = 0;
    for (int i = 0; i < n; i++) {
        if ((size_t)t2i_st_numel(mods[i].up) > up_n) up_n = (size_t)t2i_st_numel(mods[i].up);
        if ((size_t)t2i_st_numel(mods[i].down) > down_n) down_n = (size_t)t2i_st_numel(mods[i].down);
    }
    const size_t nbytes = (size_t)numel * t2i_dtype_size(dt);
    kept k = {mods[0].comp, mods[0].entry, malloc(nbytes), nbytes};
    float *W = malloc((size_t)numel * sizeof *W), *up = malloc(up_n * sizeof *up), *down = malloc(down_n * sizeof *down);
    void *conv = dt == T2I_F32 ? NULL : malloc(nbytes);
    t2i_status st = T2I_OK;
    if (!k.bytes || !W || !up || !down || (dt != T2I_F32 && !conv)) {
        st = t2i_fail(T2I_ERR_NOMEM, "lora: out of memory merging '%s'", name);
        goto done;
    }
    if ((st = be->vt->download(be, k.bytes, data, nbytes)) != T2I_OK) goto done;
    s->kept[s->n_kept++] = k;   /* from here on restore_all writes it back */
    k.bytes = NULL;
    to_f32(dt, s->kept[s->n_kept - 1].bytes, W, (size_t)numel);
    for (int i = 0; i < n; i++) add_delta(&mods[i], W, out, K, up, down);
    from_f32(dt, W, conv ? conv : (void *)W, (size_t)numel);
    if ((st = t2i_weights_entry_writable(w, mods[0].entry)) == T2I_OK)
        st = be->vt->upload(be, data, conv ? conv : (void *)W, nbytes);
done:
    free(k.bytes);
    free(W);
    free(up);
    free(down);
    free(conv);
    return st;
}

static int same_set(const struct t2i_lora_state *s, const t2i_lora *loras, int n)
{
    if (!s) return n == 0;
    if (s->n_applied != n) return 0;
    for (int i = 0; i < n; i++)
        if (strcmp(s->paths[i], loras[i].path) != 0 || s->weights[i] != loras[i].weight) return 0;
    return 1;
}

static void forget_set(struct t2i_lora_state *s)
{
    for (int i = 0; i < s->n_applied; i++) free(s->paths[i]);
    free(s->paths);
    free(s->weights);
    s->paths = NULL;
    s->weights = NULL;
    s->n_applied = 0;
}

t2i_status t2i_lora_apply(t2i_model *m, const t2i_lora *loras, int n)
{
    if (!m || n < 0 || (n > 0 && !loras)) return t2i_fail(T2I_ERR_INVALID_ARG, "lora: model and list are required");
    for (int i = 0; i < n; i++) {
        if (!loras[i].path || !*loras[i].path) return t2i_fail(T2I_ERR_INVALID_ARG, "lora %d: no file given", i);
        if (!isfinite(loras[i].weight))
            return t2i_fail(T2I_ERR_INVALID_ARG, "lora %s: weight is not a finite number", loras[i].path);
    }
    if (same_set(m->lora, loras, n)) return T2I_OK;
    if (!m->lora && !(m->lora = calloc(1, sizeof *m->lora))) return t2i_fail(T2I_ERR_NOMEM, "lora: out of memory");
    struct t2i_lora_state *s = m->lora;

    comp_index ix[N_COMP];
    memset(ix, 0, sizeof ix);
    t2i_st_file **files = calloc((size_t)n + 1, sizeof *files);
    module *mods = NULL;
    int n_mods = 0, cap = 0;
    t2i_status st = files ? T2I_OK : t2i_fail(T2I_ERR_NOMEM, "lora: out of memory");
    t2i_weights *stores[N_COMP] = {m->text_w, m->text2_w, m->unet_w};
    for (int c = 0; c < N_COMP && st == T2I_OK; c++) st = index_build(stores[c], &ix[c]);
    /* pass 1: read and check everything */
    for (int i = 0; i < n && st == T2I_OK; i++) {
        st = t2i_st_open(loras[i].path, &files[i]);
        if (st != T2I_OK) t2i_fail_context(st, "lora");
        else st = read_file(m, ix, files[i], loras[i].path, loras[i].weight, i, &mods, &n_mods, &cap);
    }
    if (st != T2I_OK) goto done;
    /* pass 2: back to the loaded weights */
    forget_set(s);
    if ((st = restore_all(ix, s)) != T2I_OK) goto done;
    /* pass 3: merge, weight by weight */
    if (n_mods) qsort(mods, (size_t)n_mods, sizeof *mods, by_target);
    free(s->kept);
    s->kept = calloc((size_t)n_mods + 1, sizeof *s->kept);
    if (!s->kept) {
        st = t2i_fail(T2I_ERR_NOMEM, "lora: out of memory");
        goto done;
    }
    for (int i = 0; i < n_mods && st == T2I_OK;) {
        int j = i + 1;
        while (j < n_mods && mods[j].comp == mods[i].comp && mods[j].entry == mods[i].entry) j++;
        if (mods[i].scale != 0 || j - i > 1) st = merge_one(ix, s, mods + i, j - i);
        i = j;
    }
    if (st != T2I_OK) {
        restore_all(ix, s);   /* leave the loaded weights, not half a set */
        goto done;
    }
    s->paths = calloc((size_t)n + 1, sizeof *s->paths);
    s->weights = calloc((size_t)n + 1, sizeof *s->weights);
    if (!s->paths || !s->weights) {
        st = t2i_fail(T2I_ERR_NOMEM, "lora: out of memory");
        restore_all(ix, s);
        forget_set(s);
        goto done;
    }
    for (int i = 0; i < n && st == T2I_OK; i++) {
        s->paths[i] = strdup(loras[i].path);
        s->weights[i] = loras[i].weight;
        s->n_applied = i + 1;
        if (!s->paths[i]) st = t2i_fail(T2I_ERR_NOMEM, "lora: out of memory");
    }
    if (st != T2I_OK) {
        restore_all(ix, s);
        forget_set(s);
    }
done:
    for (int i = 0; i < n && files; i++) t2i_st_close(files[i]);
    free(files);
    free(mods);
    for (int c = 0; c < N_COMP; c++) index_free(&ix[c]);
    return st;
}

void t2i_lora_state_free(t2i_model *m)
{
    struct t2i_lora_state *s = m ? m->lora : NULL;
    if (!s) return;
    forget_set(s);
    for (int i = 0; i < s->n_kept; i++) free(s->kept[i].bytes);
    free(s->kept);
    free(s);
    m->lora = NULL;
}

t2i_status t2i_model_set_loras(t2i_model *m, const t2i_lora *loras, int n) { return t2i_lora_apply(m, loras, n); }
