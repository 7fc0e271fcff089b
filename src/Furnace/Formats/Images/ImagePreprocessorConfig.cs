// Validated image preprocessing settings with the defaults transformers applies per processor class
// (models/clip/image_processing_clip.py, models/siglip/image_processing_siglip.py,
// models/llava/image_processing_llava.py; image_utils.py OPENAI_CLIP_MEAN/STD, IMAGENET_STANDARD_MEAN/STD).
// Resizing is either to a shortest edge (aspect kept, long side truncated by int()) or to an exact height × width.
namespace Furnace.Formats.Images;

public sealed record ImagePreprocessorConfig
{
    public static readonly double[] OpenAiClipMean = [0.48145466, 0.4578275, 0.40821073];
    public static readonly double[] OpenAiClipStd = [0.26862954, 0.26130258, 0.27577711];
    public static readonly double[] ImageNetStandardMean = [0.5, 0.5, 0.5];
    public static readonly double[] ImageNetStandardStd = [0.5, 0.5, 0.5];

    /// <summary>The transformers class whose semantics apply (CLIPImageProcessor, SiglipImageProcessor, LlavaImageProcessor).</summary>
    public string ProcessorType { get; init; } = "CLIPImageProcessor";

    /// <summary>LLaVA's expand2square: pad to a square of colour int(mean·255) before resizing.</summary>
    public bool PadToSquare { get; init; }

    /// <summary>The RGB fill of PadToSquare: int(mean·255) per channel, as LLaVA computes it.</summary>
    public byte[] PadColor { get; init; } = PreprocessorConfigFile.PadColorOf(OpenAiClipMean);

    public bool DoResize { get; init; } = true;

    /// <summary>Resize so the shorter side is this long (null: resize to ResizeHeight × ResizeWidth).</summary>
    public int? ShortestEdge { get; init; } = 224;

    public int? ResizeHeight { get; init; }

    public int? ResizeWidth { get; init; }

    public ResampleFilter Resample { get; init; } = ResampleFilter.Bicubic;

    public bool DoCenterCrop { get; init; } = true;

    public int CropHeight { get; init; } = 224;

    public int CropWidth { get; init; } = 224;

    /// <summary>Multiplier from 0..255 to the model's range (null: no rescale).</summary>
    public double? RescaleFactor { get; init; } = 1 / 255.0;

    /// <summary>Per-channel mean and std (null: no normalisation).</summary>
    public double[]? Mean { get; init; } = OpenAiClipMean;

    public double[]? Std { get; init; } = OpenAiClipStd;

    /// <summary>openai/clip-vit-large-patch14-336 as used by LLaVA-1.5 (with PadToSquare).</summary>
    public static ImagePreprocessorConfig Clip336 { get; } = new() { ShortestEdge = 336, CropHeight = 336, CropWidth = 336 };

    /// <summary>Output (height, width) for an input of the given size.</summary>
    public (int Height, int Width) OutputSize(int width, int height)
    {
        if (PadToSquare) width = height = Math.Max(width, height);
        if (DoResize) (width, height) = ResizeSize(width, height);
        return DoCenterCrop ? (CropHeight, CropWidth) : (height, width);
    }

    /// <summary>The resize target (width, height) for an input size — transformers' get_resize_output_image_size
    /// with default_to_square=False for shortest_edge: the long side is int(edge · long / short).</summary>
    public (int Width, int Height) ResizeSize(int width, int height)
    {
        if (ShortestEdge is not int s) return (ResizeWidth!.Value, ResizeHeight!.Value);
        if (width <= height) return (s, (int)((double)s * height / width));
        return ((int)((double)s * width / height), s);
    }

    public ImagePreprocessorConfig Validated(string source)
    {
        void Check(bool ok, string problem)
        {
            if (!ok) throw new FurnaceException($"{source}: {problem}");
        }
        if (DoResize)
        {
            Check(ShortestEdge is > 0 || (ShortestEdge == null && ResizeHeight is > 0 && ResizeWidth is > 0),
                "size must give a positive shortest_edge or positive height and width");
            Check(ShortestEdge is null or <= 16384 && ResizeHeight is null or <= 16384 && ResizeWidth is null or <= 16384, "size is larger than 16384");
        }
        Check(Resample != ResampleFilter.Nearest && Enum.IsDefined(Resample), $"resample {(int)Resample} is not supported (1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming)");
        if (DoCenterCrop) Check(CropHeight is > 0 and <= 16384 && CropWidth is > 0 and <= 16384, $"crop_size {CropHeight}x{CropWidth} must be positive");
        Check(RescaleFactor is null || (double.IsFinite(RescaleFactor.Value) && RescaleFactor.Value > 0), $"rescale_factor {RescaleFactor} must be positive");
        Check((Mean == null) == (Std == null), "image_mean and image_std must both be given");
        if (Mean != null)
        {
            Check(Mean.Length == 3 && Std!.Length == 3, $"image_mean and image_std need 3 values (got {Mean.Length} and {Std!.Length})");
            Check(Std.All(s => s > 0 && double.IsFinite(s)), "image_std values must be positive");
        }
        Check(PadColor is { Length: 3 }, "the pad colour needs 3 values");
        return this;
    }
}
