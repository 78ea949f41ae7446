/*
 * lora.h — LoRA files merged into a loaded model's weights.
 *
 * A LoRA holds, per adapted layer W [out, in(, kh, kw)], a pair down [r, in(,
 * kh, kw)] and up [out, r(, 1, 1)] and optionally a scalar alpha; applied
 * with a user weight w it makes the layer
 *
 *   W' = W + w · (alpha / r) · reshape(up [out, r] @ down [r, in·kh·kw])
 *
 * (alpha / r = 1 when the file has no alpha), summed over the LoRAs of a
 * set in the order given. Two namings are read (one file may mix them):
 *
 *   kohya / A1111   lora_unet_<module>, lora_te_<module> (text encoder),
 *                   lora_te1_ / lora_te2_ (SDXL's two encoders), where
 *                   <module> is the diffusers/transformers module path with
 *                   '.' written '_'; tensors .lora_down.weight,
 *                   .lora_up.weight, .alpha. LoCon convolution layers are the
 *                   same with a kh×kw down and a 1×1 up.
 *   diffusers/PEFT  unet.<module>, text_encoder.<module>, text_encoder_2.
 *                   <module>; tensors .lora_A.weight / .lora_B.weight (or
 *                   the older .lora.down.weight / .lora.up.weight), .alpha;
 *                   the "lora_adapter_metadata" of diffusers' save_lora_weights
 *                   gives lora_alpha and r per component.
 *
 * The '_' form is resolved against the model's own weight names (each name
 * with '.' → '_'), so no table of module names is needed; the original LDM
 * naming of SDXL kohya LoRAs (lora_unet_input_blocks_4_1_…) is mapped to it
 * first (runtime/lora_ldm.c). Not read: LyCORIS LoHa/LoKr/Tucker (lora_mid),
 * DoRA, PEFT rank/alpha patterns — each is T2I_ERR_UNSUPPORTED naming the
 * tensor or key.
 *
 * Merging and restoring: before a weight is first changed, its stored bytes
 * (the backend's weight dtype, read back from the device) are kept in host
 * memory; a new set first writes every kept original back, so the weights
 * with no LoRA are bit for bit those loaded, whatever sets came before. The
 * originals of the weights the current set touches are what stays in memory
 * (a LoRA on every attention, feed-forward and projection layer of SD 1.5's
 * UNet: 1.07 GB in FP32 on the CPU backend, half that in FP16). Every
 * file of a new set is read and checked before any weight is changed, so a
 * failing set leaves the previous one in place.
 */
#ifndef T2I_LORA_H
#define T2I_LORA_H

#include "runtime/model.h"

/* Make m's weights the loaded ones plus `loras` (n may be 0: the loaded
 * weights). The same list as the one applied last is a no-op. Errors:
 * T2I_ERR_IO / T2I_ERR_FORMAT (file), T2I_ERR_INVALID_ARG (weight not
 * finite, a tensor that names no weight of the model, shapes that do not
 * fit, a LoRA for two text encoders on a model with one), T2I_ERR_UNSUPPORTED
 * (see above); each message names the file and tensor. */
t2i_status t2i_lora_apply(t2i_model *m, const t2i_lora *loras, int n);

/* Internal (runtime/lora_ldm.c): the diffusers name, in kohya's '_' form,
 * of an original LDM/SGM UNet module name in that form (the part after
 * "lora_unet_"), for UNet config c; 0 if key is not such a name. */
int t2i_lora_ldm_name(const t2i_unet_config *c, const char *key, char *out, size_t n);

/* Free the kept originals (without writing them back): for model destroy. */
void t2i_lora_state_free(t2i_model *m);

#endif
