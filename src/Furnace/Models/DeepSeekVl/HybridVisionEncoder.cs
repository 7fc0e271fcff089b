// DeepSeek-VL 7B's HybridVisionTower behind the VLM's vision seam (IVisionEncoder), deepseek_vl/models/clip_encoder.py:
// the processor's (3, S, S) tensor (S = 1024) goes as is to the SAM tower (which applies high_res_cfg's
// pixel_mean/pixel_std itself), and resized to (3, L, L) (L = 384, Resize(antialias=True)) then normalised with
// low_res_cfg's pixel_mean/pixel_std to the SigLIP tower; the two (tokens, input_dim) feature sets go through the
// low_high_hybrid_split_mlp_gelu aligner up to its last Linear (HybridAligner.Hidden). The features this encoder gives
// are therefore the last Linear's input, (tokens, n_embed); the loader makes that Linear the model's Projector, so
// encoder + projector = modeling_vlm's aligner(vision_model(images)).
using Furnace.Formats.Images;
using Furnace.Models.Sam;
using Furnace.Models.Siglip;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Models.DeepSeekVl;

public sealed class HybridVisionEncoder : IVisionEncoder
{
    private readonly Func<RgbImage, PixelValues> _preprocess;
    private readonly double[]? _lowMean, _lowStd;

    public HybridVisionEncoder(SamVisionTower high, SiglipVisionTower low, HybridAligner aligner, Func<RgbImage, PixelValues> preprocess,
        double[]? lowMean, double[]? lowStd)
    {
        if (high.Config.OutputTokens != low.Config.Patches)
            throw new FurnaceException($"the SAM tower gives {high.Config.OutputTokens} feature rows but the SigLIP tower {low.Config.Patches}; the hybrid aligner needs the same count");
        if (high.Config.OutputChannels != aligner.Config.InputDim || low.Config.Width != aligner.Config.InputDim)
            throw new FurnaceException($"the hybrid aligner takes {aligner.Config.InputDim}-d features but the towers give {high.Config.OutputChannels} (SAM) and {low.Config.Width} (SigLIP)");
        High = high;
        Low = low;
        Aligner = aligner;
        _preprocess = preprocess;
        _lowMean = lowMean;
        _lowStd = lowStd;
    }

    public SamVisionTower High { get; }

    public SiglipVisionTower Low { get; }

    public HybridAligner Aligner { get; }

    public int TokensPerImage => Low.Config.Patches;

    public int FeatureDim => Aligner.Config.NEmbed;

    public float[] Encode(IReadOnlyList<RgbImage> images, KernelContext ctx)
    {
        if (images.Count == 0) throw new FurnaceException("no images to encode");
        int s = High.Config.ImageSize, l = Low.Config.ImageSize, tokens = TokensPerImage, e = FeatureDim;
        var result = new float[(long)images.Count * tokens * e];
        for (int i = 0; i < images.Count; i++)
        {
            PixelValues px = _preprocess(images[i]);
            if (px.Height != s || px.Width != s || px.Channels != 3)
                throw new FurnaceException($"the image processor makes {px.Width}x{px.Height} images but the SAM tower takes {s}x{s}");
            float[] high = High.Encode(px.Data, ctx);
            float[] lowPixels = HybridLowResInput.Resize(px.Data, s, l);
            if (_lowMean != null && _lowStd != null) Normalize(lowPixels, l * l, _lowMean, _lowStd);
            float[] low = Low.Encode(lowPixels, 1, ctx);
            Aligner.Hidden(high, low, tokens, ctx).CopyTo(result.AsSpan(i * tokens * e, tokens * e));
        }
        return result;
    }

    /// <summary>torchvision Normalize(mean, std) in place on (3, plane) float32 values, as CLIPVisionTower.image_norm.</summary>
    internal static void Normalize(Span<float> chw, int plane, double[] mean, double[] std)
    {
        for (int ch = 0; ch < 3; ch++)
        {
            float m = (float)mean[ch], sd = (float)std[ch];
            Span<float> p = chw.Slice(ch * plane, plane);
            for (int i = 0; i < p.Length; i++) p[i] = (p[i] - m) / sd;
        }
    }

    public void Dispose()
    {
        High.Dispose();
        Low.Dispose();
    }
}
