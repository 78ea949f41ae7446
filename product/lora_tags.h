/*
 * lora_tags.h — A1111's <lora:name:weight> tags in prompts.
 *
 * A1111 (modules/extra_networks.py) finds tags with the pattern
 * <(\w+):([^>]+)> and removes each from the text, leaving what was around it
 * as it was ("a cat <lora:x:0.8>, red" → "a cat , red"); the arguments are
 * split at ':'. Here only the "lora" type is taken out (other tag types stay
 * in the text); arguments: name[:weight], weight 1 when absent. The third
 * A1111 argument (a separate UNet weight) is T2I_ERR_UNSUPPORTED. A name is
 * the file name without ".safetensors" in the caller's LoRA folder; names
 * with ".." or starting with '/' are refused.
 */
#ifndef T2I_LORA_TAGS_H
#define T2I_LORA_TAGS_H

#include "t2i.h"

typedef struct t2i_lora_list {
    int n, cap;
    t2i_lora *v;          /* paths malloc'd (owned) */
} t2i_lora_list;

/* Remove the <lora:…> tags of `text` (NULL = ""): *out (malloc'd) is the
 * rest; each tag becomes lora_dir/name.safetensors with its weight,
 * appended to list. A tag without lora_dir, a bad name or weight:
 * T2I_ERR_INVALID_ARG naming the tag. `what` ("prompt") prefixes messages. */
t2i_status t2i_lora_tags_extract(const char *text, const char *lora_dir, const char *what, char **out,
                                 t2i_lora_list *list);
/* Append a copy of an entry. */
t2i_status t2i_lora_list_add(t2i_lora_list *list, const char *path, float weight);
void t2i_lora_list_free(t2i_lora_list *list);   /* accepts NULL */

#endif
