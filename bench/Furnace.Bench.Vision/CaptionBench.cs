// `caption` mode: end-to-end caption latency of a composed LLaVA-style model of real shapes (random weights):
// CLIP ViT (HF directory) + mlp2x_gelu projector + a GGUF decoder, run as `furnace caption --json` child processes.
// Reports medians of time to first token (preprocess, vision tower, projector, prefill, first sample), total
// caption time for --max-tokens tokens, and peak RSS. No peer: llama.cpp's mtmd pipeline orders CLS differently
// (DESIGN.md), so only the encoder is compared side by side (ClipBench).
//   Furnace.Bench.Vision caption [--vision clip-vit-base-patch32] [--llm bench-768] [--type q4_0] [--threads 2]
//                                [--runs 5] [--tokens 32] [--models DIR] [--furnace PATH]
using System.Globalization;
using System.Text.Json;
using Furnace.Models.Vlm;
using Furnace.Tensors;

internal static class CaptionBench
{
    public static int Run(string[] args)
    {
        string Arg(string name, string def)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : def;
        }

        string vision = Arg("--vision", "clip-vit-base-patch32");
        string llm = Arg("--llm", "bench-768");
        string typeName = Arg("--type", "q4_0");
        int threads = int.Parse(Arg("--threads", "2"), CultureInfo.InvariantCulture);
        int runs = int.Parse(Arg("--runs", "5"), CultureInfo.InvariantCulture);
        int tokens = int.Parse(Arg("--tokens", "32"), CultureInfo.InvariantCulture);
        string dir = Arg("--models", Path.Combine(Path.GetTempPath(), "furnace-bench-models"));
        string furnace = Arg("--furnace", Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "Furnace.Cli", "bin", "Release", "net10.0", "furnace"));
        if (!DTypes.TryParse(typeName, out DType type)) throw new ArgumentException($"unknown type {typeName}");

        var (clipDir, gguf, projector) = RandomLlava.WriteComposedCached(dir, vision, llm, type, typeName, Console.Error.WriteLine);
        string image = Path.Combine(dir, "caption-bench.bmp");
        if (!File.Exists(image)) WriteBmp(image, 640, 480);

        var ttft = new List<double>();
        var total = new List<double>();
        var rss = new List<double>();
        for (int r = 0; r < runs; r++)
        {
            JsonElement e = ChildJson.Run(furnace, ["caption", image, "--model", gguf, "--vision", clipDir, "--projector", projector,
                "--max-tokens", tokens.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture), "--json"])
                ?? throw new InvalidOperationException("furnace caption failed");
            ttft.Add(e.GetProperty("ttft_ms").GetDouble());
            total.Add(e.GetProperty("ms").GetDouble());
            rss.Add(e.GetProperty("peak_rss_mb").GetDouble());
        }
        static double Med(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
        Console.WriteLine($"caption: {vision} + mlp2x_gelu + {llm} {typeName}, {threads} threads, 640x480 image, {tokens} tokens, median of {runs} processes, {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine();
        Console.WriteLine("| vision | decoder | time to first token (ms) | caption of " + tokens + " tokens (ms) | peak RSS (MB) |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {vision} | {llm} {typeName} | {Med(ttft):F0} | {Med(total):F0} | {Med(rss):F0} |"));
        return 0;
    }

    // smooth gradients (no encoder needed); the BMP file itself is BenchImage's
    private static void WriteBmp(string path, int w, int h)
    {
        var rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        {
            // the picture is defined by the BMP (bottom-up) row y; rgb holds rows top-down
            int i = ((h - 1 - y) * w + x) * 3;
            rgb[i] = (byte)((x + y) & 255);
            rgb[i + 1] = (byte)(y * 255 / h);
            rgb[i + 2] = (byte)(x * 255 / w);
        }
        BenchImage.WriteBmp(path, w, h, rgb);
    }
}
