// CLIP ViT image-encoder benchmark, Furnace against llama.cpp's clip encoder (LLamaSharp 0.30.0 mtmd) on the same
// random-weight LLaVA-style mmproj file:
//   Furnace.Bench.Vision clip [--shapes b32,l14-336] [--types f32,f16] [--threads 2] [--runs 5] [--rounds 3] [--dir DIR]
//   Furnace.Bench.Vision clip-peer --mmproj FILE --text FILE --size S --threads 2 --runs N   (child process)
// Each shape is written as a LLaVA vision checkpoint (RandomClip.WriteLlavaVision: feature layer -2, mlp2x_gelu
// projector to a text width equal to the tower width), converted with ClipMmprojExport, and encoded by both engines:
// ours through ClipMmproj.EncodeImages (tower up to the feature layer + projector), llama.cpp through
// mtmd_encode_chunk on a pre-sized RGB image (its preprocessing is outside the timing too). Rounds alternate the
// two engines; each peer round is a fresh child process with its own warm-up. Prints a markdown table of medians.
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Furnace.Models.Clip;
using Furnace.Models.Llama;
using Furnace.Tensors;
using LLama;
using LLama.Common;
using LLama.Native;

internal static class ClipBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        string Arg(string name, string def)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : def;
        }
        int threads = int.Parse(Arg("--threads", "2"), Inv), runs = int.Parse(Arg("--runs", "5"), Inv);
        if (args[0] == "clip-peer") return Peer(Arg("--mmproj", ""), Arg("--text", ""), int.Parse(Arg("--size", "224"), Inv), threads, runs);

        int rounds = int.Parse(Arg("--rounds", "3"), Inv);
        string dir = Arg("--dir", Path.Combine(Path.GetTempPath(), "furnace-clip-bench"));
        var rows = new List<string>();
        foreach (string shape in Arg("--shapes", "b32,l14-336").Split(','))
        foreach (string typeName in Arg("--types", "f32,f16").Split(','))
        {
            if (!DTypes.TryParse(typeName, out DType type)) throw new ArgumentException($"type {typeName}");
            ClipVisionConfig v = ClipConfig.Preset(shape switch
            {
                "b32" => "clip-vit-base-patch32",
                "l14" => "clip-vit-large-patch14",
                "l14-336" => "clip-vit-large-patch14-336",
                _ => throw new ArgumentException($"shape {shape} (b32, l14, l14-336)"),
            }).Vision;
            string hf = Path.Combine(dir, shape + "-hf"), mmproj = Path.Combine(dir, $"{shape}-{typeName}.gguf"), text = Path.Combine(dir, $"{shape}-text.gguf");
            if (!File.Exists(Path.Combine(hf, "config.json"))) RandomClip.WriteLlavaVision(hf, v, textDim: v.HiddenSize, seed: 1);
            if (!File.Exists(mmproj)) ClipMmprojExport.FromHuggingFace(hf, mmproj, type);
            if (!File.Exists(text))
                RandomLlama.WriteGguf(text, LlamaConfig.Preset("test-tiny") with { Dim = v.HiddenSize, Heads = v.HiddenSize / 64, KvHeads = v.HiddenSize / 64, HeadDim = 64, Layers = 1 }, DType.F32, 1);

            var rgb = Image(v.ImageSize);
            var pixels = new float[3 * v.ImageSize * v.ImageSize];
            for (int c = 0; c < 3; c++)
            for (int i = 0; i < v.ImageSize * v.ImageSize; i++)
                pixels[c * v.ImageSize * v.ImageSize + i] = (rgb[i * 3 + c] / 255f - 0.5f) / 0.27f;

            var ours = new List<double>();
            var peer = new List<double>();
            using (var model = ClipMmproj.Load(mmproj))
            using (var ctx = new KernelContext(threads))
            {
                model.EncodeImages(pixels, 1, ctx); // warm-up
                for (int r = 0; r < rounds; r++)
                {
                    for (int i = 0; i < runs; i++)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        model.EncodeImages(pixels, 1, ctx);
                        ours.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    }
                    var p = RunJson(Environment.ProcessPath!, $"clip-peer --mmproj {mmproj} --text {text} --size {v.ImageSize} --threads {threads} --runs {runs}");
                    peer.AddRange(p.GetProperty("ms").EnumerateArray().Select(x => x.GetDouble()));
                    Console.Error.WriteLine($"{shape} {typeName} round {r + 1}: furnace {Median(ours):F1} ms, llama.cpp {Median(peer):F1} ms (medians so far)");
                }
            }
            double mo = Median(ours), mp = Median(peer);
            rows.Add(string.Create(Inv, $"| ViT-{shape} ({v.Layers - 1} of {v.Layers} layers + mlp) | {typeName} | {mo:F1} | {1000 / mo:F2} | {mp:F1} | {1000 / mp:F2} | **{mp / mo:F2}** |"));
        }
        Console.WriteLine($"CLIP image encode, 1 image, {threads} threads, {rounds}×{runs} runs per engine, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine();
        Console.WriteLine("| encoder | weights | Furnace ms/image | Furnace images/s | llama.cpp ms/image | llama.cpp images/s | throughput ratio (Furnace / llama.cpp) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (string r in rows) Console.WriteLine(r);
        return 0;
    }

    // llama.cpp: load the text model and the mmproj, tokenize one pre-sized image, time mtmd_encode_chunk
    private static int Peer(string mmproj, string text, int size, int threads, int runs)
    {
        NativeLogConfig.llama_log_set((_, _) => { });
        var p = new ModelParams(text) { ContextSize = 2048, GpuLayerCount = 0, Threads = threads, BatchSize = 2048, UBatchSize = 2048 };
        using var weights = LLamaWeights.LoadFromFile(p);
        var mp = MtmdContextParams.Default();
        mp.NThreads = threads;
        mp.UseGpu = false;
        mp.Warmup = false;
        using var mtmd = MtmdWeights.LoadFromFile(mmproj, weights, mp);
        using var image = SafeMtmdEmbed.FromRgbBytes((uint)size, (uint)size, Image(size))!;
        if (mtmd.Tokenize(NativeApi.MtmdDefaultMarker() ?? "<__media__>", false, true, [image], out var chunks) != 0 || chunks == null)
            throw new InvalidOperationException("mtmd_tokenize failed");
        using (chunks)
        {
            var chunk = chunks.Enumerate().First(c => c.Type == SafeMtmdInputChunk.SafeMtmdInputChunkType.Image);
            // mtmd_encode_chunk(mtmd_context*, const mtmd_input_chunk*) -> int32, internal in LLamaSharp 0.30.0
            MethodInfo encode = typeof(NativeApi).GetMethod("mtmd_encode_chunk", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                ?? throw new MissingMethodException("NativeApi.mtmd_encode_chunk");
            object[] argv = [mtmd.NativeHandle.DangerousGetHandle(), chunk.NativePtr];
            int Encode() => Convert.ToInt32(encode.Invoke(null, argv), Inv);
            if (Encode() != 0) throw new InvalidOperationException("mtmd_encode_chunk failed");
            var ms = new List<double>();
            for (int i = 0; i < runs; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                if (Encode() != 0) throw new InvalidOperationException("mtmd_encode_chunk failed");
                ms.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["ms"] = ms }));
        }
        return 0;
    }

    // a deterministic textured RGB image, size × size × 3
    private static byte[] Image(int size)
    {
        var rng = new Random(1);
        var rgb = new byte[size * size * 3];
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
        for (int c = 0; c < 3; c++)
            rgb[(y * size + x) * 3 + c] = (byte)Math.Clamp((x + 2 * y) / 3 + 40 * c + rng.Next(-30, 30), 0, 255);
        return rgb;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s[s.Length / 2];
    }

    private static JsonElement RunJson(string exe, string arguments)
    {
        var psi = new ProcessStartInfo(exe, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} {arguments} failed ({p.ExitCode}): {err.Result}");
        string line = output.Split('\n').Last(l => l.TrimStart().StartsWith('{'));
        return JsonDocument.Parse(line).RootElement.Clone();
    }
}
