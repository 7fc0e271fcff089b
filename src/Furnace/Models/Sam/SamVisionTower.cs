// The high-resolution tower of DeepSeek-VL 7B: SAM's ViTDet image encoder as DeepSeek-VL builds it
// (deepseek-ai/DeepSeek-VL deepseek_vl/models/sam.py ImageEncoderViT.forward with sam_hd, wrapped by
// clip_encoder.py CLIPVisionTower (image_norm) and HybridVisionTower (rearrange "b c h w -> b (h w) c")):
//   x = Normalize(pixel_mean, pixel_std)(pixels)                          (3, S, S), when the config has them
//   x = patch_embed(x) + pos_embed                                        Conv2d(3, width, p, stride p) → (g, g, width)
//   per block: x += proj(attn(norm1(x))),  x += lin2(gelu(lin1(norm2(x))))   windowed or global, rel-pos terms
//   main = downsamples(resize96(neck(x)));  hd = downsamples(resize96(neck_hd(first global block's x)))
//   features = main + hd_alpha · hd                                       (24·24, 1024) for sam_b_downsample
// resize96 is F.interpolate(size=(96, 96), bilinear, align_corners=False); GELU is nn.GELU's exact erf form
// (through ErfFit, |erf error| ~1.2e-7).
// Everything runs channels-last (token rows), so LayerNorm2d is a row LayerNorm over each pixel's channels and the
// result is already HybridVisionTower's (tokens, channels). One image at a time; the tower owns one SamState, so it
// serves one calling thread at a time (as a KernelContext does).
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models.Clip;
using Furnace.Tensors;

namespace Furnace.Models.Sam;

public sealed class SamVisionTower : IDisposable
{
    private readonly ITensorSource? _owned;
    private readonly SamState _s;

    public SamVisionTower(SamVitConfig config, SamVitWeights weights, ITensorSource? owned = null)
    {
        Config = config;
        Weights = weights;
        _owned = owned;
        _s = new SamState(config);
    }

    public SamVitConfig Config { get; }

    public SamVitWeights Weights { get; }

