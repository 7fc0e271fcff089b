// CLIP hidden-state selection as LLaVA uses it (modeling_llava.py get_image_features): hidden_states[vision_feature_layer]
// of the vision tower, CLS dropped for the "default" strategy, after the HF image processor's preprocessing.
using Furnace.Formats.Images;
using Furnace.Models.Clip;
using Furnace.Tensors;

namespace Furnace.Models.Vlm;

public sealed class ClipVisionEncoder : IVisionEncoder
{
    private readonly bool _ownsTower;

    public ClipVisionEncoder(ClipVisionTower tower, ImagePreprocessor preprocessor, int layer = -2,
        VisionFeatureStrategy strategy = VisionFeatureStrategy.Default, bool ownsTower = true)
    {
        Tower = tower;
        Preprocessor = preprocessor;
        Layer = layer;
        Strategy = strategy;
        _ownsTower = ownsTower;
        var c = tower.Config;
        if (preprocessor.Config.CropHeight != c.ImageSize && preprocessor.Config.DoCenterCrop)
            throw new FurnaceException($"the image processor crops to {preprocessor.Config.CropHeight} pixels but the vision tower takes {c.ImageSize}");
    }

    public ClipVisionTower Tower { get; }

    public ImagePreprocessor Preprocessor { get; }

    public int Layer { get; }

    public VisionFeatureStrategy Strategy { get; }

    public int TokensPerImage => Tower.Config.Patches + (Strategy == VisionFeatureStrategy.Full ? 1 : 0);

    public int FeatureDim => Tower.Config.HiddenSize;

    /// <summary>A CLIP directory (config.json + safetensors, preprocessor_config.json when present, else CLIP's defaults at the tower's size).</summary>
    public static ClipVisionEncoder Load(string dir, int layer = -2, VisionFeatureStrategy strategy = VisionFeatureStrategy.Default)
    {
        if (!Directory.Exists(dir)) throw new FurnaceException($"{dir}: not a CLIP model directory");
        var tower = ClipVisionTower.Load(dir);
        try
        {
            return new ClipVisionEncoder(tower, PreprocessorFor(dir, tower.Config.ImageSize), layer, strategy);
        }
        catch
        {
            tower.Dispose();
            throw;
        }
    }

    /// <summary>preprocessor_config.json of the directory, or OpenAI CLIP's processor at the given size.</summary>
    public static ImagePreprocessor PreprocessorFor(string dir, int imageSize) =>
        File.Exists(Path.Combine(dir, "preprocessor_config.json"))
            ? ImagePreprocessor.Load(dir)
            : new ImagePreprocessor(new ImagePreprocessorConfig { ShortestEdge = imageSize, CropHeight = imageSize, CropWidth = imageSize });

    /// <summary>Pixel values (images, 3, S, S) of the images, as the HF processor makes them.</summary>
    public float[] Pixels(IReadOnlyList<RgbImage> images)
    {
        int s = Tower.Config.ImageSize, per = 3 * s * s;
        var pixels = new float[images.Count * per];
        for (int i = 0; i < images.Count; i++)
        {
            PixelValues px = Preprocessor.Preprocess(images[i]);
            if (px.Height != s || px.Width != s)
                throw new FurnaceException($"the image processor makes {px.Width}x{px.Height} images but the vision tower takes {s}x{s}");
            px.Data.CopyTo(pixels.AsSpan(i * per, per));
        }
        return pixels;
    }

    public float[] Encode(IReadOnlyList<RgbImage> images, KernelContext ctx)
    {
        if (images.Count == 0) throw new FurnaceException("no images to encode");
        return Tower.HiddenStates(Pixels(images), images.Count, Layer, Strategy, ctx);
    }

    public void Dispose()
    {
        if (_ownsTower) Tower.Dispose();
    }
}
