// A multimodal prompt ready for the decoder (HF LlavaForConditionalGeneration.forward semantics): input_ids where
// each <image> placeholder is expanded into one image_token_index slot per feature row, and inputs_embeds with the
// token embeddings at text positions and the projected image features at the image slots, in order.
namespace Furnace.Models.Vlm;

public sealed record LlavaPrompt(
    /// <summary>(positions,) token ids, ImageTokenIndex at image slots (as the HF processor expands them).</summary>
    int[] InputIds,
    /// <summary>(positions, dim) decoder input embeddings.</summary>
    float[] Embeddings,
    /// <summary>The text token ids only, in order (the repetition penalty's view of the prompt).</summary>
    int[] TextIds,
    int Images)
{
    public int Positions => InputIds.Length;
}
