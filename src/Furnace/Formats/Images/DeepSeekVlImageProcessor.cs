// DeepSeek-VL's VLMImageProcessor (deepseek_vl/models/image_processing_vlm.py, DeepSeek-VL @ main): the long side to
// image_size with PIL bicubic (torchvision's functional.resize on a PIL image is PIL's Image.resize), the short side
// int(short / long · image_size) truncated and at least min_size; then expand2square pads to image_size × image_size
// with the background colour int(mean · 255) (127 when image_mean is null), the image at (side − short) // 2; then
// transformers' rescale (float64, cast to float32) and normalize (float32) — ImagePreprocessor's exact arithmetic.
// Read from preprocessor_config.json (image_size, min_size, image_mean, image_std, rescale_factor, do_normalize).
using System.Text.Json;

namespace Furnace.Formats.Images;

public sealed class DeepSeekVlImageProcessor
{
    private readonly ImagePreprocessor _values;

    public DeepSeekVlImageProcessor(int imageSize, int minSize = 14, double[]? mean = null, double[]? std = null, double rescaleFactor = 1 / 255.0, bool doNormalize = true)
    {
        if (imageSize is <= 0 or > 16384) throw new FurnaceException($"image_size {imageSize} must be in 1..16384");
        if (minSize < 0 || minSize > imageSize) throw new FurnaceException($"min_size {minSize} must be in 0..image_size {imageSize}");
        ImageSize = imageSize;
        MinSize = minSize;
        Mean = mean;
        Std = std;
        Background = mean == null ? [127, 127, 127] : mean.Select(m => (byte)Math.Clamp((int)(m * 255), 0, 255)).ToArray();
        _values = new ImagePreprocessor(new ImagePreprocessorConfig
        {
            ProcessorType = "VLMImageProcessor",
            DoResize = false,
            DoCenterCrop = false,
            RescaleFactor = rescaleFactor,
            Mean = doNormalize ? mean : null,
            Std = doNormalize ? std : null,
        });
    }

    public int ImageSize { get; }

    public int MinSize { get; }

    public double[]? Mean { get; }

    public double[]? Std { get; }

    /// <summary>The padding colour: int(mean · 255) per channel, truncated.</summary>
    public byte[] Background { get; }

    /// <summary>The processor of a model directory's preprocessor_config.json (an error naming the file when it is missing).</summary>
    public static DeepSeekVlImageProcessor Load(string dir)
    {
        string file = Directory.Exists(dir) ? Path.Combine(dir, "preprocessor_config.json") : dir;
        if (!File.Exists(file)) throw new FurnaceException($"{file}: file not found (DeepSeek-VL's image processor config)");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            JsonElement r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object) throw new FurnaceFormatException(file, "not a JSON object");
            int size = Int(r, "image_size", file) ?? throw new FurnaceException($"{file}: missing field 'image_size'");
            double[]? mean = Triple(r, "image_mean", file), std = Triple(r, "image_std", file);
            if (r.TryGetProperty("image_mean", out _) && r.TryGetProperty("image_std", out _) && (mean == null) != (std == null))
                throw new FurnaceException($"{file}: image_mean and image_std must both be given or both be null");
            double rescale = r.TryGetProperty("rescale_factor", out var rf) && rf.ValueKind == JsonValueKind.Number ? rf.GetDouble() : 1 / 255.0;
            bool normalize = !r.TryGetProperty("do_normalize", out var dn) || dn.ValueKind != JsonValueKind.False;
            bool meanGiven = r.TryGetProperty("image_mean", out _);
            // VLMImageProcessor's defaults are CLIP's mean/std when the keys are absent; an explicit null means no mean
            return new DeepSeekVlImageProcessor(size, Int(r, "min_size", file) ?? 14,
                meanGiven ? mean : ImagePreprocessorConfig.OpenAiClipMean, meanGiven ? std : ImagePreprocessorConfig.OpenAiClipStd, rescale, normalize);
        }
        catch (JsonException e)
        {
            throw new FurnaceFormatException(file, $"not valid JSON ({e.Message})");
        }
        catch (FurnaceException e) when (!e.Message.StartsWith(file, StringComparison.Ordinal))
        {
            throw new FurnaceException($"{file}: {e.Message}");
        }
    }

    /// <summary>The resize target (width, height): the long side image_size, the other int(side / long · image_size), at least min_size.</summary>
    public (int Width, int Height) ResizeSize(int width, int height)
    {
        int longSide = Math.Max(width, height);
        int h = Math.Max((int)((double)height / longSide * ImageSize), MinSize);
        int w = Math.Max((int)((double)width / longSide * ImageSize), MinSize);
        return (w, h);
    }

    /// <summary>The 8-bit image after resizing and padding (before rescale/normalize).</summary>
    public RgbImage Geometry(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (w, h) = ResizeSize(image.Width, image.Height);
        if (image.Width <= 0 || image.Height <= 0 || w <= 0 || h <= 0)
            throw new FurnaceException($"image {image.Width}x{image.Height} would resize to {w}x{h}");
        RgbImage resized = PilResampler.Resize(image, w, h, ResampleFilter.Bicubic);
        return ImageGeometry.ExpandToSquare(resized, Background);
    }

    /// <summary>Pixel values (3, S, S), S = image_size.</summary>
    public PixelValues Preprocess(RgbImage image)
    {
        RgbImage square = Geometry(image);
        if (square.Width != ImageSize || square.Height != ImageSize)
            throw new FurnaceException($"image {image.Width}x{image.Height} preprocesses to {square.Width}x{square.Height}, not {ImageSize}x{ImageSize}");
        return _values.Preprocess(square);
    }

    private static int? Int(JsonElement r, string key, string file)
    {
        if (!r.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i)) throw new FurnaceException($"{file}: '{key}' must be an integer");
        return i;
    }

    private static double[]? Triple(JsonElement r, string key, string file)
    {
        if (!r.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != 3 || v.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.Number))
            throw new FurnaceException($"{file}: '{key}' must be 3 numbers");
        return v.EnumerateArray().Select(x => x.GetDouble()).ToArray();
    }
}
