// processor_config.json of a DeepSeek-VL2 directory (DeepseekVLV2Processor.__init__, processing_deepseek_vl_v2.py at
// DeepSeek-VL2 ef9f91e): the tiling candidates, the patch size and downsample ratio that fix the image token count,
// normalisation, the image and pad tokens, and the conversation template. patch_size, downsample_ratio and
// candidate_resolutions have no default there and are required here; the others take the processor's defaults.
using System.Text;

namespace Furnace.Models.DeepSeekVl2;

public sealed record DeepSeekVl2ProcessorConfig(
    (int Width, int Height)[] CandidateResolutions,
    int PatchSize,
    int DownsampleRatio,
    double[] ImageMean,
    double[] ImageStd,
    bool Normalize,
    string ImageToken,
    string PadToken,
    string SftFormat)
{
    public const string FileName = "processor_config.json";

    /// <summary>The side of the global view and of every tile: candidate_resolutions[0][0].</summary>
    public int ImageSize => CandidateResolutions[0].Width;

    /// <summary>The canvas colour of padded views: tuple(int(x · 255) for x in image_mean), truncated.</summary>
    public byte[] PadColor => ImageMean.Select(m => (byte)(int)(m * 255.0)).ToArray();

    /// <summary>From a model directory (its processor_config.json) or the file itself.</summary>
    public static DeepSeekVl2ProcessorConfig Load(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        return FromJson(DeepSeekVl2Json.Read(file, DeepSeekVl2JsonContext.Default.DeepSeekVl2ProcessorJson), file);
    }

    public static DeepSeekVl2ProcessorConfig Parse(string json, string source) =>
        FromJson(DeepSeekVl2Json.Parse(Encoding.UTF8.GetBytes(json), source, DeepSeekVl2JsonContext.Default.DeepSeekVl2ProcessorJson), source);

    public static DeepSeekVl2ProcessorConfig FromJson(DeepSeekVl2ProcessorJson raw, string source)
    {
        if (raw.ProcessorClass is { } pc && pc != "DeepseekVLV2Processor")
            throw new FurnaceException($"{source}: 'processor_class' is '{pc}', not DeepseekVLV2Processor");
        var resolutions = DeepSeekVl2Json.Resolutions(
            raw.CandidateResolutions ?? throw new FurnaceException($"{source}: missing 'candidate_resolutions'"), source, "candidate_resolutions");
        int patch = raw.PatchSize ?? throw new FurnaceException($"{source}: missing 'patch_size'");
        int ratio = raw.DownsampleRatio ?? throw new FurnaceException($"{source}: missing 'downsample_ratio'");
        if (patch <= 0) throw new FurnaceException($"{source}: 'patch_size' must be positive, not {patch}");
        if (ratio <= 0) throw new FurnaceException($"{source}: 'downsample_ratio' must be positive, not {ratio}");
        if (patch > resolutions[0].Width)
            throw new FurnaceException($"{source}: 'patch_size' {patch} is larger than the tile size {resolutions[0].Width} (candidate_resolutions[0][0])");
        double[] mean = Triple(raw.ImageMean, "image_mean", source, allowZero: true);
        double[] std = Triple(raw.ImageStd, "image_std", source, allowZero: false);
        string sft = raw.SftFormat ?? "deepseek";
        if (sft != "deepseek")
            throw new FurnaceException($"{source}: 'sft_format' '{sft}' is not supported (deepseek, the template DeepSeek-VL2's processor uses)");
        string image = raw.ImageToken ?? "<image>";
        if (image.Length == 0) throw new FurnaceException($"{source}: 'image_token' must not be empty");
        return new DeepSeekVl2ProcessorConfig(resolutions, patch, ratio, mean, std, raw.Normalize ?? true, image, raw.PadToken ?? "<｜▁pad▁｜>", sft);
    }

    /// <summary>Fails when config.json and this file disagree on the tiling or the tower's patch size.</summary>
    public void CheckAgainst(DeepSeekVl2Config model, string source)
    {
        if (ImageSize != model.Vision.ImageSize)
            throw new FurnaceException($"{source}: the tile size {ImageSize} (candidate_resolutions[0][0]) differs from config.json 'vision_config.image_size' {model.Vision.ImageSize}");
        if (PatchSize != model.Vision.PatchSize)
            throw new FurnaceException($"{source}: 'patch_size' {PatchSize} differs from config.json 'vision_config.patch_size' {model.Vision.PatchSize}");
        if (DownsampleRatio != model.Projector.DownsampleRatio)
            throw new FurnaceException($"{source}: 'downsample_ratio' {DownsampleRatio} differs from config.json 'projector_config.downsample_ratio' {model.Projector.DownsampleRatio}");
    }

    private static double[] Triple(double[]? v, string key, string source, bool allowZero)
    {
        if (v is null) return [0.5, 0.5, 0.5];
        if (v.Length != 3) throw new FurnaceException($"{source}: '{key}' must hold 3 values (R, G, B), not {v.Length}");
        foreach (double x in v)
        {
            if (!double.IsFinite(x) || x < 0 || (!allowZero && x == 0)) throw new FurnaceException($"{source}: '{key}' value {x} is out of range");
        }
        return (double[])v.Clone();
    }
}
