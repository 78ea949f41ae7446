/*
 * expand.c — phrase tables and the assembly described in expand.h.
 */
#include "product/expand.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "runtime/model.h"
#include "product/styles.h"

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

typedef struct table { const char *const *v; int n; } table;
#define TABLE(a) {a, N_OF(a)}

/* ---- English tables -------------------------------------------------------- */

static const char *const en_person_kw[] = {
    "man", "woman", "girl", "boy", "child", "kid", "lady", "person", "people", "portrait", "king", "queen",
    "princess", "prince", "warrior", "knight", "soldier", "samurai", "ninja", "wizard", "witch", "baby",
    "student", "doctor", "chef", "dancer", "singer", "astronaut", "pilot", "farmer", "monk", "face", "couple",
    "family", "mother", "father", "grandmother", "teacher", "musician", "detective", "pirate", "elf", "hero"};
static const char *const en_animal_kw[] = {
    "cat", "cats", "kitten", "dog", "dogs", "puppy", "bird", "birds", "horse", "fox", "wolf", "bear", "panda",
    "rabbit", "bunny", "tiger", "lion", "deer", "owl", "eagle", "fish", "whale", "dolphin", "turtle", "frog",
    "butterfly", "bee", "elephant", "giraffe", "monkey", "penguin", "koala", "squirrel", "hamster", "duck",
    "parrot", "snake", "cow", "sheep", "pig", "goat", "animal", "animals", "raccoon", "otter", "hedgehog"};
static const char *const en_landscape_kw[] = {
    "mountain", "mountains", "river", "lake", "sea", "ocean", "beach", "forest", "woods", "valley", "field",
    "meadow", "desert", "waterfall", "landscape", "island", "canyon", "glacier", "hill", "hills", "sunset",
    "sunrise", "sky", "clouds", "garden", "jungle", "countryside", "coast", "cliff", "volcano", "nature"};
static const char *const en_city_kw[] = {
    "city", "street", "town", "village", "building", "buildings", "house", "castle", "temple", "tower",
    "bridge", "skyline", "alley", "market", "cafe", "shop", "room", "interior", "church", "palace", "station",
    "harbor", "downtown", "architecture", "library", "kitchen", "rooftop", "skyscraper", "cabin"};
static const char *const en_food_kw[] = {
    "cake", "bread", "pizza", "burger", "sushi", "noodles", "ramen", "soup", "salad", "fruit", "apple",
    "coffee", "tea", "dessert", "chocolate", "cookie", "cookies", "pie", "food", "meal", "breakfast", "dumplings",
    "icecream", "pasta", "steak", "wine", "cocktail", "donut", "pancakes", "strawberry", "lemon"};
static const char *const en_object_kw[] = {
    "car", "bicycle", "bike", "motorcycle", "train", "ship", "boat", "plane", "airplane", "watch", "clock",
    "bottle", "cup", "vase", "lamp", "chair", "guitar", "piano", "camera", "book", "phone", "shoe", "shoes",
    "bag", "sword", "key", "teapot", "jewelry", "ring", "crown", "robot", "truck", "bus", "sneaker", "toy"};
static const char *const en_fantasy_kw[] = {
    "dragon", "unicorn", "phoenix", "griffin", "mermaid", "fairy", "angel", "demon", "monster", "alien",
    "spaceship", "spirit", "ghost", "golem", "kraken", "creature", "goblin", "troll", "titan", "cyborg"};

