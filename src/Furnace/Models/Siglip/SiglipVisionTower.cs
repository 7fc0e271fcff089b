// The SigLIP tower forward in timm's VisionTransformer.forward_features form (deepseek_vl/models/siglip_vit.py,
// class_token False, no_embed_class False, pre_norm False, ignore_head True):
//   x = Conv2d(pixels, kernel = stride = patch) + bias        as im2col (B*P, C*p*p) @ W^T (d, C*p*p)
//   x += pos_embed                                           (B, P, d)
//   x = blocks[0 .. UsedLayers)(x)                           pre-norm: x += proj(attn(qkv(norm1 x))); x += fc2(gelu(fc1(norm2 x)))
//   x = norm(x)                                              the final LayerNorm, also after a truncated stack (FinalNorm)
// A batch of images runs as one sequence of GEMMs over all their tokens (the CLIP encoder's kernels); the tower keeps
// one ClipEncoderState grown to the largest batch seen, so it serves one calling thread at a time.
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models.Clip;
using Furnace.Models.Layers;
using Furnace.Tensors;

namespace Furnace.Models.Siglip;

public sealed class SiglipVisionTower : IDisposable
{
    private readonly ITensorSource? _owned;
    private ClipEncoderState? _state;

    public SiglipVisionTower(SiglipVisionConfig config, SiglipVisionWeights weights, ITensorSource? owned = null)
    {
        Config = config;
        Weights = weights;
        _owned = owned;
    }

    public SiglipVisionConfig Config { get; }

    public SiglipVisionWeights Weights { get; }

    /// <summary>Loads the tower from a prefix of an open checkpoint (the source stays the caller's).</summary>
    public static SiglipVisionTower Load(WeightLoader vb, SiglipVisionConfig config) => new(config, SiglipVisionWeights.Load(vb, config));

    /// <summary>Features (images, Patches, Width) after the kept blocks and (FinalNorm) the final norm.</summary>
    /// <param name="pixels">(images, C, S, S) preprocessed pixels, S = ImageSize, row-major.</param>
    public float[] Encode(ReadOnlySpan<float> pixels, int images, KernelContext ctx)
    {
        SiglipVisionConfig c = Config;
        if (images < 1) throw new FurnaceException($"image count {images} must be positive");
        long expected = (long)images * c.Channels * c.ImageSize * c.ImageSize;
        if (pixels.Length != expected)
            throw new FurnaceException($"pixels hold {pixels.Length} values, expected {images} x {c.Channels} x {c.ImageSize} x {c.ImageSize} = {expected}");
        int d = c.Width, seq = c.Patches, tokens = images * seq;
        ClipEncoderState s = StateFor(tokens, images);

        Span<float> patches = s.Im2Col.AsSpan(0, tokens * c.PatchValues);
        PatchIm2Col.Fill(patches, pixels, images, c.Channels, c.ImageSize, c.PatchSize);
        Span<float> x = s.X.AsSpan(0, tokens * d);
        MatMul.Forward(x, patches, tokens, Weights.PatchEmbedding, ctx);
        for (int t = 0; t < tokens; t++)
        {
            Span<float> row = x.Slice(t * d, d);
            Ops.Add(row, Weights.PatchBias);
            Ops.Add(row, Weights.PositionEmbedding.AsSpan((t % seq) * d, d));
        }
        ClipEncoder.Run(Weights.Blocks, 0, Weights.Blocks.Length, s, images, seq, causal: false, c.Heads, c.LayerNormEps, c.Activation, ctx);
        var result = new float[(long)tokens * d];
        if (c.FinalNorm) ClipEncoder.LayerNormRows(s.X, s.X, tokens, d, Weights.NormWeight, Weights.NormBias, c.LayerNormEps, ctx);
        s.X.AsSpan(0, tokens * d).CopyTo(result);
        return result;
    }

    private ClipEncoderState StateFor(int tokens, int images)
    {
        if (_state == null || _state.MaxTokens < tokens)
            _state = new ClipEncoderState(Config.Width, Config.MlpDim, tokens, images * Config.Patches * Config.PatchValues);
        return _state;
    }

    public void Dispose() => _owned?.Dispose();
}
