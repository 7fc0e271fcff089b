// Vision tower benchmark: milliseconds per 224×224 image for ML.NET's ResNet18 through ONNX Runtime; the `compare`
// mode (VitCompare.cs; `clip` is its old name) times ViT encoders against ONNX Runtime and llama.cpp's clip encoder
// with the child modes `onnx-peer` (OnnxPeer.cs) and `clip-peer` (LlamaCppClipPeer.cs); the `caption` mode
// (CaptionBench.cs) times a whole caption (time to first token, peak memory).
//   Furnace.Bench.Vision [--threads 2] [--runs 30] [--rounds 3] [--models DIR]
// Rows, timed interleaved round by round (timings here are noisy, ±20%):
//   pooled  OnnxImageEncoder, one session, preprocessing in C#, 512-d output
//   grid    the same with the 7×7×512 map exposed as an extra graph output (49 tokens)
//   chain   ML.NET's way as the peer: ResNetPreprocess.onnx then ResNet18.onnx, two sessions
// Prints a markdown table of medians (and p10/p90) over all runs.
using System.Diagnostics;
using System.Globalization;
using Furnace.Models.Onnx;
using Microsoft.ML.OnnxRuntime;

if (args.Length > 0 && args[0] is "compare" or "clip") return VitCompare.Run(args);
if (args.Length > 0 && args[0] is "clip-peer" or "onnx-peer")
{
    string PeerArg(string name, string def)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : def;
    }
    int peerThreads = int.Parse(PeerArg("--threads", "2"), CultureInfo.InvariantCulture), size = int.Parse(PeerArg("--size", "224"), CultureInfo.InvariantCulture);
    var reps = new Furnace.Benchmarking.RepOptions
    {
        Reps = int.Parse(PeerArg("--runs", "3"), CultureInfo.InvariantCulture),
        MaxIdleWait = TimeSpan.FromSeconds(double.Parse(PeerArg("--idle-wait", "60"), CultureInfo.InvariantCulture)),
    };
    return args[0] == "clip-peer"
        ? LlamaCppClipPeer.Run(PeerArg("--mmproj", ""), PeerArg("--text", ""), size, peerThreads, reps)
        : OnnxPeer.Run(PeerArg("--model", ""), size, int.Parse(PeerArg("--batch", "1"), CultureInfo.InvariantCulture), peerThreads, reps);
}
if (args.Length > 0 && args[0] == "caption") return CaptionBench.Run(args);

string Arg(string name, string def)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : def;
}

int threads = int.Parse(Arg("--threads", "2"), CultureInfo.InvariantCulture);
int runs = int.Parse(Arg("--runs", "30"), CultureInfo.InvariantCulture);
int rounds = int.Parse(Arg("--rounds", "3"), CultureInfo.InvariantCulture);
string dir = Arg("--models", ResNet18.DefaultDirectory);

// A deterministic textured image (no decoder needed): smooth gradients plus a seeded noise.
var rng = new Random(1);
var rgb = new byte[224 * 224 * 3];
for (int y = 0; y < 224; y++)
for (int x = 0; x < 224; x++)
for (int c = 0; c < 3; c++)
    rgb[(y * 224 + x) * 3 + c] = (byte)Math.Clamp((x + 2 * y) / 3 + 40 * c + rng.Next(-30, 30), 0, 255);
float[] planes = OnnxImageEncoder.PlanesFromRgb24(rgb, 224, 224);

using var pooled = ResNet18.Open(dir, OnnxOutputKind.Pooled, threads);
using var grid = ResNet18.Open(dir, OnnxOutputKind.Grid, threads);
using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
using var prep = new InferenceSession(Path.Combine(dir, ResNet18.PreprocessFile), options);
using var net = new InferenceSession(Path.Combine(dir, ResNet18.ModelFile), options);
using var runOptions = new RunOptions();

void Chain()
{
    using var input = OrtValue.CreateTensorValueFromMemory(planes, [1, 3, 224, 224]);
    using var p = prep.Run(runOptions, ["OriginalInput"], [input], ["PreprocessedInput"]);
    using var o = net.Run(runOptions, [ResNet18.InputName], [p[0]], [ResNet18.PooledOutput]);
}

var cases = new (string Name, Action Run)[]
{
    ("furnace OnnxImageEncoder, pooled 512", () => pooled.Encode(planes)),
    ("furnace OnnxImageEncoder, grid 49×512", () => grid.Encode(planes)),
    ("ML.NET chain: ResNetPreprocess.onnx + ResNet18.onnx", Chain),
};
var times = cases.Select(_ => new List<double>()).ToArray();
foreach (var c in cases) for (int i = 0; i < 3; i++) c.Run(); // warm up
for (int r = 0; r < rounds; r++)
    for (int k = 0; k < cases.Length; k++)
        for (int i = 0; i < runs; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            cases[k].Run();
            times[k].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }

double Pct(List<double> xs, double q)
{
    var s = xs.Order().ToArray();
    return s[(int)Math.Round(q * (s.Length - 1))];
}

Console.WriteLine($"ResNet18 (Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1), 224×224, ONNX Runtime {OrtEnv.Instance().GetVersionString()}, {threads} threads, {rounds}×{runs} runs");
Console.WriteLine();
Console.WriteLine("| path | median ms/image | p10 | p90 |");
Console.WriteLine("|---|---:|---:|---:|");
for (int k = 0; k < cases.Length; k++)
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {cases[k].Name} | {Pct(times[k], 0.5):F1} | {Pct(times[k], 0.1):F1} | {Pct(times[k], 0.9):F1} |"));
return 0;