static const char *const en_details[T2I_SUBJECT_COUNT][10] = {
    [T2I_SUBJECT_GENERIC] = {"intricate details", "rich textures", "elegant shapes", "fine craftsmanship",
                             "harmonious colors", "subtle gradients", "delicate patterns", "crisp edges",
                             "layered depth", "vivid accents"},
    [T2I_SUBJECT_PERSON] = {"detailed face", "expressive eyes", "natural skin texture", "flowing hair",
                            "elegant clothing", "confident pose", "gentle smile", "intricate jewelry",
                            "windswept hair", "thoughtful expression"},
    [T2I_SUBJECT_ANIMAL] = {"soft detailed fur", "bright curious eyes", "whiskers catching the light",
                            "playful pose", "fluffy tail", "alert ears", "gentle expression", "tiny paws",
                            "sleek coat", "calm gaze"},
    [T2I_SUBJECT_LANDSCAPE] = {"towering peaks", "a winding river", "ancient trees", "rolling hills",
                               "a mirror-like lake", "wildflowers in the foreground", "layers of distant ridges",
                               "sweeping clouds", "mossy rocks", "a narrow path"},
    [T2I_SUBJECT_CITY] = {"intricate facades", "glowing windows", "wet cobblestones", "towering skyscrapers",
                          "hanging lanterns", "bustling crowds", "old brick walls", "neon signs",
                          "ornate balconies", "quiet side streets"},
    [T2I_SUBJECT_FOOD] = {"steam rising", "glistening sauce", "fresh herb garnish", "golden crispy crust",
                          "vibrant fresh ingredients", "drizzled honey", "a rustic ceramic plate",
                          "powdered sugar dusting", "juicy texture", "colorful toppings"},
    [T2I_SUBJECT_OBJECT] = {"polished surfaces", "fine engraved details", "worn vintage texture",
                            "precise craftsmanship", "brushed metal accents", "subtle reflections",
                            "clean elegant lines", "hand-stitched details", "glossy finish", "tiny scratches"},
    [T2I_SUBJECT_FANTASY] = {"shimmering scales", "glowing runes", "massive wings", "ethereal aura",
                             "ancient armor", "glowing eyes", "swirling magic", "ornate horns",
                             "iridescent feathers", "arcane symbols"},
};
static const char *const en_scenes[T2I_SUBJECT_COUNT][10] = {
    [T2I_SUBJECT_GENERIC] = {"in a beautiful setting", "on a quiet afternoon", "in a sunlit room",
                             "against a soft gradient background", "in an open field", "by a window",
                             "in a peaceful garden", "at the seaside", "in a misty valley", "under a starry sky"},
    [T2I_SUBJECT_PERSON] = {"in a sunlit cafe", "on a busy city street", "in a quiet library",
                            "on a mountain trail", "in a flower field", "by the seaside", "in a cozy living room",
                            "on a rooftop at dusk", "in a bamboo forest", "at a night market"},
    [T2I_SUBJECT_ANIMAL] = {"in a sunny meadow", "on a windowsill", "in a misty forest", "among autumn leaves",
                            "on a snowy hill", "by a clear stream", "in a cozy basket", "on a mossy log",
                            "in tall grass", "on a garden wall"},
    [T2I_SUBJECT_LANDSCAPE] = {"under a vast sky", "at dawn", "after the rain", "in early spring",
                               "in late autumn", "under the milky way", "with mist in the valleys",
                               "beneath dramatic clouds", "in the golden evening", "on a clear winter day"},
    [T2I_SUBJECT_CITY] = {"at night", "in the rain", "during a festival", "at dawn", "in winter snow",
                          "at sunset", "in the fog", "on a summer afternoon", "under a full moon",
                          "after the rain"},
    [T2I_SUBJECT_FOOD] = {"on a wooden table", "in a cozy kitchen", "on a marble countertop",
                          "at a street food stall", "on a picnic blanket", "by a sunny window",
                          "in a rustic bakery", "on a linen tablecloth", "at a candlelit dinner", "on a slate board"},
    [T2I_SUBJECT_OBJECT] = {"on a workbench", "in a museum display case", "on a clean white backdrop",
                            "on an antique desk", "in a sunlit studio", "on a velvet cloth", "in a busy workshop",
                            "on a glass shelf", "on a concrete floor", "in a vintage shop"},
    [T2I_SUBJECT_FANTASY] = {"above the clouds", "in an ancient ruin", "in an enchanted forest",
                             "over a stormy sea", "in a crystal cave", "on a floating island",
                             "in a glowing mist", "atop a mountain peak", "in a forgotten temple",
                             "under twin moons"},
};
static const char *const en_lighting[] = {
    "soft golden hour light", "dramatic rim lighting", "gentle morning light", "moody cinematic lighting",
    "warm ambient glow", "volumetric light rays", "soft diffused daylight", "neon reflections",
    "dappled sunlight", "cool moonlight", "candlelit glow", "backlit silhouette glow"};
