// preprocessor_config.json -> validated ImagePreprocessorConfig, applying the defaults of the named transformers
// class. Slow and fast class names (CLIPImageProcessorFast…) both map to the PIL (slow) semantics reproduced here.
using System.Text.Json;

namespace Furnace.Formats.Images;

public static class PreprocessorConfigFile
{
    public const string FileName = "preprocessor_config.json";

    private static readonly string[] Supported = ["CLIPImageProcessor", "SiglipImageProcessor", "LlavaImageProcessor"];

    /// <summary>Reads a model directory's preprocessor_config.json (or the given json file). In a directory,
    /// LLaVA's image_aspect_ratio is also taken from config.json when preprocessor_config.json lacks it.</summary>
    public static ImagePreprocessorConfig Load(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(file))
        {
            throw new FurnaceException(Directory.Exists(path)
                ? $"{path}: model directory has no {FileName}"
                : $"{path}: no such file or directory");
        }
        PreprocessorConfigJson raw = Parse(File.ReadAllBytes(file), file);
        string modelConfig = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "config.json");
        if (raw.ImageAspectRatio == null && File.Exists(modelConfig))
        {
            try
            {
                var aspect = Parse(File.ReadAllBytes(modelConfig), modelConfig).ImageAspectRatio;
                raw = raw with { ImageAspectRatio = aspect };
            }
            catch (FurnaceFormatException)
            {
                // config.json is another loader's business; only its image_aspect_ratio matters here
            }
        }
        return ToConfig(raw, file);
    }

    public static PreprocessorConfigJson Parse(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize(json, PreprocessorJsonContext.Default.PreprocessorConfigJson)
                ?? throw new FurnaceFormatException(source, "is 'null', not a JSON object");
        }
        catch (JsonException e)
        {
            string where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path[2..]}";
            throw new FurnaceFormatException(source, $"not a valid preprocessor config{where} ({FirstSentence(e.Message)})");
        }
        catch (InvalidOperationException e)
        {
            throw new FurnaceFormatException(source, $"not a valid preprocessor config ({FirstSentence(e.Message)})");
        }
    }

    public static ImagePreprocessorConfig ToConfig(PreprocessorConfigJson raw, string source)
    {
        string type = raw.ImageProcessorType ?? raw.FeatureExtractorType?.Replace("FeatureExtractor", "ImageProcessor") ?? "CLIPImageProcessor";
        if (type.EndsWith("Fast", StringComparison.Ordinal)) type = type[..^4];
        if (!Supported.Contains(type)) throw new FurnaceException($"{source}: image_processor_type '{type}' is not supported ({string.Join(", ", Supported)})");
        bool siglip = type == "SiglipImageProcessor";

        int? shortest = null, height = null, width = null;
        bool doResize = raw.DoResize ?? true;
        ImageSizeJson size = raw.Size ?? (siglip ? new ImageSizeJson { Height = 224, Width = 224 } : new ImageSizeJson { ShortestEdge = 224 });
        if (size.Bare is int bare)
        {
            if (siglip) height = width = bare;
            else shortest = bare;
        }
        else if (size.ShortestEdge is int s)
        {
            if (size.LongestEdge != null) throw new FurnaceException($"{source}: size.longest_edge is not supported");
            shortest = s;
        }
        else if (size.Height is int h && size.Width is int w)
        {
            height = h;
            width = w;
        }
        else if (doResize)
        {
            throw new FurnaceException($"{source}: size must contain either 'shortest_edge' or 'height' and 'width'");
        }

        // SigLIP never crops; CLIP and LLaVA crop by default (crop_size default 224, bare ints mean squares).
        bool crop = !siglip && (raw.DoCenterCrop ?? true);
        ImageSizeJson cropSize = raw.CropSize ?? new ImageSizeJson { Bare = 224 };
        int cropH = cropSize.Bare ?? cropSize.Height ?? 0, cropW = cropSize.Bare ?? cropSize.Width ?? 0;
        if (crop && (cropH == 0 || cropW == 0)) throw new FurnaceException($"{source}: crop_size must contain 'height' and 'width'");

        double[] defMean = siglip ? ImagePreprocessorConfig.ImageNetStandardMean : ImagePreprocessorConfig.OpenAiClipMean;
        double[] defStd = siglip ? ImagePreprocessorConfig.ImageNetStandardStd : ImagePreprocessorConfig.OpenAiClipStd;
        bool normalize = raw.DoNormalize ?? true;
        double[] mean = Channels(raw.ImageMean ?? defMean, "image_mean", source);
        double[] std = Channels(raw.ImageStd ?? defStd, "image_std", source);

        bool pad = raw.ImageAspectRatio switch
        {
            null or "square" or "resize" or "original" => false,
            "pad" => true,
            var other => throw new FurnaceException($"{source}: image_aspect_ratio '{other}' is not supported (pad, square)"),
        } || (type == "LlavaImageProcessor" && raw.DoPad == true);

        return new ImagePreprocessorConfig
        {
            ProcessorType = type,
            PadToSquare = pad,
            DoResize = doResize,
            ShortestEdge = shortest,
            ResizeHeight = height,
            ResizeWidth = width,
            Resample = (ResampleFilter)(raw.Resample ?? (int)ResampleFilter.Bicubic),
            DoCenterCrop = crop,
            CropHeight = cropH,
            CropWidth = cropW,
            RescaleFactor = raw.DoRescale ?? true ? raw.RescaleFactor ?? 1 / 255.0 : null,
            Mean = normalize ? mean : null,
            Std = normalize ? std : null,
            // expand2square needs the mean colour even when normalisation is off
            PadColor = PadColorOf(mean),
        }.Validated(source);
    }

    private static double[] Channels(double[] v, string field, string source) => v.Length switch
    {
        1 => [v[0], v[0], v[0]],
        3 => v,
        _ => throw new FurnaceException($"{source}: {field} needs 3 values, not {v.Length}"),
    };

    // LLaVA: tuple(int(x * 255) for x in image_mean)
    internal static byte[] PadColorOf(double[] mean) => mean.Select(m => (byte)Math.Clamp((int)(m * 255), 0, 255)).ToArray();

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(". ", StringComparison.Ordinal);
        return i > 0 ? message[..i] : message.TrimEnd('.');
    }
}
