// llama.cpp's clip encoder (LLamaSharp 0.30.0 mtmd) timing one image, as a child process of the vision comparison:
//   Furnace.Bench.Vision clip-peer --mmproj FILE --text FILE --size S [--threads 2] [--runs 3] [--idle-wait 60]
// Loads the text model and the mmproj, tokenizes one pre-sized RGB image (preprocessing outside the timing), runs
// mtmd_encode_chunk once untimed, then --runs timed encodes with the Reps method (idle gate, disturbed reps redone);
// prints one JSON line with the fields of `furnace bench vision --json` (ms_per_image, images_per_s, reps, …).
// mtmd encodes one image per call: there is no batch.
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Furnace.Benchmarking;
using LLama;
using LLama.Common;
using LLama.Native;

internal static class LlamaCppClipPeer
{
    public static int Run(string mmproj, string text, int size, int threads, RepOptions reps)
    {
        NativeLogConfig.llama_log_set((_, _) => { });
        var sw = Stopwatch.StartNew();
        var p = new ModelParams(text) { ContextSize = 2048, GpuLayerCount = 0, Threads = threads, BatchSize = 2048, UBatchSize = 2048 };
        using var weights = LLamaWeights.LoadFromFile(p);
        var mp = MtmdContextParams.Default();
        mp.NThreads = threads;
        mp.UseGpu = false;
        mp.Warmup = false;
        using var mtmd = MtmdWeights.LoadFromFile(mmproj, weights, mp);
        double loadMs = sw.Elapsed.TotalMilliseconds;
        using var image = SafeMtmdEmbed.FromRgbBytes((uint)size, (uint)size, BenchImage.Rgb(size))!;
        if (mtmd.Tokenize(NativeApi.MtmdDefaultMarker() ?? "<__media__>", false, true, [image], out var chunks) != 0 || chunks == null)
            throw new InvalidOperationException("mtmd_tokenize failed");
        using (chunks)
        {
            var chunk = chunks.Enumerate().First(c => c.Type == SafeMtmdInputChunk.SafeMtmdInputChunkType.Image);
            // mtmd_encode_chunk(mtmd_context*, const mtmd_input_chunk*) -> int32, internal in LLamaSharp 0.30.0
            MethodInfo encode = typeof(NativeApi).GetMethod("mtmd_encode_chunk", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                ?? throw new MissingMethodException("NativeApi.mtmd_encode_chunk");
            object[] argv = [mtmd.NativeHandle.DangerousGetHandle(), chunk.NativePtr];
            IReadOnlyDictionary<string, double> Rep()
            {
                long t0 = Stopwatch.GetTimestamp();
                if (Convert.ToInt32(encode.Invoke(null, argv), CultureInfo.InvariantCulture) != 0) throw new InvalidOperationException("mtmd_encode_chunk failed");
                double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                return new Dictionary<string, double> { ["ms_per_image"] = 1000 * s, ["images_per_s"] = 1 / s };
            }

            IReadOnlyList<RepResult> results = Reps.Run(Rep, reps);
            var report = new Dictionary<string, object>
            {
                ["engine"] = "llama.cpp",
                ["model"] = Path.GetFileName(mmproj),
                ["image_size"] = size,
                ["batch"] = 1,
                ["threads"] = threads,
                ["load_ms"] = Math.Round(loadMs, 1),
            };
            Reps.Report(report, results, "ms_per_image", "images_per_s");
            report["peak_rss_mb"] = Math.Round(PeakMemory.RssBytes() / 1048576.0, 1);
            Console.WriteLine(JsonSerializer.Serialize(report));
        }
        return 0;
    }
}
