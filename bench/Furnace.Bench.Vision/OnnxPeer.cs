// ONNX Runtime timing an image encoder directly (Microsoft.ML.OnnxRuntime's InferenceSession, no Furnace code in
// the path), as a child process of the vision comparison:
//   Furnace.Bench.Vision onnx-peer --model FILE --size S [--batch 1] [--threads 2] [--runs 3] [--idle-wait 60]
// Session: IntraOpNumThreads = threads, InterOpNumThreads = 1, sequential execution, ORT_ENABLE_ALL graph
// optimizations. Input: the first graph input, (batch, 3, S, S) CLIP-normalized pixels of BenchImage. One untimed
// run (ORT's own warm-up), then --runs timed runs with the Reps method; one JSON line with the fields of
// `furnace bench vision --json`.
using System.Diagnostics;
using System.Text.Json;
using Furnace.Benchmarking;
using Microsoft.ML.OnnxRuntime;

internal static class OnnxPeer
{
    public static int Run(string model, int size, int batch, int threads, RepOptions reps)
    {
        var sw = Stopwatch.StartNew();
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        using var session = new InferenceSession(model, options);
        double loadMs = sw.Elapsed.TotalMilliseconds;
        string input = session.InputMetadata.Keys.First(), output = session.OutputMetadata.Keys.First();
        float[] one = BenchImage.ClipPixels(size);
        var pixels = new float[one.Length * batch];
        for (int i = 0; i < batch; i++) one.CopyTo(pixels, i * one.Length);
        using var value = OrtValue.CreateTensorValueFromMemory(pixels, [batch, 3, size, size]);
        using var runOptions = new RunOptions();
        IReadOnlyDictionary<string, double> Rep()
        {
            long t0 = Stopwatch.GetTimestamp();
            using (session.Run(runOptions, [input], [value], [output])) { }
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            return new Dictionary<string, double> { ["ms_per_image"] = 1000 * s / batch, ["images_per_s"] = batch / s };
        }

        IReadOnlyList<RepResult> results = Reps.Run(Rep, reps);
        var report = new Dictionary<string, object>
        {
            ["engine"] = "onnxruntime",
            ["ort"] = OrtEnv.Instance().GetVersionString(),
            ["model"] = Path.GetFileName(model),
            ["image_size"] = size,
            ["batch"] = batch,
            ["threads"] = threads,
            ["load_ms"] = Math.Round(loadMs, 1),
        };
        Reps.Report(report, results, "ms_per_image", "images_per_s");
        report["peak_rss_mb"] = Math.Round(PeakMemory.RssBytes() / 1048576.0, 1);
        Console.WriteLine(JsonSerializer.Serialize(report));
        return 0;
    }

    /// <summary>The first output of the graph for the given (1, 3, S, S) pixels (the harness's same-weights check).</summary>
    public static float[] Embed(string model, float[] pixels, int size)
    {
        using var session = new InferenceSession(model);
        using var value = OrtValue.CreateTensorValueFromMemory(pixels, [1, 3, size, size]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [session.InputMetadata.Keys.First()], [value], [session.OutputMetadata.Keys.First()]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
