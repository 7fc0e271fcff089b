// DeepSeek-VL's hybrid aligner (deepseek_vl/models/projector.py MlpProjector, "low_high_hybrid_split_mlp_gelu"):
//   x = concat(high_up_proj(high), low_up_proj(low))        (tokens, n_embed), high half first
//   for each later depth: x = layers.{2k+1}(gelu(x))        nn.GELU (exact erf), Linear(n_embed, n_embed)
// high is the SAM tower's (tokens, input_dim) features, low the SigLIP tower's; both have the same token count
// (576 in DeepSeek-VL 7B). Weights under aligner.{high_up_proj, low_up_proj, layers.1, layers.3, …}, or transformers'
// names (SamCheckpointNames.Aligner).
using Furnace.Formats.Weights;
using Furnace.Models.Sam;
using Furnace.Tensors;

namespace Furnace.Models.DeepSeekVl;

public sealed class HybridAligner
{
    private HybridAligner(HybridAlignerConfig config, WeightMatrix highUp, float[] highUpBias, WeightMatrix lowUp, float[] lowUpBias,
        WeightMatrix[] layers, float[][] layerBiases)
    {
        Config = config;
        HighUp = highUp;
        HighUpBias = highUpBias;
        LowUp = lowUp;
        LowUpBias = lowUpBias;
        Layers = layers;
        LayerBiases = layerBiases;
    }

    public HybridAlignerConfig Config { get; }

    public WeightMatrix HighUp { get; }      // (n_embed/2, input_dim)
    public float[] HighUpBias { get; }
    public WeightMatrix LowUp { get; }       // (n_embed/2, input_dim)
    public float[] LowUpBias { get; }
    public WeightMatrix[] Layers { get; }    // depth − 1 matrices (n_embed, n_embed): layers.1, layers.3, …
    public float[][] LayerBiases { get; }

    /// <summary>root is the checkpoint root; naming is detected (SamCheckpointNames.Detect) when not given.</summary>
    public static HybridAligner Load(WeightLoader root, HybridAlignerConfig c, SamCheckpointNaming? naming = null)
    {
        SamCheckpointNaming n = naming ?? SamCheckpointNames.Detect(root);
        string K(string name) => SamCheckpointNames.Aligner(n, name);
        int half = c.NEmbed / 2;
        if (n == SamCheckpointNaming.DeepSeekVl && root.Contains(K($"layers.{2 * c.Depth - 1}.weight")))
            throw new FurnaceFormatException(root.SourcePath, $"tensor '{K($"layers.{2 * c.Depth - 1}.weight")}' exists, but aligner depth is {c.Depth}");
        var layers = new WeightMatrix[c.Depth - 1];
        var biases = new float[c.Depth - 1][];
        for (int k = 0; k < layers.Length; k++)
        {
            layers[k] = root.Matrix(K($"layers.{2 * k + 1}.weight"), c.NEmbed, c.NEmbed);
            biases[k] = root.Vector(K($"layers.{2 * k + 1}.bias"), c.NEmbed);
        }
        return new HybridAligner(c,
            root.Matrix(K("high_up_proj.weight"), half, c.InputDim), root.Vector(K("high_up_proj.bias"), half),
            root.Matrix(K("low_up_proj.weight"), half, c.InputDim), root.Vector(K("low_up_proj.bias"), half),
            layers, biases);
    }

    /// <summary>Projected rows (tokens, n_embed) from high and low features, each (tokens, input_dim).</summary>
    public float[] Forward(ReadOnlySpan<float> high, ReadOnlySpan<float> low, int tokens, KernelContext ctx)
        => Run(high, low, tokens, Layers.Length, ctx);

    /// <summary>
    /// The aligner up to its last Linear: gelu(x) as that Linear (LastLayer, LastBias) takes it, (tokens, n_embed).
    /// The VLM seam runs this in the vision encoder and the last Linear as its projector. Needs depth >= 2.
    /// </summary>
    public float[] Hidden(ReadOnlySpan<float> high, ReadOnlySpan<float> low, int tokens, KernelContext ctx)
    {
        if (Layers.Length == 0) throw new FurnaceException($"aligner depth {Config.Depth} has no hidden layer (depth >= 2 needed)");
        float[] x = Run(high, low, tokens, Layers.Length - 1, ctx);
        var gelu = new BiasGeluJob { H = x, Bias = [], Cols = Config.NEmbed };
        ctx.Run(ref gelu, tokens);
        return x;
    }

    private float[] Run(ReadOnlySpan<float> high, ReadOnlySpan<float> low, int tokens, int layerCount, KernelContext ctx)
    {
        int d = Config.InputDim, e = Config.NEmbed, half = e / 2;
        if (tokens < 1) throw new FurnaceException($"aligner token count {tokens} must be positive");
        if (high.Length != (long)tokens * d || low.Length != (long)tokens * d)
            throw new FurnaceException($"aligner features hold {high.Length} (high) and {low.Length} (low) values, expected {tokens} x {d} each");
        var up = new float[tokens * half];
        var x = new float[tokens * e];
        MatMul.Forward(up, high, tokens, HighUp, ctx);
        for (int i = 0; i < tokens; i++) up.AsSpan(i * half, half).CopyTo(x.AsSpan(i * e, half));
        MatMul.Forward(up, low, tokens, LowUp, ctx);
        for (int i = 0; i < tokens; i++)
        {
            up.AsSpan(i * half, half).CopyTo(x.AsSpan(i * e + half, half));
            Ops.Add(x.AsSpan(i * e, half), HighUpBias);
            Ops.Add(x.AsSpan(i * e + half, half), LowUpBias);
        }
        if (layerCount == 0) return x;
        var y = new float[tokens * e];
        for (int k = 0; k < layerCount; k++)
        {
            var gelu = new BiasGeluJob { H = x, Bias = [], Cols = e };
            ctx.Run(ref gelu, tokens);
            MatMul.Forward(y, x, tokens, Layers[k], ctx);
            for (int i = 0; i < tokens; i++) Ops.Add(y.AsSpan(i * e, e), LayerBiases[k]);
            (x, y) = (y, x);
        }
        return x;
    }
}
