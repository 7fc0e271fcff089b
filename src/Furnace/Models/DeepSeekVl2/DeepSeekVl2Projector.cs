// DeepSeek-VL2's vision-language adaptor, MlpProjector with projector_type downsample_mlp_gelu
// (modeling_deepseek_vl_v2.py at DeepSeek-VL2 ef9f91e): each view's side × side patch grid is zero-padded at the
// bottom/right to a multiple of r (F.pad), then F.unfold(kernel r, stride r) turns every r × r block into one vector
// laid out channel-major — element c·r² + ki·r + kj = x[i·r + ki, j·r + kj, c] — and the blocks, row-major, go
// through Linear → (GELU → Linear)… with erf GELU. Weights: projector.layers.{0, 2, 4, …}.{weight, bias}.
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Models.DeepSeekVl2;

public sealed class DeepSeekVl2Projector
{
    private readonly WeightMatrix[] _w;
    private readonly float[][] _b;
    private float[] _a = [], _c = [];

    private DeepSeekVl2Projector(DeepSeekVl2ProjectorConfig config, WeightMatrix[] w, float[][] b)
    {
        Config = config;
        _w = w;
        _b = b;
    }

    public DeepSeekVl2ProjectorConfig Config { get; }

    public int OutDim => Config.NEmbed;

    /// <summary>Loads layers.{2k}.weight/bias under vb (the checkpoint's "projector." prefix).</summary>
    public static DeepSeekVl2Projector Load(WeightLoader vb, DeepSeekVl2ProjectorConfig c)
    {
        int n = c.LinearCount;
        var w = new WeightMatrix[n];
        var b = new float[n][];
        for (int i = 0; i < n; i++)
        {
            int input = i == 0 ? c.UnfoldedDim : c.HiddenDim, output = i == n - 1 ? c.NEmbed : c.HiddenDim;
            var layer = vb.Prefix($"layers.{2 * i}");
            w[i] = layer.Matrix("weight", output, input);
            b[i] = layer.Vector("bias", output);
        }
        return new DeepSeekVl2Projector(c, w, b);
    }

    /// <summary>(name, [out, in] or [out]) of every tensor under "projector.", in the Sequential's order.</summary>
    public static IEnumerable<(string Name, long[] Shape)> TensorShapes(DeepSeekVl2ProjectorConfig c)
    {
        int n = c.LinearCount;
        for (int i = 0; i < n; i++)
        {
            int input = i == 0 ? c.UnfoldedDim : c.HiddenDim, output = i == n - 1 ? c.NEmbed : c.HiddenDim;
            yield return ($"layers.{2 * i}.weight", [output, input]);
            yield return ($"layers.{2 * i}.bias", [output]);
        }
    }

    /// <summary>Projected tokens per view of a gridSide × gridSide patch grid.</summary>
    public int TokensPerView(int gridSide)
    {
        int s = DeepSeekVl2Tiling.TokensPerSide(gridSide, Config.DownsampleRatio);
        return s * s;
    }

    // y (views, TokensPerView(side), NEmbed) = projector(features (views, side·side, InputDim))
    public void Forward(Span<float> y, ReadOnlySpan<float> features, int views, int gridSide, KernelContext ctx)
    {
        int r = Config.DownsampleRatio, dim = Config.InputDim, side = DeepSeekVl2Tiling.TokensPerSide(gridSide, r);
        int perView = side * side, rows = views * perView, unfolded = Config.UnfoldedDim;
        if (features.Length != (long)views * gridSide * gridSide * dim)
            throw new ArgumentException($"features hold {features.Length} floats, not ({views}, {gridSide}², {dim})");
        if (y.Length != (long)rows * OutDim) throw new ArgumentException($"y holds {y.Length} floats, not ({views}, {perView}, {OutDim})");
        Grow(ref _a, rows * Math.Max(unfolded, Config.HiddenDim));
        Grow(ref _c, rows * Config.HiddenDim);

        Span<float> x = _a.AsSpan(0, rows * unfolded);
        x.Clear(); // the padding cells stay zero
        for (int v = 0; v < views; v++)
        {
            ReadOnlySpan<float> grid = features.Slice(v * gridSide * gridSide * dim, gridSide * gridSide * dim);
            for (int i = 0; i < side; i++)
                for (int j = 0; j < side; j++)
                {
                    Span<float> dst = x.Slice(((v * side + i) * side + j) * unfolded, unfolded);
                    for (int ki = 0; ki < r; ki++)
                    {
                        int py = i * r + ki;
                        if (py >= gridSide) break;
                        for (int kj = 0; kj < r; kj++)
                        {
                            int px = j * r + kj;
                            if (px >= gridSide) break;
                            ReadOnlySpan<float> cell = grid.Slice((py * gridSide + px) * dim, dim);
                            int k = ki * r + kj, rr = r * r;
                            for (int ch = 0; ch < dim; ch++) dst[ch * rr + k] = cell[ch];
                        }
                    }
                }
        }

        // Linear layers ping-pong between the two buffers; the last writes y.
        Span<float> input = x;
        bool inA = true;
        for (int l = 0; l < _w.Length; l++)
        {
            bool last = l == _w.Length - 1;
            int outDim = _w[l].Rows;
            Span<float> output = last ? y : (inA ? _c : _a).AsSpan(0, rows * outDim);
            MatMul.Forward(output, input, rows, _w[l], ctx);
            for (int t = 0; t < rows; t++) Ops.Add(output.Slice(t * outDim, outDim), _b[l]);
            if (last) break;
            Ops.GeluErf(output);
            input = output;
            inA = !inA;
        }
    }

    private static void Grow(ref float[] buffer, int n)
    {
        if (buffer.Length < n) buffer = new float[n];
    }
}
