// How raw pixels (0–255, RGB planes) become the values a graph's image input expects.
// Per model channel c, reading source plane src(c) (c for RGB, 2 − c for BGR):
//   y[c, h, w] = (x[src(c), h, w] · Scale − MeanImage[c, h, w] − Mean[c]) / Std[c]
// Scale/Mean/Std mirror Hugging Face's CLIPImageProcessor (rescale_factor, image_mean, image_std);
// MeanImage mirrors Caffe/CNTK mean files (a per-pixel mean, as in ML.NET's ResNetPreprocess.onnx).
namespace Furnace.Models.Onnx;

public sealed record PixelNormalization
{
    public float Scale { get; init; } = 1f;

    /// <summary>Per model channel; null means 0.</summary>
    public float[]? Mean { get; init; }

    /// <summary>Per model channel; null means 1.</summary>
    public float[]? Std { get; init; }

    public ChannelOrder ChannelOrder { get; init; } = ChannelOrder.Rgb;

    /// <summary>(C, H, W) in the model's channel order, subtracted after scaling; null for none.</summary>
    public float[]? MeanImage { get; init; }

    /// <summary>Pass the 0–255 RGB planes through untouched: the graph does its own preprocessing.</summary>
    public static PixelNormalization None { get; } = new();

    /// <summary>OpenAI CLIP (and Hugging Face CLIPImageProcessor's defaults).</summary>
    public static PixelNormalization Clip { get; } = new()
    {
        Scale = 1f / 255f,
        Mean = [0.48145466f, 0.4578275f, 0.40821073f],
        Std = [0.26862954f, 0.26130258f, 0.27577711f],
    };

    /// <summary>torchvision ImageNet models.</summary>
    public static PixelNormalization ImageNet { get; } = new()
    {
        Scale = 1f / 255f,
        Mean = [0.485f, 0.456f, 0.406f],
        Std = [0.229f, 0.224f, 0.225f],
    };

    internal bool IsIdentity =>
        Scale == 1f && Mean is null && Std is null && ChannelOrder == ChannelOrder.Rgb && MeanImage is null;

    /// <summary>src (C, H, W) raw pixels -> dst (C, H, W) model input; same length.</summary>
    internal void Apply(ReadOnlySpan<float> src, Span<float> dst, int channels, int plane)
    {
        for (int c = 0; c < channels; c++)
        {
            int from = ChannelOrder == ChannelOrder.Bgr ? channels - 1 - c : c;
            float mean = Mean?[c] ?? 0f;
            float std = Std?[c] ?? 1f;
            ReadOnlySpan<float> x = src.Slice(from * plane, plane);
            Span<float> y = dst.Slice(c * plane, plane);
            ReadOnlySpan<float> meanImage = MeanImage is null ? default : MeanImage.AsSpan(c * plane, plane);
            for (int i = 0; i < plane; i++)
            {
                float v = x[i] * Scale;
                if (!meanImage.IsEmpty) v -= meanImage[i];
                y[i] = (v - mean) / std;
            }
        }
    }
}