static const char *const en_composition[] = {
    "rule of thirds composition", "centered composition", "wide shot", "close-up", "low angle view",
    "bird's eye view", "shallow depth of field", "symmetrical framing", "dynamic diagonal composition",
    "medium shot", "leading lines", "panoramic view"};
static const char *const en_quality[] = {"highly detailed", "masterpiece", "sharp focus", "best quality",
                                         "award-winning", "ultra detailed", "beautiful", "professional"};

/* ---- Chinese tables ------------------------------------------------------------ */

static const char *const zh_person_kw[] = {"人", "女孩", "男孩", "女人", "男人", "少女", "少年", "老人", "孩子",
                                           "美女", "姑娘", "武士", "侠", "公主", "王子", "骑士", "宇航员", "厨师",
                                           "舞者", "肖像", "母亲", "父亲", "学生", "老师", "僧", "精灵", "英雄"};
static const char *const zh_animal_kw[] = {"猫", "狗", "鸟", "马", "鱼", "熊", "狐狸", "兔", "虎", "狮", "鹿",
                                           "鹰", "猴", "象", "鲸", "龟", "蝴蝶", "蜜蜂", "鸭", "鹤", "松鼠",
                                           "羊", "牛", "猪", "狼", "企鹅", "仓鼠", "动物"};
static const char *const zh_landscape_kw[] = {"山", "河", "湖", "海", "森林", "风景", "田野", "草原", "瀑布",
                                              "沙漠", "日落", "日出", "天空", "云", "花园", "岛", "峡谷",
                                              "雪山", "江", "溪", "自然", "丛林"};
static const char *const zh_city_kw[] = {"城市", "街", "建筑", "楼", "房子", "城堡", "寺", "桥", "村", "小镇",
                                         "宫", "塔", "市场", "咖啡馆", "房间", "室内", "车站", "港口", "庭院", "镇", "古城",
                                         "胡同", "图书馆", "厨房"};
static const char *const zh_food_kw[] = {"蛋糕", "面", "饭", "菜", "水果", "茶", "咖啡", "美食", "饺子",
                                         "包子", "火锅", "寿司", "披萨", "汉堡", "甜点", "巧克力", "月饼",
                                         "汤", "草莓", "苹果", "点心"};
static const char *const zh_object_kw[] = {"车", "船", "飞机", "杯", "花瓶", "钟", "书", "灯", "椅", "吉他",
                                           "钢琴", "相机", "手机", "鞋", "包", "剑", "钥匙", "茶壶", "首饰",
                                           "戒指", "皇冠", "机器人", "玩具"};
static const char *const zh_fantasy_kw[] = {"龙", "凤凰", "独角兽", "美人鱼", "仙女", "天使", "恶魔", "怪物",
                                            "外星", "飞船", "幽灵", "神兽", "麒麟", "妖", "仙"};

