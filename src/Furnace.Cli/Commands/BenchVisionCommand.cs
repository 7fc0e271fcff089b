// `furnace bench vision`: image-encode throughput of a vision encoder, as one JSON line (--json) or one text line.
// The model is what `furnace embed` / `caption` take: a CLIP directory (timed: the whole tower, post_layernorm and
// visual_projection — embed's image_embeds — or the pooled output without a projection), a llama.cpp mmproj GGUF
// (the LLaVA features: tower up to the stored layers + projector) or an .onnx image encoder (ONNX Runtime). The image
// is decoded and preprocessed once, outside the timing, and the same pixels are encoded --batch at a time in one
// call. DESIGN.md's performance method (Benchmarking.Reps): one untimed encode, then --runs timed encodes, each
// started once other processes use < 5 % of the machine and redone when disturbed; medians, per-rep figures and the
// worst CPU share other processes took are printed. GFLOP/s counts the encoder's matrix products from its config
// (ClipVisionFlops); an .onnx file has it only when the HF CLIP config.json it was exported from lies beside it.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Furnace.Benchmarking;
using Furnace.Formats.Images;
using Furnace.Models.Clip;
using Furnace.Models.Onnx;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class BenchVisionCommand
{
    public static Command Create(Option<double> idleWait, Option<bool> json)
    {
        var model = new Option<string>("--model", "-m") { Description = "A CLIP directory, an mmproj .gguf, or an .onnx image encoder", Required = true };
        var image = new Option<string>("--image", "-i") { Description = "The image to encode (decoded and preprocessed once, outside the timing)", Required = true };
        var threads = Cli.ThreadsOption();
        var runs = new Option<int>("--runs") { Description = "Timed encodes after one untimed warm-up encode (medians are reported)", DefaultValueFactory = _ => 3 };
        var batch = new Option<int>("--batch", "-b") { Description = "Images per encode call (the same image repeated)", DefaultValueFactory = _ => 1 };
        var compute = new Option<string>("--compute") { Description = "Compute precision: f32 (bf16 has no compute path yet and is refused)", DefaultValueFactory = _ => "f32" };
        var cmd = new Command("vision", "Measure image-encode ms/image, images/s and GFLOP/s of a vision encoder.\n\nExample:\n  furnace bench vision --model ./clip-vit-base-patch32 --image cat.jpg --threads 2 --runs 5 --json")
        {
            model, image, threads, runs, batch, compute, idleWait, json,
        };
        cmd.SetAction(r => Cli.Run(() => Run(r.GetValue(model)!, r.GetValue(image)!, Cli.CheckThreads(r.GetValue(threads)), r.GetValue(runs),
            r.GetValue(batch), r.GetValue(compute)!, r.GetValue(idleWait), r.GetValue(json))));
        return cmd;
    }

    // What is timed: pixels of one image for the encoder, and the encode of `count` images of them; TokensPerImage is
    // the positions the transformer runs over (1 + patches), unknown for an ONNX graph without its config.
    private sealed record Subject(string Kind, int ImageSize, int? TokensPerImage, double? FlopsPerImage, Func<RgbImage, float[]> Pixels,
        Func<float[], int, KernelContext, float[]> Encode, IDisposable Owner);

    private static int Run(string path, string imagePath, int threads, int runs, int batch, string compute, double idleWaitS, bool json)
    {
        RepOptions repOptions = BenchCommand.RepOptionsFor(runs, "--runs", idleWaitS);
        if (batch is < 1 or > 4096) throw new FurnaceException($"--batch {batch} must be between 1 and 4096");
        if (compute != "f32")
        {
            throw new FurnaceException(compute == "bf16"
                ? "--compute bf16: the vision encoder has no bf16 compute path yet (bf16 weights are widened to f32 and computed in f32); use --compute f32"
                : $"--compute '{compute}' must be f32 or bf16");
        }
        if (!File.Exists(path) && !Directory.Exists(path)) throw new FurnaceException($"{path}: no such model file or directory");
        RgbImage decoded = VlmCli.LoadImage(imagePath);

        var sw = Stopwatch.StartNew();
        Subject s = Open(path, threads);
        using IDisposable owner = s.Owner;
        double loadMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        float[] one = s.Pixels(decoded);
        double preprocessMs = sw.Elapsed.TotalMilliseconds;
        var pixels = new float[(long)one.Length * batch];
        for (int i = 0; i < batch; i++) one.CopyTo(pixels.AsSpan(i * one.Length));

        using var ctx = new KernelContext(threads);
        IReadOnlyDictionary<string, double> Rep()
        {
            long t0 = Stopwatch.GetTimestamp();
            s.Encode(pixels, batch, ctx);
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            var figures = new Dictionary<string, double> { ["ms_per_image"] = 1000 * seconds / batch, ["images_per_s"] = batch / seconds };
            if (s.FlopsPerImage is double f) figures["gflops"] = f * batch / seconds / 1e9;
            return figures;
        }

        IReadOnlyList<RepResult> results = Reps.Run(Rep, repOptions);
        var result = new Dictionary<string, object?>
        {
            ["engine"] = s.Kind == "onnx" ? "onnxruntime" : "furnace",
            ["model"] = Path.GetFileName(Path.TrimEndingDirectorySeparator(path)),
            ["kind"] = s.Kind,
            ["image_size"] = s.ImageSize,
            ["tokens_per_image"] = s.TokensPerImage,
            ["batch"] = batch,
            ["threads"] = threads,
            ["compute"] = compute,
            ["load_ms"] = Math.Round(loadMs, 1),
            ["preprocess_ms"] = Math.Round(preprocessMs, 2),
            ["gflop_per_image"] = s.FlopsPerImage is double g ? Math.Round(g / 1e9, 6) : null,
        };
        var figures = new List<string> { "ms_per_image", "images_per_s" };
        if (s.FlopsPerImage != null) figures.Add("gflops");
        else result["gflops"] = null;
        Reps.Report(result!, results, figures.ToArray());
        result["peak_rss_mb"] = Math.Round(PeakMemory.RssBytes() / 1048576.0, 1);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result, Cli.Json));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result["model"]} ({s.Kind}, {s.ImageSize}px, batch {batch}, {threads} threads): {result["ms_per_image"]} ms/image, {result["images_per_s"]} images/s, " +
                $"{(s.FlopsPerImage != null ? result["gflops"] + " GFLOP/s" : "GFLOP/s unknown")}; median of {results.Count} reps, others' CPU {result["other_cpu_pct"]} %, peak RSS {result["peak_rss_mb"]} MB"));
        }
        return 0;
    }

    private static Subject Open(string path, int threads)
    {
        if (File.Exists(path) && path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            var m = ClipMmproj.Load(path);
            ClipVisionConfig c = m.Tower.Config;
            var pre = new ImagePreprocessor(new ImagePreprocessorConfig
            {
                ShortestEdge = c.ImageSize, CropHeight = c.ImageSize, CropWidth = c.ImageSize,
                Mean = m.Header.ImageMean.Select(x => (double)x).ToArray(), Std = m.Header.ImageStd.Select(x => (double)x).ToArray(),
            });
            double flops = ClipVisionFlops.Tower(c, c.Layers);
            if (m.Projector is { } p)
            {
                int hidden = p.W1.Rows;
                flops += ClipVisionFlops.Linear(c.Patches, p.InDim, hidden) + (p.W2 != null ? ClipVisionFlops.Linear(c.Patches, hidden, p.OutDim) : 0);
            }
            return new Subject("mmproj", c.ImageSize, c.Positions, flops, img => pre.Preprocess(img).Data, (px, n, ctx) => m.EncodeImages(px, n, ctx), m);
        }
        if (File.Exists(path) && path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)
            || Directory.Exists(path) && File.Exists(Path.Combine(path, ResNet18.ModelFile)))
        {
            // a CLIP export beside its HF config: CLIP's normalization and FLOPs; otherwise the graph's own preprocessing
            string? configDir = File.Exists(path) ? Path.GetDirectoryName(Path.GetFullPath(path)) : null;
            ClipConfig? clip = configDir != null && File.Exists(Path.Combine(configDir, "config.json")) ? ClipConfig.FromHuggingFace(configDir) : null;
            OnnxImageEncoder onnx = File.Exists(path)
                ? new OnnxImageEncoder(new OnnxEncoderConfig(path) { IntraOpThreads = threads, Normalization = clip != null ? PixelNormalization.Clip : PixelNormalization.None })
                : ResNet18.Open(path, OnnxOutputKind.Pooled, threads);
            var resize = new ImagePreprocessor(new ImagePreprocessorConfig
            {
                ShortestEdge = null, ResizeHeight = onnx.Height, ResizeWidth = onnx.Width, DoCenterCrop = false, RescaleFactor = null, Mean = null, Std = null,
            });
            double? flops = clip != null && clip.Vision.ImageSize == onnx.Height ? EmbedFlops(clip.Vision, clip.Architecture == ClipArchitecture.VisionModel ? null : clip.ProjectionDim) : null;
            return new Subject("onnx", onnx.Height, clip?.Vision.Positions, flops, img => resize.Preprocess(img).Data,
                (px, n, _) => onnx.Encode(px)[0], onnx);
        }
        if (Directory.Exists(path))
        {
            ClipVisionEncoder e = ClipVisionEncoder.Load(path);
            ClipVisionConfig c = e.Tower.Config;
            bool projected = e.Tower.EmbeddingDim != null;
            return new Subject(projected ? "clip" : "clip-pooled", c.ImageSize, c.Positions, EmbedFlops(c, e.Tower.EmbeddingDim), img => e.Pixels([img]),
                (px, n, ctx) => projected ? e.Tower.EncodeImages(px, n, ctx) : e.Tower.PooledOutput(px, n, ctx), e);
        }
        throw new FurnaceException($"{path}: not a CLIP directory, an mmproj .gguf or an .onnx file");
    }

    // image_embeds of a CLIP checkpoint: the whole tower and the projection of the pooled CLS (when it has one)
    private static double EmbedFlops(ClipVisionConfig v, int? projection) =>
        ClipVisionFlops.Tower(v, v.Layers) + (projection is int p ? ClipVisionFlops.Linear(1, v.HiddenSize, p) : 0);
}
