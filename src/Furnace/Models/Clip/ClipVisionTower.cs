// The CLIP vision tower forward (transformers modeling_clip.py CLIPVisionTransformer, CLIPVisionEmbeddings and
// CLIPModel.get_image_features; Radford et al. 2021, ViT of Dosovitskiy et al. 2020):
//   patches = Conv2d(pixels, stride = kernel = patch, no bias)      as im2col (B*P, C*p*p) @ W^T (d, C*p*p)
//   x = [class_embedding; patches] + position_embedding             (B, 1+P, d)
//   hidden_states[0] = pre_layrnorm(x); hidden_states[i] = encoder layer i-1 of it (bidirectional attention)
//   pooled = post_layernorm(hidden_states[L][:, 0]);  image_embeds = visual_projection(pooled)   (no bias)
// A batch of images runs as one sequence of GEMMs over all their tokens. The tower keeps one ClipEncoderState,
// grown to the largest batch seen, so it serves one calling thread at a time (as a KernelContext does).
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models.Layers;
using Furnace.Tensors;

namespace Furnace.Models.Clip;

public sealed class ClipVisionTower : IDisposable
{
    private readonly ITensorSource? _owned;
    private ClipEncoderState? _state;
    private ClipLayerPanels[]? _panels;     // pre-packed f32 layers (MatMulPanel), made on the first forward pass
    private PanelMatrix? _patchPanel;
    private bool _packed;

    public ClipVisionTower(ClipVisionConfig config, ClipVisionWeights weights, ITensorSource? owned = null)
    {
        Config = config;
        Weights = weights;
        _owned = owned;
    }

    public ClipVisionConfig Config { get; }

    public ClipVisionWeights Weights { get; }

    /// <summary>Width of EncodeImage's output (projection_dim); null when the checkpoint has no visual_projection.</summary>
    public int? EmbeddingDim => Weights.Projection?.Rows;