static const char *const zh_details[T2I_SUBJECT_COUNT][10] = {
    [T2I_SUBJECT_GENERIC] = {"细节丰富", "质感细腻", "造型优雅", "做工精致", "色彩和谐", "渐变柔和", "纹理精美",
                             "轮廓清晰", "层次分明", "色彩点缀鲜明"},
    [T2I_SUBJECT_PERSON] = {"面部细节精致", "眼神灵动", "皮肤质感自然", "长发飘逸", "服饰优雅", "姿态自信",
                            "笑容温柔", "首饰精美", "发丝随风飘动", "神情若有所思"},
    [T2I_SUBJECT_ANIMAL] = {"毛发柔软细腻", "眼睛明亮好奇", "胡须映着光", "姿态俏皮", "尾巴蓬松", "耳朵竖起",
                            "神情温和", "小爪子", "皮毛光滑", "目光平静"},
    [T2I_SUBJECT_LANDSCAPE] = {"群峰耸立", "河流蜿蜒", "古树参天", "丘陵起伏", "湖面如镜", "前景野花盛开",
                               "远山层叠", "云海翻涌", "青苔覆石", "小径幽深"},
    [T2I_SUBJECT_CITY] = {"建筑立面精致", "窗户透出暖光", "湿润的石板路", "高楼林立", "灯笼高挂", "人群熙攘",
                          "斑驳的砖墙", "霓虹招牌", "雕花阳台", "幽静小巷"},
    [T2I_SUBJECT_FOOD] = {"热气腾腾", "酱汁晶莹", "点缀新鲜香草", "外皮金黄酥脆", "食材新鲜鲜艳", "淋上蜂蜜",
                          "粗陶餐盘", "撒上糖霜", "口感多汁", "配料缤纷"},
    [T2I_SUBJECT_OBJECT] = {"表面光洁", "雕刻精细", "复古做旧质感", "工艺精湛", "拉丝金属点缀", "微妙的反光",
                            "线条简洁优雅", "手工缝线细节", "光泽亮丽", "细微划痕"},
    [T2I_SUBJECT_FANTASY] = {"鳞片闪烁", "符文发光", "巨大的翅膀", "空灵光环", "古老铠甲", "双眼发光",
                             "魔法流转", "华丽的角", "羽毛泛着虹彩", "神秘符号"},
};
static const char *const zh_scenes[T2I_SUBJECT_COUNT][10] = {
    [T2I_SUBJECT_GENERIC] = {"置身美丽的环境中", "宁静的午后", "阳光洒满的房间", "柔和渐变背景", "在开阔的田野上",
                             "窗边", "幽静的花园里", "海边", "云雾缭绕的山谷", "星空下"},
    [T2I_SUBJECT_PERSON] = {"在洒满阳光的咖啡馆", "在繁忙的街头", "在安静的图书馆", "在山间小路上", "在花海中",
                            "在海边", "在温馨的客厅", "黄昏的屋顶上", "在竹林中", "在夜市里"},
    [T2I_SUBJECT_ANIMAL] = {"在阳光明媚的草地上", "在窗台上", "在雾气弥漫的森林里", "在秋叶之间", "在雪坡上",
                            "在清澈的小溪边", "在温暖的篮子里", "在长满青苔的树干上", "在高高的草丛中",
                            "在花园的墙头"},
    [T2I_SUBJECT_LANDSCAPE] = {"辽阔的天空下", "黎明时分", "雨后", "早春时节", "深秋时节", "银河之下",
                               "山谷间云雾缭绕", "壮观的云层下", "金色的傍晚", "晴朗的冬日"},
    [T2I_SUBJECT_CITY] = {"夜晚", "雨中", "节日期间", "黎明", "冬雪中", "日落时分", "雾中", "夏日午后",
                          "满月之下", "雨后初晴"},
    [T2I_SUBJECT_FOOD] = {"在木桌上", "在温馨的厨房里", "在大理石台面上", "在街边小吃摊", "在野餐布上",
                          "在阳光充足的窗边", "在乡村面包房", "在亚麻桌布上", "在烛光晚餐中", "在石板上"},
    [T2I_SUBJECT_OBJECT] = {"在工作台上", "在博物馆展柜中", "纯白背景", "在古董书桌上", "在阳光明亮的工作室",
                            "在天鹅绒布上", "在忙碌的作坊里", "在玻璃架上", "在水泥地面上", "在复古小店里"},
    [T2I_SUBJECT_FANTASY] = {"在云层之上", "在古老的遗迹中", "在魔法森林里", "在暴风雨的海面上", "在水晶洞穴中",
                             "在浮空岛上", "在发光的雾气中", "在山巅之上", "在被遗忘的神殿里", "双月之下"},
};
static const char *const zh_lighting[] = {"柔和的黄金时刻光线", "戏剧性的轮廓光", "温柔的晨光", "电影感氛围光",
                                          "温暖的环境光", "体积光束", "柔和的漫射日光", "霓虹反光",
                                          "斑驳的阳光", "清冷的月光", "烛光映照", "逆光剪影"};
static const char *const zh_composition[] = {"三分法构图", "居中构图", "远景", "特写", "低角度仰拍", "鸟瞰视角",
                                             "浅景深", "对称构图", "动感对角线构图", "中景", "引导线构图",
                                             "全景"};
static const char *const zh_quality[] = {"细节丰富", "杰作", "画面清晰", "最佳画质", "获奖作品", "超高细节",
                                         "唯美", "专业水准"};

