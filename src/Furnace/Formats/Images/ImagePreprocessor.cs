// RgbImage -> PixelValues with Hugging Face semantics: [LLaVA pad to square] -> PIL resize (shortest edge or
// height × width) -> center crop -> rescale -> normalize -> CHW float32. Mirrors the slow (PIL) transformers
// CLIPImageProcessor / SiglipImageProcessor / LlavaImageProcessor.preprocess; arithmetic as numpy does it there:
// rescale in float64 then cast to float32 (image_transforms.rescale), normalize in float32 with float32 mean/std
// (image_transforms.normalize) — so results are bit-identical to transformers on the same resized pixels.
namespace Furnace.Formats.Images;

public sealed class ImagePreprocessor
{
    public ImagePreprocessor(ImagePreprocessorConfig config)
    {
        Config = config.Validated("image preprocessor config");
    }

    public ImagePreprocessorConfig Config { get; }

    /// <summary>From a model directory (its preprocessor_config.json) or the json file itself.</summary>
    public static ImagePreprocessor Load(string path) => new(PreprocessorConfigFile.Load(path));

    public PixelValues Preprocess(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return ToPixelValues(Geometry(image));
    }

    /// <summary>The 8-bit image after padding, resizing and cropping (before rescale/normalize).</summary>
    public RgbImage Geometry(RgbImage image)
    {
        ImagePreprocessorConfig c = Config;
        if (c.PadToSquare) image = ImageGeometry.ExpandToSquare(image, c.PadColor);
        if (c.DoResize)
        {
            var (w, h) = c.ResizeSize(image.Width, image.Height);
            if (w <= 0 || h <= 0) throw new FurnaceException($"image {image.Width}x{image.Height} would resize to {w}x{h}");
            image = PilResampler.Resize(image, w, h, c.Resample);
        }
        if (c.DoCenterCrop) image = ImageGeometry.CenterCrop(image, c.CropHeight, c.CropWidth);
        return image;
    }

    private PixelValues ToPixelValues(RgbImage image)
    {
        int plane = image.Width * image.Height;
        var data = new float[plane * 3];
        byte[] px = image.Pixels;
        double? rescale = Config.RescaleFactor;
        Span<float> lut = stackalloc float[256];
        for (int c = 0; c < 3; c++)
        {
            // 256 possible inputs per channel: precompute each output value with numpy's exact operations.
            for (int v = 0; v < 256; v++)
            {
                float x = rescale is double r ? (float)(v * r) : v;
                if (Config.Mean is { } mean) x = (x - (float)mean[c]) / (float)Config.Std![c];
                lut[v] = x;
            }
            Span<float> dst = data.AsSpan(c * plane, plane);
            for (int i = 0; i < plane; i++) dst[i] = lut[px[i * 3 + c]];
        }
        return new PixelValues(3, image.Height, image.Width, data);
    }
}