    /// <summary>Loads the vision tower (and visual_projection when the config has one) of an HF CLIP directory.</summary>
    public static ClipVisionTower Load(string dir)
    {
        ClipConfig c = ClipConfig.FromHuggingFace(dir);
        ITensorSource source = SafeTensorsCheckpoint.Open(dir);
        try
        {
            var weights = ClipVisionWeights.Load(new WeightLoader(source), c.Vision, c.Architecture == ClipArchitecture.VisionModel ? null : c.ProjectionDim);
            return new ClipVisionTower(c.Vision, weights, source);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether F32 matrices are copied once into MatMulPanel's pre-packed layout on the first forward pass (default;
    /// faster at every batch size, costs one extra f32 copy of the encoder's matrices). Set before the first encode.
    /// </summary>
    public bool PackWeights { get; set; } = true;

    /// <summary>Bytes held by the pre-packed copies (0 before the first forward pass or when nothing packed).</summary>
    public long PackedBytes => (_patchPanel?.Bytes ?? 0) + (_panels?.Sum(p => p.Wq.Bytes + p.Wk.Bytes + p.Wv.Bytes + p.Wo.Bytes + p.Fc1.Bytes + p.Fc2.Bytes) ?? 0);

    public void Dispose()
    {
        if (_panels != null)
            foreach (ClipLayerPanels p in _panels) p.Dispose();
        _panels = null;
        _patchPanel?.Dispose();
        _patchPanel = null;
        _owned?.Dispose();
    }

    private void PackOnce(KernelContext ctx)
    {
        if (_packed || !PackWeights) return;
        _packed = true;
        _panels = ClipLayerPanels.TryPack(Weights.Layers, Weights.Layers.Length, ctx);
        if (PanelMatrix.Supports(Weights.PatchEmbedding)) _patchPanel = PanelMatrix.Pack(Weights.PatchEmbedding, ctx);
    }

    /// <summary>Image embeddings (images, projection_dim) as get_image_features returns them (not normalized).</summary>
    /// <param name="pixels">(images, C, H, W) preprocessed pixels, H = W = image_size, row-major.</param>
    public float[] EncodeImages(ReadOnlySpan<float> pixels, int images, KernelContext ctx)
    {
        WeightMatrix projection = Weights.Projection ?? throw new FurnaceException("this CLIP vision checkpoint has no visual_projection (CLIPVisionModel); use PooledOutput or HiddenStates");
        float[] pooled = PooledOutput(pixels, images, ctx);
        var embeds = new float[images * projection.Rows];
        MatMul.Forward(embeds, pooled, images, projection, ctx);
        return embeds;
    }

    /// <summary>The embedding (projection_dim,) of one image (C, H, W).</summary>
    public float[] EncodeImage(ReadOnlySpan<float> pixels, KernelContext ctx) => EncodeImages(pixels, 1, ctx);

    /// <summary>pooler_output (images, d): post_layernorm of the last layer's CLS token.</summary>
    public float[] PooledOutput(ReadOnlySpan<float> pixels, int images, KernelContext ctx)
    {
        ClipVisionConfig c = Config;
        int d = c.HiddenSize, seq = c.Positions;
        if (Weights.PostNormWeight is not { } postW || Weights.PostNormBias is not { } postB)
            throw new FurnaceException("this vision tower has no post_layernorm (a LLaVA mmproj file drops it); use HiddenStates");
        ClipEncoderState s = Run(pixels, images, c.Layers, ctx);
        var pooled = new float[images * d];
        for (int b = 0; b < images; b++)
            Ops.LayerNorm(pooled.AsSpan(b * d, d), s.X.AsSpan(b * seq * d, d), postW, postB, c.LayerNormEps);
        return pooled;
    }

    /// <summary>
    /// hidden_states[layer] of transformers' output_hidden_states, (images, tokens, d): index 0 is the embedding
    /// after pre_layrnorm, index i the output of encoder layer i-1, L the last_hidden_state (no post_layernorm).
    /// Negative layers count from the end as Python does: -1 is L, -2 the input of the last layer (LLaVA's
    /// vision_feature_layer). Default drops CLS (tokens = patches), Full keeps it (tokens = 1 + patches).
    /// Only the layers up to the one asked for are computed.
    /// </summary>
    public float[] HiddenStates(ReadOnlySpan<float> pixels, int images, int layer, VisionFeatureStrategy strategy, KernelContext ctx)
    {
        ClipVisionConfig c = Config;
        int index = layer < 0 ? c.Layers + 1 + layer : layer;
        if (index < 0 || index > c.Layers)
            throw new FurnaceException($"vision feature layer {layer} is outside the {c.Layers + 1} hidden states [-{c.Layers + 1}, {c.Layers}]");
        int d = c.HiddenSize, seq = c.Positions, skip = strategy == VisionFeatureStrategy.Default ? 1 : 0, keep = seq - skip;
        ClipEncoderState s = Run(pixels, images, index, ctx);
        var result = new float[(long)images * keep * d];
        for (int b = 0; b < images; b++)
            s.X.AsSpan((b * seq + skip) * d, keep * d).CopyTo(result.AsSpan(b * keep * d, keep * d));
        return result;
    }

    // Embeddings + pre_layrnorm + the first `layers` encoder layers; the state's X holds hidden_states[layers].
    private ClipEncoderState Run(ReadOnlySpan<float> pixels, int images, int layers, KernelContext ctx)
    {
        ClipVisionConfig c = Config;
        if (images < 1) throw new FurnaceException($"image count {images} must be positive");
        long expected = (long)images * c.NumChannels * c.ImageSize * c.ImageSize;
        if (pixels.Length != expected)
            throw new FurnaceException($"pixels hold {pixels.Length} values, expected {images} x {c.NumChannels} x {c.ImageSize} x {c.ImageSize} = {expected}");
        int seq = c.Positions, tokens = images * seq;
        ClipEncoderState s = StateFor(tokens, images);
        PackOnce(ctx);
        Embed(pixels, images, s, ctx);
        ClipEncoder.LayerNormRows(s.X, s.X, tokens, c.HiddenSize, Weights.PreNormWeight, Weights.PreNormBias, c.LayerNormEps, ctx);
        if (layers > 0)
            ClipEncoder.Run(Weights.Layers, 0, layers, s, images, seq, causal: false, c.Heads, c.LayerNormEps, c.Activation, ctx, _panels);
        return s;
    }

    // s.X (images*(1+P), d) = [class; conv(pixels)] + position embeddings
    private void Embed(ReadOnlySpan<float> pixels, int images, ClipEncoderState s, KernelContext ctx)
    {
        ClipVisionConfig c = Config;
        int p = c.PatchSize, img = c.ImageSize, d = c.HiddenSize, cols = c.PatchValues, seq = c.Positions;
        Span<float> patches = s.Im2Col.AsSpan(0, images * c.Patches * cols);
        PatchIm2Col.Fill(patches, pixels, images, c.NumChannels, img, p);
        Span<float> embedded = s.Proj.AsSpan(0, images * c.Patches * d);
        if (_patchPanel != null) MatMulPanel.Forward(embedded, patches, images * c.Patches, _patchPanel, default, accumulate: false, ctx);
        else MatMul.Forward(embedded, patches, images * c.Patches, Weights.PatchEmbedding, ctx);

        ReadOnlySpan<float> pos = Weights.PositionEmbedding;
        for (int b = 0; b < images; b++)
        {
            Span<float> x = s.X.AsSpan(b * seq * d, seq * d);
            Weights.ClassEmbedding.CopyTo(x);
            embedded.Slice(b * c.Patches * d, c.Patches * d).CopyTo(x.Slice(d));
            Ops.Add(x, pos);
        }
    }

    private ClipEncoderState StateFor(int tokens, int images)
    {
        if (_state == null || _state.MaxTokens < tokens)
            _state = new ClipEncoderState(Config.HiddenSize, Config.IntermediateSize, tokens, images * Config.Patches * Config.PatchValues);
        return _state;
    }
}