/* Style categories that fit each subject class. */
static const char *const fit_styles[T2I_SUBJECT_COUNT][6] = {
    [T2I_SUBJECT_GENERIC] = {"movement", "medium", "blend", "genre", "digital"},
    [T2I_SUBJECT_PERSON] = {"photography", "medium", "movement", "genre", "blend"},
    [T2I_SUBJECT_ANIMAL] = {"photography", "medium", "genre", "blend"},
    [T2I_SUBJECT_LANDSCAPE] = {"movement", "medium", "photography", "weather", "blend"},
    [T2I_SUBJECT_CITY] = {"photography", "era", "genre", "digital", "design"},
    [T2I_SUBJECT_FOOD] = {"photography", "medium", "blend"},
    [T2I_SUBJECT_OBJECT] = {"material", "design", "digital", "photography"},
    [T2I_SUBJECT_FANTASY] = {"genre", "movement", "digital", "medium", "blend"},
};

/* ---- helpers ------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int pick(uint64_t *s, int n) { return (int)(splitmix64(s) % (uint64_t)n); }

/* Decode one UTF-8 code point (invalid bytes read as themselves). */
static uint32_t next_cp(const unsigned char **p)
{
    const unsigned char *c = *p;
    uint32_t cp = *c;
    int len = cp < 0x80 ? 1 : (cp >> 5) == 6 ? 2 : (cp >> 4) == 14 ? 3 : (cp >> 3) == 30 ? 4 : 1;
    if (len > 1) {
        cp &= 0x3Fu >> (len - 1);
        for (int i = 1; i < len; i++) {
            if ((c[i] & 0xC0) != 0x80) {
                *p = c + 1;
                return *c;
            }
            cp = (cp << 6) | (c[i] & 0x3F);
        }
    }
    *p = c + len;
    return cp;
}

static int is_ideograph(uint32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0x20000 && cp <= 0x2FA1F);
}

int t2i_expand_is_cjk(const char *utf8)
{
    const unsigned char *p = (const unsigned char *)utf8;
    while (p && *p)
        if (is_ideograph(next_cp(&p))) return 1;
    return 0;
}

static int has_word(const char *text, const char *const *kw, int n)
{
    for (const char *p = text; *p;) {
        while (*p && !isalpha((unsigned char)*p)) p++;
        const char *w = p;
        while (*p && isalpha((unsigned char)*p)) p++;
        size_t len = (size_t)(p - w);
        for (int i = 0; len && i < n; i++)
            if (strlen(kw[i]) == len && strncasecmp(kw[i], w, len) == 0) return 1;
    }
    return 0;
}

static int has_sub(const char *text, const char *const *kw, int n)
{
    for (int i = 0; i < n; i++)
        if (strstr(text, kw[i])) return 1;
    return 0;
}

const char *const t2i_subject_names[T2I_SUBJECT_COUNT] = {"generic", "person", "animal", "landscape",
                                                          "city",    "food",   "object", "fantasy"};

const char *t2i_prompt_subject(const char *prompt)
{
    return t2i_subject_names[t2i_expand_subject(prompt ? prompt : "")];
}

t2i_subject t2i_expand_subject(const char *prompt)
{
    /* most specific first: "a dragon made of glass" is fantasy, "a girl with a cat" a person */
    static const struct { t2i_subject s; table en, zh; } order[] = {
        {T2I_SUBJECT_FANTASY, TABLE(en_fantasy_kw), TABLE(zh_fantasy_kw)},
        {T2I_SUBJECT_PERSON, TABLE(en_person_kw), TABLE(zh_person_kw)},
        {T2I_SUBJECT_ANIMAL, TABLE(en_animal_kw), TABLE(zh_animal_kw)},
        {T2I_SUBJECT_FOOD, TABLE(en_food_kw), TABLE(zh_food_kw)},
        {T2I_SUBJECT_OBJECT, TABLE(en_object_kw), TABLE(zh_object_kw)},
        {T2I_SUBJECT_CITY, TABLE(en_city_kw), TABLE(zh_city_kw)},
        {T2I_SUBJECT_LANDSCAPE, TABLE(en_landscape_kw), TABLE(zh_landscape_kw)},
    };
    for (int i = 0; i < N_OF(order); i++)
        if (has_word(prompt, order[i].en.v, order[i].en.n) || has_sub(prompt, order[i].zh.v, order[i].zh.n))
            return order[i].s;
    return T2I_SUBJECT_GENERIC;
}