    /// <summary>The tower of a checkpoint directory in DeepSeek's or transformers' layout (detected).</summary>
    public static SamVisionTower Load(string path, SamVitConfig config)
    {
        ITensorSource source = SafeTensorsCheckpoint.Open(path);
        try
        {
            return new SamVisionTower(config, SamVitWeights.Load(new WeightLoader(source), config), source);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    public void Dispose() => _owned?.Dispose();

    /// <summary>Features (OutputTokens, OutputChannels) of one image (3, S, S) as the image processor leaves it.</summary>
    public float[] Encode(ReadOnlySpan<float> pixels, KernelContext ctx)
    {
        var result = new float[(long)Config.OutputTokens * Config.OutputChannels];
        Encode(pixels, result, ctx);
        return result;
    }

    public void Encode(ReadOnlySpan<float> pixels, Span<float> output, KernelContext ctx)
    {
        SamVitConfig c = Config;
        if (output.Length != (long)c.OutputTokens * c.OutputChannels)
            throw new FurnaceException($"SAM tower output holds {output.Length} values, expected {c.OutputTokens} x {c.OutputChannels}");
        Trunk(pixels, ctx);
        Span<float> main = Compress(_s.X, Weights.Neck, ctx);
        main.CopyTo(output);
        if (Weights.HdAlpha != 0) // the branch adds hd_alpha · hd; with alpha 0 that is +0 (barring inf/NaN features)
        {
            Span<float> hd = Compress(_s.Global, Weights.NeckHd, ctx);
            Ops.Axpy(output, Weights.HdAlpha, hd);
        }
    }

    /// <summary>The (grid², width) token map after the last block, before the neck (a copy).</summary>
    public float[] EncodeTrunk(ReadOnlySpan<float> pixels, KernelContext ctx)
    {
        Trunk(pixels, ctx);
        return _s.X.AsSpan(0, Config.Grid * Config.Grid * Config.Width).ToArray();
    }

    // normalize, patch-embed, position, blocks: _s.X holds the trunk's output, _s.Global the first global block's
    private void Trunk(ReadOnlySpan<float> pixels, KernelContext ctx)
    {
        SamVitConfig c = Config;
        int s = c.ImageSize, g = c.Grid, t = g * g, w = c.Width;
        if (pixels.Length != 3L * s * s) throw new FurnaceException($"SAM tower input holds {pixels.Length} values, expected 3 x {s} x {s}");
        Normalize(pixels);
        Conv2d.Forward(_s.X, _s.Pixels, new Conv2dShape(3, s, s, w, c.PatchSize, c.PatchSize, 0), false, Weights.PatchEmbed, Weights.PatchEmbedBias, ctx);
        Ops.Add(_s.X.AsSpan(0, t * w), Weights.PosEmbed);
        int firstGlobal = c.FirstGlobal;
        for (int i = 0; i < c.Layers; i++)
        {
            Block(Weights.Blocks[i], ctx);
            if (i == firstGlobal) _s.X.AsSpan(0, t * w).CopyTo(_s.Global);
        }
    }

    // torchvision Normalize of CLIPVisionTower.image_norm: (x − mean[c]) / std[c]
    private void Normalize(ReadOnlySpan<float> pixels)
    {
        int plane = Config.ImageSize * Config.ImageSize;
        if (Config.PixelMean is not { } mean || Config.PixelStd is not { } std)
        {
            pixels.CopyTo(_s.Pixels);
            return;
        }
        for (int ch = 0; ch < 3; ch++)
        {
            ReadOnlySpan<float> src = pixels.Slice(ch * plane, plane);
            Span<float> dst = _s.Pixels.AsSpan(ch * plane, plane);
            float m = mean[ch], sd = std[ch];
            for (int i = 0; i < plane; i++) dst[i] = (src[i] - m) / sd;
        }
    }

    private void Block(SamBlockWeights b, KernelContext ctx)
    {
        SamVitConfig c = Config;
        int g = c.Grid, t = g * g, w = c.Width, mlp = c.MlpDim;
        float[] x = _s.X, xn = _s.XNorm;
        ClipEncoder.LayerNormRows(xn, x, t, w, b.Norm1Weight, b.Norm1Bias, c.LayerNormEps, ctx);
        MatMul.Forward(_s.Qkv.AsSpan(0, t * 3 * w), xn.AsSpan(0, t * w), t, b.Qkv, ctx);
        var bias = new BiasRowsJob { Y = _s.Qkv, B = b.QkvBias };
        ctx.Run(ref bias, t);
        Attention.WindowedRelPos(_s.Attn, _s.Qkv, b.QkvBias, g, g, b.Window, c.Heads, c.HeadDim, b.RelH, b.RelW, ctx);
        MatMul.Forward(_s.Proj.AsSpan(0, t * w), _s.Attn.AsSpan(0, t * w), t, b.Proj, ctx);
        var attnResidual = new ClipEncoder.ResidualJob { X = x, P = _s.Proj, B = b.ProjBias };
        ctx.Run(ref attnResidual, t);

        ClipEncoder.LayerNormRows(xn, x, t, w, b.Norm2Weight, b.Norm2Bias, c.LayerNormEps, ctx);
        MatMul.Forward(_s.Hidden.AsSpan(0, t * mlp), xn.AsSpan(0, t * w), t, b.Lin1, ctx);
        var act = new BiasGeluJob { H = _s.Hidden, Bias = b.Lin1Bias, Cols = mlp };
        ctx.Run(ref act, t);
        MatMul.Forward(_s.Proj.AsSpan(0, t * w), _s.Hidden.AsSpan(0, t * mlp), t, b.Lin2, ctx);
        var mlpResidual = new ClipEncoder.ResidualJob { X = x, P = _s.Proj, B = b.Lin2Bias };
        ctx.Run(ref mlpResidual, t);
    }

    // downsamples(resize96(neck(x))) of a (grid², width) map: the (tokens, channels) result, in the state's buffers
    private Span<float> Compress(float[] x, SamNeckWeights neck, KernelContext ctx)
    {
        SamVitConfig c = Config;
        int g = c.Grid, t = g * g, o = c.OutChans, r = c.NeckResize;
        Conv2d.Forward(_s.Neck1, x, new Conv2dShape(c.Width, g, g, o, 1, 1, 0), true, neck.Conv1, [], ctx);
        ClipEncoder.LayerNormRows(_s.Neck1, _s.Neck1, t, o, neck.Norm1Weight, neck.Norm1Bias, c.LayerNormEps, ctx);
        Conv2d.Forward(_s.Neck2, _s.Neck1, new Conv2dShape(o, g, g, o, 3, 1, 1), true, neck.Conv2, [], ctx);
        ClipEncoder.LayerNormRows(_s.Neck2, _s.Neck2, t, o, neck.Norm2Weight, neck.Norm2Bias, c.LayerNormEps, ctx);
        Bilinear.Resize(_s.Resized, _s.Neck2, g, g, r, r, o, ctx);
        float[] src = _s.Resized;
        int side = r, cin = o;
        for (int j = 0; j < Weights.Downsamples.Length; j++)
        {
            float[] dst = j % 2 == 0 ? _s.DownA : _s.DownB;
            var shape = new Conv2dShape(cin, side, side, c.DownsampleChannels[j], 3, 2, 1);
            Conv2d.Forward(dst, src, shape, true, Weights.Downsamples[j], [], ctx);
            src = dst;
            side = shape.OutHeight;
            cin = shape.OutChannels;
        }
        return src.AsSpan(0, side * side * cin);
    }

    // rows of Y += B
    private struct BiasRowsJob : IParallelJob
    {
        public float[] Y, B;

        public readonly void Execute(int start, int end, int thread)
        {
            int d = B.Length;
            for (int r = start; r < end; r++) Ops.Add(Y.AsSpan(r * d, d), B);
        }
    }
}
