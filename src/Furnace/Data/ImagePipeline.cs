// What the loader does to a training image: decode (ImageDecoder, PIL semantics) → HF preprocessing
// (ImagePreprocessor) with an optional disk cache of the result → optional augmentation (ImageAugmenter, which
// may also swap left/right words in the example's text). Thread-safe: the loader calls it from its workers.
using System.Globalization;
using Furnace.Formats.Images;

namespace Furnace.Data;

public sealed class ImagePipeline
{
    public ImagePipeline(ImagePreprocessor preprocessor, AugmentationOptions? augmentation = null, PixelCache? cache = null, ImageLoadOptions? load = null)
    {
        ArgumentNullException.ThrowIfNull(preprocessor);
        Preprocessor = preprocessor;
        Augmenter = augmentation is { Enabled: true } ? new ImageAugmenter(augmentation) : null;
        Cache = cache;
        LoadOptions = load ?? ImageLoadOptions.Default;
        ConfigKey = KeyOf(preprocessor.Config, LoadOptions);
    }

    public ImagePreprocessor Preprocessor { get; }

    public ImageAugmenter? Augmenter { get; }

    public PixelCache? Cache { get; }

    public ImageLoadOptions LoadOptions { get; }

    /// <summary>Every setting that changes the preprocessed pixels, as text (part of the cache key).</summary>
    public string ConfigKey { get; }

    /// <summary>Decoded and preprocessed pixels (3, H, W) of an image file, through the cache when there is one.</summary>
    public PixelValues Preprocessed(string imagePath)
    {
        ArgumentNullException.ThrowIfNull(imagePath);
        PixelValues Build() => Preprocessor.Preprocess(ImageDecoder.Load(imagePath, LoadOptions));
        return Cache is null ? Build() : Cache.GetOrAdd(imagePath, ConfigKey, Build);
    }

    /// <summary>The example's pixels, augmented with <paramref name="augmentationSeed"/> (the example's text changes
    /// only when a flip swaps its left/right words). A text-only example comes back with null pixels.</summary>
    public (TrainingExample Example, PixelValues? Pixels) Load(TrainingExample example, ulong augmentationSeed)
    {
        ArgumentNullException.ThrowIfNull(example);
        if (example.ImagePath is null) return (example, null);
        PixelValues px = Preprocessed(example.ImagePath);
        if (Augmenter is null) return (example, px);
        var (ex, augmented, _) = Augmenter.Apply(example, px, augmentationSeed);
        return (ex, augmented);
    }

    private static string KeyOf(ImagePreprocessorConfig c, ImageLoadOptions o)
    {
        static string D(double? v) => v is double d ? d.ToString("R", CultureInfo.InvariantCulture) : "-";
        static string A(double[]? a) => a is null ? "-" : string.Join(",", a.Select(v => D(v)));
        return string.Join(";",
            c.ProcessorType, c.PadToSquare, string.Join(",", c.PadColor), c.DoResize, c.ShortestEdge?.ToString(CultureInfo.InvariantCulture) ?? "-",
            c.ResizeHeight?.ToString(CultureInfo.InvariantCulture) ?? "-", c.ResizeWidth?.ToString(CultureInfo.InvariantCulture) ?? "-",
            (int)c.Resample, c.DoCenterCrop, c.CropHeight, c.CropWidth, D(c.RescaleFactor), A(c.Mean), A(c.Std),
            o.Alpha, o.ApplyExifOrientation);
    }
}