int t2i_expand_count_tokens(const t2i_model *m, const char *text)
{
    if (m && (m->tok || m->wp)) {   /* CLIP BPE (SD 1.x/2.x, SDXL) or WordPiece (Taiyi) */
        int32_t *ids = NULL;
        int n = 0;
        t2i_status st = m->tok ? t2i_clip_tokenize(m->tok, text, &ids, &n) : t2i_wordpiece_tokenize(m->wp, text, &ids, &n);
        free(ids);
        if (st == T2I_OK) return n;
    }
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        if (isalnum(*p)) {
            while (isalnum(*p)) p++;
            n++;
        } else if (*p < 0x80) {
            n += !isspace(*p);
            p++;
        } else {
            next_cp(&p);
            n += 3;
        }
    }
    return n;
}

/* text + sep + phrase, malloc'd */
static char *join(const char *a, const char *sep, const char *b)
{
    size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
    char *s = malloc(la + ls + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    memcpy(s + la, sep, ls);
    memcpy(s + la + ls, b, lb + 1);
    return s;
}

/* The style's text for this language, applied to text. */
static char *with_style(const t2i_style *st, const char *text, int zh)
{
    if (!st) return strdup(text);
    if (!zh) return t2i_style_merge(st->prompt, text, 1.0);
    size_t n = strlen(st->name_zh);
    int ends = n >= 6 && strcmp(st->name_zh + n - 6, "风格") == 0;
    char *phrase = join(st->name_zh, "", ends ? "" : "风格");
    char *r = phrase ? join(text, "，", phrase) : NULL;
    free(phrase);
    return r;
}

static int fits_subject(const t2i_style *sty, t2i_subject subj)
{
    for (int c = 0; c < 6 && fit_styles[subj][c]; c++)
        if (!strcmp(sty->category, fit_styles[subj][c])) return 1;
    return 0;
}

/* Users' liking of a style for this subject class (0 when none recorded). */
static double pref_weight(const t2i_style *sty, t2i_subject subj, const t2i_style_pref *prefs, int n)
{
    for (int i = 0; i < n; i++)
        if (prefs[i].style_id && !strcmp(prefs[i].style_id, sty->id) && prefs[i].subject &&
            !strcmp(prefs[i].subject, t2i_subject_names[subj]) && prefs[i].weight > 0)
            return prefs[i].weight;
    return 0;
}

/* One of the catalog styles whose category fits the subject, uniformly. */
static const t2i_style *pick_fitting(uint64_t *rng, t2i_subject subj)
{
    const t2i_styles *cat = t2i_styles_builtin();
    int n_fit = 0;
    for (int i = 0; i < cat->n; i++) n_fit += fits_subject(&cat->v[i], subj);
    if (!n_fit) return NULL;
    for (int i = 0, target = pick(rng, n_fit), k = 0; i < cat->n; i++)
        if (fits_subject(&cat->v[i], subj) && k++ == target) return &cat->v[i];
    return NULL;
}

/* The style of step 3. Without preferences for this subject: a fitting
 * style, uniformly. With liked styles of total weight W: one of them with
 * probability W / (W + 1), chosen ∝ its weight (the weights are odds
 * against exploring), else a fitting style uniformly. */
static const t2i_style *pick_style(uint64_t *rng, t2i_subject subj, const t2i_style_pref *prefs, int n_prefs)
{
    const t2i_styles *cat = t2i_styles_builtin();
    double W = 0;
    for (int i = 0; i < cat->n && n_prefs > 0; i++) W += pref_weight(&cat->v[i], subj, prefs, n_prefs);
    if (W <= 0) return pick_fitting(rng, subj);
    double u = (double)(splitmix64(rng) >> 11) / 9007199254740992.0 * (W + 1);   /* [0, W + 1) */
    for (int i = 0; i < cat->n && u < W; i++) {
        const double w = pref_weight(&cat->v[i], subj, prefs, n_prefs);
        if (w > 0 && (u -= w) < 0) return &cat->v[i];
    }
    return pick_fitting(rng, subj);
}

t2i_status t2i_prompt_expand_ex(const t2i_model *m, const char *prompt, uint64_t seed, int max_tokens, int style,
                                char **out, const char **style_id)
{
    return t2i_prompt_expand_prefs(m, prompt, seed, max_tokens, style, NULL, 0, out, style_id);
}

t2i_status t2i_prompt_expand_prefs(const t2i_model *m, const char *prompt, uint64_t seed, int max_tokens, int style,
                                   const t2i_style_pref *prefs, int n_prefs, char **out, const char **style_id)
{
    *out = NULL;
    if (style_id) *style_id = NULL;
    if (!prompt) return t2i_fail(T2I_ERR_INVALID_ARG, "expand: prompt is required");
    if (max_tokens < 0 || max_tokens > 75 * 32)
        return t2i_fail(T2I_ERR_INVALID_ARG, "expand: token budget %d outside 0..2400", max_tokens);
    if (max_tokens == 0) max_tokens = T2I_EXPAND_DEFAULT_TOKENS;

    /* trim the user's text; it is then kept verbatim */
    while (*prompt && isspace((unsigned char)*prompt)) prompt++;
    size_t len = strlen(prompt);
    while (len && isspace((unsigned char)prompt[len - 1])) len--;
    char *text = malloc(len + 1);
    if (!text) return t2i_fail(T2I_ERR_NOMEM, "expand: out of memory");
    memcpy(text, prompt, len);
    text[len] = '\0';
    if (!len || t2i_expand_count_tokens(m, text) > max_tokens) {
        *out = text;
        return T2I_OK;
    }

    const int zh = t2i_expand_is_cjk(text);
    const t2i_subject subj = t2i_expand_subject(text);
    uint64_t h = 0xCBF29CE484222325ull;   /* FNV-1a of the prompt */
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) h = (h ^ *c) * 0x100000001B3ull;
    uint64_t rng = seed ^ h;

    /* phrases in priority order */
    const char *phr[6];
    const char *const *det = zh ? zh_details[subj] : en_details[subj];
    const char *const *scn = zh ? zh_scenes[subj] : en_scenes[subj];
    int d1 = pick(&rng, 10), d2 = (d1 + 1 + pick(&rng, 9)) % 10;
    phr[0] = det[d1];
    phr[1] = scn[pick(&rng, 10)];
    phr[2] = zh ? zh_lighting[pick(&rng, N_OF(zh_lighting))] : en_lighting[pick(&rng, N_OF(en_lighting))];
    phr[3] = zh ? zh_composition[pick(&rng, N_OF(zh_composition))]
                : en_composition[pick(&rng, N_OF(en_composition))];
    phr[4] = det[d2];
    phr[5] = zh ? zh_quality[pick(&rng, N_OF(zh_quality))] : en_quality[pick(&rng, N_OF(en_quality))];

    const t2i_style *st = style ? pick_style(&rng, subj, prefs, n_prefs) : NULL;

    const char *sep = zh ? "，" : ", ";
    char *base = strdup(text), *cur = base ? with_style(st, base, zh) : NULL;
    t2i_status rc = T2I_OK;
    if (cur && t2i_expand_count_tokens(m, cur) > max_tokens) {   /* the style alone does not fit */
        free(cur);
        st = NULL;
        cur = strdup(base);
    }
    for (int i = 0; i < 6 && cur; i++) {
        char *nb = join(base, sep, phr[i]);
        char *cand = nb ? with_style(st, nb, zh) : NULL;
        if (cand && t2i_expand_count_tokens(m, cand) <= max_tokens) {
            free(base);
            free(cur);
            base = nb;
            cur = cand;
        } else {
            free(nb);
            free(cand);
            if (!nb || !cand) {
                free(cur);
                cur = NULL;
            }
        }
    }
    free(base);
    free(text);
    if (!cur) return t2i_fail(T2I_ERR_NOMEM, "expand: out of memory");
    *out = cur;
    if (style_id && st) *style_id = st->id;
    return rc;
}

t2i_status t2i_prompt_expand(const t2i_model *m, const char *prompt, uint64_t seed, int max_tokens, char **out,
                             const char **style_id)
{
    return t2i_prompt_expand_ex(m, prompt, seed, max_tokens, 1, out, style_id);
}
