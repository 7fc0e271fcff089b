// A llama.cpp mmproj GGUF loaded into our own CLIP vision tower and LLaVA projector (the same model code as the
// Hugging Face path, ClipCheckpointNaming.Mmproj). The LLaVA image features follow transformers'
// LlavaForConditionalGeneration: hidden_states[feature layer] (all block_count stored layers, no post_layernorm),
// CLS dropped ("default" select strategy), then mm.0 -> GELU (erf) -> mm.2. llama.cpp's own graph places CLS
// differently (llama.cpp issue #25814), so it is not the numeric reference for these features.
using Furnace.Formats.Gguf;
using Furnace.Formats.Weights;
using Furnace.Models.Projectors;
using Furnace.Tensors;

namespace Furnace.Models.Clip;

public sealed class ClipMmproj : IDisposable
{
    private readonly GgufFile _file;

    private ClipMmproj(GgufFile file, MmprojHeader header, ClipVisionTower tower, Projector? projector)
    {
        _file = file;
        Header = header;
        Tower = tower;
        Projector = projector;
    }

    public MmprojHeader Header { get; }

    public ClipVisionTower Tower { get; }

    /// <summary>The LLaVA projector (mm.0 / mm.2), null for a bare vision tower.</summary>
    public Projector? Projector { get; }

    /// <summary>Width of EncodeImages' rows: the projector's output, else the tower's hidden size.</summary>
    public int OutputDim => Projector?.OutDim ?? Tower.Config.HiddenSize;

    public static ClipMmproj Load(string path)
    {
        GgufFile f = GgufFile.Open(path);
        try
        {
            MmprojHeader h = MmprojHeader.Read(f);
            ClipVisionConfig c = h.Vision;
            if (h.FeatureLayers.Length > 1 || (h.FeatureLayers.Length == 1 && h.FeatureLayers[0] != c.Layers))
                throw new FurnaceFormatException(path, $"clip.vision.feature_layer [{string.Join(", ", h.FeatureLayers)}] is not supported: only the output of the last stored layer ({c.Layers})");
            var vb = new WeightLoader(f);
            int? visual = h.ProjectorType == null && vb.Contains("visual_projection.weight") ? h.ProjectionDim : null;
            var weights = ClipVisionWeights.Load(vb, c, visual, ClipCheckpointNaming.Mmproj);
            Projector? projector = null;
            if (h.ProjectorType == "mlp")
            {
                TensorEntry w0 = vb.Find("mm.0.weight") ?? throw new FurnaceFormatException(path, "missing tensor 'mm.0.weight'");
                if (w0.Shape.Length != 2) throw new FurnaceFormatException(path, $"tensor 'mm.0.weight' has shape {w0.ShapeText}, expected [out, {c.HiddenSize}]");
                projector = Projector.Load(vb.Prefix("mm"), ProjectorKind.Mlp2xGelu, c.HiddenSize, (int)w0.Shape[0]);
            }
            return new ClipMmproj(f, h, new ClipVisionTower(c, weights), projector);
        }
        catch
        {
            f.Dispose();
            throw;
        }
    }

    /// <summary>
    /// LLaVA image features (images * patches, OutputDim): the last stored layer's hidden states without CLS,
    /// through the projector when the file has one.
    /// </summary>
    /// <param name="pixels">(images, 3, S, S) preprocessed pixels, S = image_size.</param>
    public float[] EncodeImages(ReadOnlySpan<float> pixels, int images, KernelContext ctx)
    {
        ClipVisionConfig c = Tower.Config;
        float[] features = Tower.HiddenStates(pixels, images, c.Layers, VisionFeatureStrategy.Default, ctx);
        if (Projector is not { } p) return features;
        int n = images * c.Patches;
        var y = new float[(long)n * p.OutDim];
        p.Forward(y, features, n, ctx);
        return y;
    }

    public void Dispose()
    {
        Tower.Dispose();
        _file.Dispose();
    }
}
