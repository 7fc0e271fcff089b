// Training-step benchmark: one AdamW step of a Llama-style decoder on the autograd tape (random tokens, next-token
// loss on every position), full fine-tuning and LoRA (all linears, r 16), in the shapes DESIGN.md gives PyTorch
// figures for (dim256: 4 layers, 8 heads, ffn 704, vocab 4096, seq 128, batch 8 — PyTorch 1.13 + OpenBLAS fp32
// ≈180 ms/step here; dim512: 8 layers, ffn 1408, vocab 8192, seq 256, batch 4 — ≈1,000 ms).
//   Furnace.Bench.Training [--shape dim256|dim512] [--threads 2] [--steps 8] [--warmup 2] [--modes full,lora] [--quick]
// Per mode: median step time, samples/s, tokens/s, achieved GFLOP/s — 6·P·T for full training (P = matmul
// parameters, T = tokens) or 4·P·T + 6·P_lora·T for LoRA (frozen weights still need forward and input gradients),
// plus PaLM's attention term 12·L·d·seq·T — and that as a fraction of the engine's best float GEMM (MatMul on a
// square 1024 F32 problem, measured in the same run); memory: peak RSS growth over the loaded model while training
// (VmHWM reset before each mode), per model parameter. --quick runs a tiny shape for three steps (a smoke test).
using System.Diagnostics;
using System.Globalization;
using Furnace.Formats.Weights;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;
using Furnace.Training;
using Furnace.Training.Losses;

if (args.Length > 0 && args[0] == "compare") return TrainCompare.Run(args);

string Arg(string name, string def)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : def;
}

bool quick = args.Contains("--quick");
int threads = int.Parse(Arg("--threads", "2"), CultureInfo.InvariantCulture);
int steps = int.Parse(Arg("--steps", quick ? "3" : "8"), CultureInfo.InvariantCulture);
int warmup = int.Parse(Arg("--warmup", quick ? "2" : "2"), CultureInfo.InvariantCulture);
string shape = quick ? "tiny" : Arg("--shape", "dim256");
string[] modes = Arg("--modes", "full,lora").Split(',', StringSplitOptions.RemoveEmptyEntries);

(LlamaConfig Config, int Seq, int Batch) = TrainShapes.Get(shape);
LlamaConfig c = Config;
using var ctx = new KernelContext(threads);

double gemm = GemmGflops(ctx);
Console.Error.WriteLine($"float GEMM 1024^3: {gemm:F0} GFLOP/s");

string dir = Path.Combine(Path.GetTempPath(), "furnace-bench-training-" + Environment.ProcessId);
try
{
    RandomLlama.WriteHuggingFace(dir, c, DType.F32, seed: 1);
    using LlamaModel model = ModelLoader.OpenHuggingFace(dir);
    int tokens = Seq * Batch;
    var rng = new Random(3);
    int[] ids = Enumerable.Range(0, tokens).Select(_ => rng.Next(c.VocabSize)).ToArray();
    var targets = new int[tokens];
    for (int i = 0; i < tokens; i++) targets[i] = i % Seq == Seq - 1 ? -100 : ids[i + 1];

    // touch every weight once (a forward without recording) so that the mapped checkpoint counts in the baseline
    {
        var t = new Tape(ctx) { Enabled = false };
        var lm = LlamaTrainable.Create(model, LlamaTraining.Frozen);
        NextTokenLoss.Compute(t, lm, lm.Hidden(t, lm.Embed(t, ids), Batch, Seq), targets);
    }

    Console.WriteLine($"shape {shape}: dim {c.Dim}, {c.Layers} layers, {c.Heads} heads, ffn {c.FfnDim}, vocab {c.VocabSize}; seq {Seq} x batch {Batch}; {threads} threads; {c.ParameterCount / 1e6:F2} M parameters");
    Console.WriteLine();
    Console.WriteLine("| mode | trained params | step ms (median) | samples/s | tokens/s | GFLOP/s | of GEMM | peak RSS growth MB | bytes / param |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    foreach (string mode in modes)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long baseline = Status("VmRSS:");
        ResetPeak();
        LlamaTrainable lm;
        IReadOnlyList<Tensor> trained;
        double flops;
        if (mode == "full")
        {
            lm = LlamaTrainable.Create(model, LlamaTraining.Full);
            trained = lm.Parameters;
            flops = LlamaTrainingFlops.Step(c, Batch, Seq);
        }
        else if (mode == "lora")
        {
            var adapter = LoraAdapter.Create(new LoraConfig { Rank = 16, Alpha = 32, Targets = LoraTargets.AllLinear }, c, seed: 1);
            lm = LlamaTrainable.WithLora(model, adapter);
            trained = lm.LoraParameters;
            flops = LlamaTrainingFlops.Step(c, Batch, Seq, adapter.ParameterCount);
        }
        else throw new ArgumentException($"unknown mode '{mode}' (full, lora)");
        var opt = new AdamW([new ParameterGroup(mode, trained) { LearningRate = 1e-4f }]);
        var tape = new Tape(ctx);
        var times = new List<double>();
        for (int s = 0; s < warmup + steps; s++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Tensor loss = NextTokenLoss.Compute(tape, lm, lm.Hidden(tape, lm.Embed(tape, ids), Batch, Seq), targets);
            tape.Backward(loss);
            opt.Step();
            opt.ZeroGrad();
            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (s >= warmup) times.Add(ms);
            Console.Error.WriteLine($"{mode} step {s}: loss {loss.Data[0]:F4}, {ms:F1} ms");
        }
        times.Sort();
        double med = times[times.Count / 2] / 1000;
        long peak = Status("VmHWM:");
        long growth = Math.Max(0, peak - baseline);
        double gflops = flops / med / 1e9;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {mode} | {trained.Sum(p => (long)p.Length):N0} | {med * 1000:F1} | {Batch / med:F1} | {tokens / med:F0} | {gflops:F1} | {gflops / gemm:P0} | {growth / 1048576.0:F1} | {(double)growth / c.ParameterCount:F1} |"));
        GC.KeepAlive(lm);
    }
    Console.WriteLine();
    Console.WriteLine($"float GEMM (MatMul, 1024x1024x1024 F32): {gemm:F0} GFLOP/s");
}
finally
{
    try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
}
return 0;

// best of 5: y (1024, 1024) = x (1024, 1024) · Wᵀ with an F32 weight, the packed float GEMM path
static double GemmGflops(KernelContext ctx)
{
    const int n = 1024;
    var rng = new Random(1);
    float[] w = Enumerable.Range(0, n * n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
    float[] x = Enumerable.Range(0, n * n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
    var y = new float[n * n];
    using var buf = NativeBuffer.FromFloats(w, n, n, DType.F32);
    WeightMatrix m = buf.AsMatrix(n, n, DType.F32);
    double best = double.MaxValue;
    for (int r = 0; r < 5; r++)
    {
        long t0 = Stopwatch.GetTimestamp();
        MatMul.Forward(y, x, n, m, ctx);
        best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
    }
    return 2.0 * n * n * n / best / 1e9;
}

// kB fields of /proc/self/status, in bytes (0 where unavailable)
static long Status(string field)
{
    if (!File.Exists("/proc/self/status")) return 0;
    foreach (string line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith(field, StringComparison.Ordinal))
            return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }
    return 0;
}

// Linux: writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS
static void ResetPeak()
{
    try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
}
