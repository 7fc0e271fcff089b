// Any ONNX image encoder as a vision tower: pixels in, features (one vector or a grid of tokens)
// per image out, through an ONNX Runtime InferenceSession on the CPU.
// Mirrors the role of LLaVA's CLIPVisionTower (images -> (N, tokens, dim)) with ONNX Runtime's
// C# API (Microsoft.ML.OnnxRuntime 1.31) doing the compute.
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Furnace.Models.Onnx;

public sealed class OnnxImageEncoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly int _graphBatch; // the graph's static batch size, or 0 when it is dynamic

    public OnnxImageEncoder(OnnxEncoderConfig config)
    {
        Config = config;
        string path = config.ModelPath;
        if (!File.Exists(path)) throw new FurnaceException($"{path}: no such ONNX model file");
        if (config.IntraOpThreads < 0) throw new FurnaceException($"{path}: IntraOpThreads must be 0 (automatic) or more, got {config.IntraOpThreads}");

        byte[] model = File.ReadAllBytes(path);
        _session = CreateSession(path, model, config.IntraOpThreads);
        try
        {
            if (config.OutputName is string wanted && !_session.OutputMetadata.ContainsKey(wanted))
            {
                // An intermediate value: expose it as an extra graph output and load again.
                _session.Dispose();
                _session = CreateSession(path, OnnxProto.AppendGraphOutputs(model, [wanted]), config.IntraOpThreads,
                    $"has no value named '{wanted}' to output");
            }

            InputName = PickInput(path, config.InputName);
            NodeMetadata input = _session.InputMetadata[InputName];
            if (input.ElementDataType != TensorElementType.Float)
                throw new FurnaceFormatException(path, $"input '{InputName}' holds {input.ElementDataType}, not float pixels");
            int[] dims = input.Dimensions;
            if (dims.Length != 4)
                throw new FurnaceFormatException(path, $"input '{InputName}' has shape {Shape(dims)}, not a 4-d image batch");
            bool nhwc = config.InputLayout == OnnxInputLayout.Nhwc;
            int c = nhwc ? dims[3] : dims[1], h = nhwc ? dims[1] : dims[2], w = nhwc ? dims[2] : dims[3];
            _graphBatch = Math.Max(dims[0], 0);
            Channels = c > 0 ? c : 3;
            (Height, Width) = ResolveSize(path, h, w, config.InputSize);
            CheckNormalization(path, config.Normalization);

            OutputName = PickOutput(path, config.OutputName);
            _inputNames = [InputName];
            _outputNames = [OutputName];
            (TokenCount, FeatureDim) = ResolveOutput(path);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public OnnxEncoderConfig Config { get; }

    public string InputName { get; }

    public string OutputName { get; }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>Floats per image that Encode takes: Channels·Height·Width (RGB planes, values 0–255).</summary>
    public int PixelsPerImage => Channels * Height * Width;

    /// <summary>1 for a pooled output; H·W for a grid.</summary>
    public int TokenCount { get; }

    public int FeatureDim { get; }

    /// <summary>
    /// pixels: one or more images, each (C, H, W) RGB planes with values 0–255 (before normalization)
    /// -> per image, TokenCount·FeatureDim floats: (tokens, dim) row-major.
    /// </summary>
    public float[][] Encode(ReadOnlySpan<float> pixels)
    {
        int per = PixelsPerImage;
        if (pixels.Length == 0 || pixels.Length % per != 0)
            throw new FurnaceException(
                $"{Config.ModelPath}: expects {Channels}×{Height}×{Width} = {per} floats per image (RGB planes), got {pixels.Length}");
        int n = pixels.Length / per;
        var result = new float[n][];
        int chunk = _graphBatch > 0 ? _graphBatch : n;
        for (int start = 0; start < n; start += chunk)
        {
            int count = Math.Min(chunk, n - start);
            RunBatch(pixels.Slice(start * per, count * per), count, chunk == _graphBatch ? chunk : count, result.AsSpan(start, count));
        }
        return result;
    }

    /// <summary>One image as interleaved 8-bit RGB (H, W, 3), already at Height × Width.</summary>
    public float[] EncodeRgb24(ReadOnlySpan<byte> rgb) => Encode(PlanesFromRgb24(rgb, Height, Width))[0];

    /// <summary>Interleaved 8-bit RGB (H, W, 3) -> RGB planes (3, H, W) as floats 0–255.</summary>
    public static float[] PlanesFromRgb24(ReadOnlySpan<byte> rgb, int height, int width)
    {
        int plane = height * width;
        if (rgb.Length != 3 * plane)
            throw new FurnaceException($"expected {height}×{width}×3 = {3 * plane} RGB bytes, got {rgb.Length}");
        var planes = new float[3 * plane];
        for (int i = 0; i < plane; i++)
        {
            planes[i] = rgb[3 * i];
            planes[plane + i] = rgb[3 * i + 1];
            planes[2 * plane + i] = rgb[3 * i + 2];
        }
        return planes;
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    // pixels: count images (C, H, W) -> features for each; the run uses batch (>= count, zero-padded
    // when the graph's batch size is fixed and larger than what is left).
    private void RunBatch(ReadOnlySpan<float> pixels, int count, int batch, Span<float[]> features)
    {
        int per = PixelsPerImage, plane = Height * Width;
        var input = new float[batch * per];
        var normalized = Config.InputLayout == OnnxInputLayout.Nhwc ? new float[per] : null;
        for (int i = 0; i < count; i++)
        {
            Span<float> dst = normalized ?? input.AsSpan(i * per, per);
            Config.Normalization.Apply(pixels.Slice(i * per, per), dst, Channels, plane);
            if (normalized is not null)
            {
                Span<float> hwc = input.AsSpan(i * per, per);
                for (int c = 0; c < Channels; c++)
                for (int p = 0; p < plane; p++)
                    hwc[p * Channels + c] = normalized[c * plane + p];
            }
        }
        long[] shape = Config.InputLayout == OnnxInputLayout.Nhwc
            ? [batch, Height, Width, Channels]
            : [batch, Channels, Height, Width];
        using OrtValue value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var outputs = _session.Run(_runOptions, _inputNames, [value], _outputNames);
        OrtValue output = outputs[0];
        long[] outShape = output.GetTensorTypeAndShape().Shape;
        ReadOnlySpan<float> data = output.GetTensorDataAsSpan<float>();
        (int tokens, int dim) = Interpret(Config.ModelPath, outShape);
        if (tokens != TokenCount || dim != FeatureDim || outShape[0] != batch)
            throw new FurnaceFormatException(Config.ModelPath, $"output '{OutputName}' changed shape to {Shape(outShape)}");
        int size = tokens * dim;
        for (int i = 0; i < count; i++)
        {
            var f = new float[size];
            ReadOnlySpan<float> src = data.Slice(i * size, size);
            if (Config.OutputKind == OnnxOutputKind.Pooled || tokens == 1)
                src.CopyTo(f);
            else
                for (int c = 0; c < dim; c++) // (C, H·W) -> (H·W, C)
                for (int t = 0; t < tokens; t++)
                    f[t * dim + c] = src[c * tokens + t];
            features[i] = f;
        }
    }

    private static InferenceSession CreateSession(string path, byte[] model, int threads, string problem = "not an ONNX model")
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
        };
        try
        {
            return new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException e)
        {
            string detail = e.Message.Split('\n')[0].Trim();
            throw new FurnaceFormatException(path, $"{problem} (ONNX Runtime: {detail})");
        }
    }

    // The encoder feeds one tensor, so the graph must need exactly one (ONNX Runtime already leaves
    // out IR < 4 inputs that have initializers, i.e. weights).
    private string PickInput(string path, string? wanted)
    {
        var names = _session.InputMetadata.Keys.ToArray();
        if (wanted is not null && !_session.InputMetadata.ContainsKey(wanted))
            throw new FurnaceFormatException(path, $"has no input '{wanted}' (inputs: {string.Join(", ", names)})");
        if (names.Length != 1)
            throw new FurnaceFormatException(path, $"needs {names.Length} inputs ({string.Join(", ", names)}); the encoder feeds only the image");
        return names[0];
    }

    private string PickOutput(string path, string? wanted)
    {
        if (wanted is not null) return wanted;
        var names = _session.OutputMetadata.Keys.ToArray();
        if (names.Length != 1)
            throw new FurnaceFormatException(path, $"has {names.Length} outputs ({string.Join(", ", names)}); set OutputName");
        return names[0];
    }

    private static (int, int) ResolveSize(string path, int h, int w, (int Height, int Width)? given)
    {
        if (given is (int gh, int gw))
        {
            if (gh <= 0 || gw <= 0) throw new FurnaceException($"{path}: InputSize must be positive, got {gh}×{gw}");
            if ((h > 0 && h != gh) || (w > 0 && w != gw))
                throw new FurnaceFormatException(path, $"takes {h}×{w} images, not the configured {gh}×{gw}");
            return (gh, gw);
        }
        if (h <= 0 || w <= 0) throw new FurnaceFormatException(path, "has a dynamic image size; set InputSize");
        return (h, w);
    }

    private void CheckNormalization(string path, PixelNormalization n)
    {
        if (n.Mean is { } mean && mean.Length != Channels)
            throw new FurnaceException($"{path}: Normalization.Mean has {mean.Length} values for {Channels} channels");
        if (n.Std is { } std && (std.Length != Channels || std.Any(s => s == 0f)))
            throw new FurnaceException($"{path}: Normalization.Std needs {Channels} non-zero values");
        if (n.MeanImage is { } image && image.Length != PixelsPerImage)
            throw new FurnaceException($"{path}: Normalization.MeanImage has {image.Length} values, the input {PixelsPerImage}");
        if (n.ChannelOrder == ChannelOrder.Bgr && Channels != 3)
            throw new FurnaceException($"{path}: BGR order needs 3 channels, the input has {Channels}");
    }

    // Static output dims when the graph declares them; otherwise (an added output, a dynamic graph)
    // one run on a blank image tells.
    private (int Tokens, int Dim) ResolveOutput(string path)
    {
        if (_session.OutputMetadata.TryGetValue(OutputName, out NodeMetadata? meta) && meta.Dimensions.Length > 0
            && meta.Dimensions.Skip(1).All(d => d > 0))
        {
            if (meta.ElementDataType != TensorElementType.Float)
                throw new FurnaceFormatException(path, $"output '{OutputName}' holds {meta.ElementDataType}, not float features");
            return Interpret(path, meta.Dimensions.Select(d => (long)d).ToArray());
        }
        int batch = _graphBatch > 0 ? _graphBatch : 1;
        var blank = new float[batch * PixelsPerImage];
        long[] shape = Config.InputLayout == OnnxInputLayout.Nhwc ? [batch, Height, Width, Channels] : [batch, Channels, Height, Width];
        using OrtValue value = OrtValue.CreateTensorValueFromMemory(blank, shape);
        using var outputs = _session.Run(_runOptions, [InputName], [value], [OutputName]);
        if (outputs[0].GetTensorTypeAndShape().ElementDataType != TensorElementType.Float)
            throw new FurnaceFormatException(path, $"output '{OutputName}' is not float features");
        return Interpret(path, outputs[0].GetTensorTypeAndShape().Shape);
    }

    private (int Tokens, int Dim) Interpret(string path, long[] shape)
    {
        if (Config.OutputKind == OnnxOutputKind.Pooled)
        {
            if (shape.Length == 2) return (1, (int)shape[1]);
            if (shape.Length == 4 && shape[2] == 1 && shape[3] == 1) return (1, (int)shape[1]);
            throw new FurnaceFormatException(path, $"output '{OutputName}' has shape {Shape(shape)}, not a pooled (N, D) or (N, D, 1, 1) vector");
        }
        if (shape.Length != 4)
            throw new FurnaceFormatException(path, $"output '{OutputName}' has shape {Shape(shape)}, not an (N, C, H, W) grid");
        return ((int)(shape[2] * shape[3]), (int)shape[1]);
    }

    private static string Shape<T>(IEnumerable<T> dims) => "(" + string.Join(", ", dims) + ")";
}
