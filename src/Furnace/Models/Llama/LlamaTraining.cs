// How the decoder's weights take part in training (LLaVA's stages): frozen (stage 1, projector only), adapted with
// LoRA on a frozen base (LLaVA-1.5 LoRA, QLoRA), or fully trainable float32 copies (stage 2 full fine-tuning).
namespace Furnace.Models.Llama;

public enum LlamaTraining
{
    Frozen,
    Lora,
    Full,
}
