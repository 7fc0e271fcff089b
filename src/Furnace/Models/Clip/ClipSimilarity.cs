// The image-text scores of CLIPModel.forward: logits_per_image (images, texts) = cos(image_i, text_j) *
// exp(logit_scale) and their softmax over the texts of each image (what CLIP zero-shot classification reports).
namespace Furnace.Models.Clip;

public sealed record ClipSimilarity(int Images, int Texts, float[] LogitsPerImage, float[] Probabilities)
{
    public float Logit(int image, int text) => LogitsPerImage[image * Texts + text];

    public float Probability(int image, int text) => Probabilities[image * Texts + text];
}
