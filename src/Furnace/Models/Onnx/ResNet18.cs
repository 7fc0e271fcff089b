// ML.NET's pretrained ResNet18 (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, MIT; a CNTK 2.6
// export of the ImageNet model) as a vision tower, with ML.NET's preprocessing done by us.
// Mirrors ML.NET's DnnImageFeaturizer chain ExtractPixels -> ResNetPreprocess.onnx -> ResNet18.onnx:
//   ResNetPreprocess.onnx: OriginalInput (1, 3, 224, 224) RGB 0–255 -> Split -> Concat as BGR
//                          -> Sub MeanImage (1, 3, 224, 224, a per-pixel mean) -> PreprocessedInput
//   ResNet18.onnx:         Input247 (1, 3, 224, 224) -> ... -> ReLU393_Output_0 (1, 512, 7, 7)
//                          -> AveragePool 7×7 -> Pooling395_Output_0 (1, 512, 1, 1)
// We read MeanImage out of ResNetPreprocess.onnx and apply it in PixelNormalization, so one session runs.
namespace Furnace.Models.Onnx;

public static class ResNet18
{
    public const string ModelFile = "ResNet18.onnx";
    public const string PreprocessFile = "ResNetPreprocess.onnx";
    public const string InputName = "Input247";
    public const string PooledOutput = "Pooling395_Output_0";
    public const string GridOutput = "ReLU393_Output_0";
    public const string MeanImageName = "MeanImage";
    public const int Size = 224;
    public const int FeatureDim = 512;

    /// <summary>models/resnet18 next to the running binary: where building against Furnace copies the package's files.</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "models", "resnet18");

    /// <summary>
    /// The encoder config for the ResNet18 files in <paramref name="directory"/> (default: DefaultDirectory).
    /// Pooled gives one 512-d vector per image; Grid the 7×7×512 map before pooling as 49 tokens of 512.
    /// </summary>
    public static OnnxEncoderConfig Config(string? directory = null, OnnxOutputKind kind = OnnxOutputKind.Pooled, int intraOpThreads = 0)
    {
        directory ??= DefaultDirectory;
        string model = Path.Combine(directory, ModelFile);
        string prep = Path.Combine(directory, PreprocessFile);
        foreach (string file in new[] { model, prep })
            if (!File.Exists(file))
                throw new FurnaceException(
                    $"{file}: not found (it comes from NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, copied to models/resnet18/ when building against Furnace)");

        OnnxProto.FloatTensor? mean;
        try
        {
            mean = OnnxProto.ReadFloatInitializer(File.ReadAllBytes(prep), MeanImageName);
        }
        catch (InvalidDataException e)
        {
            throw new FurnaceFormatException(prep, $"not an ONNX model ({e.Message})");
        }
        if (mean is null || mean.Data.Length != 3 * Size * Size)
            throw new FurnaceFormatException(prep, $"no float initializer '{MeanImageName}' of shape (1, 3, {Size}, {Size})");

        return new OnnxEncoderConfig(model)
        {
            InputName = InputName,
            OutputName = kind == OnnxOutputKind.Pooled ? PooledOutput : GridOutput,
            OutputKind = kind,
            InputSize = (Size, Size),
            Normalization = new PixelNormalization { ChannelOrder = ChannelOrder.Bgr, MeanImage = mean.Data },
            IntraOpThreads = intraOpThreads,
        };
    }

    public static OnnxImageEncoder Open(string? directory = null, OnnxOutputKind kind = OnnxOutputKind.Pooled, int intraOpThreads = 0) =>
        new(Config(directory, kind, intraOpThreads));
}
