// The raw record of a Hugging Face preprocessor_config.json (every field optional, as on disk), plus LLaVA's
// image_aspect_ratio, which the original LLaVA checkpoints keep in config.json. Validated into ImagePreprocessorConfig.
using System.Text.Json.Serialization;

namespace Furnace.Formats.Images;

public sealed record PreprocessorConfigJson
{
    [JsonPropertyName("image_processor_type")] public string? ImageProcessorType { get; init; }
    [JsonPropertyName("feature_extractor_type")] public string? FeatureExtractorType { get; init; }
    [JsonPropertyName("do_resize")] public bool? DoResize { get; init; }
    [JsonPropertyName("size")] public ImageSizeJson? Size { get; init; }
    [JsonPropertyName("resample")] public int? Resample { get; init; }
    [JsonPropertyName("do_center_crop")] public bool? DoCenterCrop { get; init; }
    [JsonPropertyName("crop_size")] public ImageSizeJson? CropSize { get; init; }
    [JsonPropertyName("do_rescale")] public bool? DoRescale { get; init; }
    [JsonPropertyName("rescale_factor")] public double? RescaleFactor { get; init; }
    [JsonPropertyName("do_normalize")] public bool? DoNormalize { get; init; }
    [JsonPropertyName("image_mean")] public double[]? ImageMean { get; init; }
    [JsonPropertyName("image_std")] public double[]? ImageStd { get; init; }
    [JsonPropertyName("do_convert_rgb")] public bool? DoConvertRgb { get; init; }
    [JsonPropertyName("do_pad")] public bool? DoPad { get; init; }
    [JsonPropertyName("image_aspect_ratio")] public string? ImageAspectRatio { get; init; }
}
