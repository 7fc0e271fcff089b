// Decoder benchmark, Furnace vs llama.cpp, same GGUF files, same machine, one run, interleaved — DESIGN.md's
// performance method: each engine process loads once, runs one untimed full rep (prefill + decode), then --reps timed
// reps, each started once other processes use < 5 % of the machine (/proc/stat) and redone when disturbed; the
// engines alternate process by process; figures are medians over every timed rep, printed with the worst CPU share
// other processes took.
//   compare [--threads 2] [--prompt 128] [--gen 64] [--rounds 2] [--reps 3] [--models DIR] [--shapes bench-768,tinyllama-1.1b] [--types f32,q8_0,q4_0,Q4_K_M,…]
//       writes seeded random-weight GGUF files of the named shapes (once, cached in DIR), then alternates
//       `furnace bench llm` and this program's `peer` mode as child processes and prints a markdown table of medians.
//   peer --model FILE [--threads 2] [--prompt 128] [--gen 64] [--reps 3]
//       llama.cpp's numbers for one file as one JSON line (the same fields as `furnace bench llm`).
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Furnace.Benchmarking;
using Furnace.Models.DeepSeek;
using Furnace.Models.Llama;
using Furnace.Quantization;
using Furnace.Tensors;
using LLama;
using LLama.Common;
using LLama.Native;

string Arg(string name, string def)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : def;
}

int threads = int.Parse(Arg("--threads", "2"), CultureInfo.InvariantCulture);
int prompt = int.Parse(Arg("--prompt", "128"), CultureInfo.InvariantCulture);
int gen = int.Parse(Arg("--gen", "64"), CultureInfo.InvariantCulture);
int reps = int.Parse(Arg("--reps", "3"), CultureInfo.InvariantCulture);

if (args.Length > 0 && args[0] == "peer")
{
    Console.WriteLine(Peer.Run(Arg("--model", ""), threads, prompt, gen, reps));
    return 0;
}
if (args.Length == 0 || args[0] != "compare")
{
    Console.Error.WriteLine("usage: Furnace.Bench.Llm compare [options] | peer --model FILE [options]");
    return 2;
}

int rounds = int.Parse(Arg("--rounds", "2"), CultureInfo.InvariantCulture);
string modelDir = Arg("--models", Path.Combine(Path.GetTempPath(), "furnace-bench-models"));
string[] shapes = Arg("--shapes", "bench-768,tinyllama-1.1b").Split(',');
string[] types = Arg("--types", "f32,q8_0,q4_0").Split(',');
string furnace = Arg("--furnace", Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "Furnace.Cli", "bin", "Release", "net10.0", "furnace"));
string self = Environment.ProcessPath!;
Directory.CreateDirectory(modelDir);

var rows = new List<string>();
foreach (string shape in shapes)
{
    foreach (string typeName in types)
    {
        string file = Path.Combine(modelDir, $"{shape}-{typeName}.gguf");
        if (!File.Exists(file))
        {
            Console.Error.WriteLine($"writing {file}");
            if (DTypes.TryParse(typeName, out DType type))
            {
                WriteRandom(file, shape, type);
            }
            else if (QuantFileTypes.TryParse(typeName, out QuantFileType ftype))
            {
                // a llama-quantize recipe (Q4_K_M, …) applied to the f32 file: the per-tensor mix of a downloaded GGUF
                string f32 = Path.Combine(modelDir, $"{shape}-f32.gguf");
                if (!File.Exists(f32)) WriteRandom(f32, shape, DType.F32);
                GgufQuantizer.Quantize(f32, file, new QuantizeOptions(ftype));
            }
            else
            {
                throw new ArgumentException($"unknown type {typeName}");
            }
        }
        var ours = new List<JsonElement>();
        var peer = new List<JsonElement>();
        for (int r = 0; r < rounds; r++)
        {
            string common = $"--threads {threads} --prompt {prompt} --gen {gen} --reps {reps}";
            ours.Add(RunJson(furnace, $"bench llm --model {file} {common}"));
            peer.Add(RunJson(self, $"peer --model {file} {common}"));
            Console.Error.WriteLine($"{shape} {typeName} round {r + 1}: decode furnace {ours[^1].GetProperty("decode_tok_s")} tok/s (others {ours[^1].GetProperty("other_cpu_pct")} %), llama.cpp {peer[^1].GetProperty("decode_tok_s")} tok/s (others {peer[^1].GetProperty("other_cpu_pct")} %)");
        }
        // medians over every timed rep of every process of an engine
        double Med(List<JsonElement> xs, string key)
        {
            double[] v = xs.SelectMany(x => x.GetProperty(key + "_reps").EnumerateArray().Select(e => e.GetDouble())).Order().ToArray();
            return v[v.Length / 2];
        }

        double Worst(List<JsonElement> xs) => xs.Max(x => x.GetProperty("other_cpu_pct").GetDouble());
        double fileMb = new FileInfo(file).Length / 1048576.0;
        double kvMb = ours.Max(x => x.GetProperty("kv_cache_mb").GetDouble());
        double rssOurs = ours.Max(x => x.GetProperty("peak_rss_mb").GetDouble()), rssPeer = peer.Max(x => x.GetProperty("peak_rss_mb").GetDouble());
        rows.Add(string.Create(CultureInfo.InvariantCulture,
            $"| {shape} | {typeName} | {fileMb:F0} | {Med(ours, "prefill_tok_s"):F1} | {Med(peer, "prefill_tok_s"):F1} | {Med(ours, "prefill_tok_s") / Med(peer, "prefill_tok_s"):F2} | {Med(ours, "decode_tok_s"):F1} | {Med(peer, "decode_tok_s"):F1} | **{Med(ours, "decode_tok_s") / Med(peer, "decode_tok_s"):F2}** | {rssOurs:F0} | {rssPeer:F0} | {rssOurs / (fileMb + kvMb):F2} | {Math.Max(Worst(ours), Worst(peer)):F1} |"));
    }
}
Console.WriteLine($"threads {threads}, prompt {prompt}, gen {gen}; {rounds} alternating processes per engine, each 1 untimed + {reps} timed reps, medians; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end");
Console.WriteLine();
Console.WriteLine("| shape | type | file MB | prefill tok/s furnace | llama.cpp | ratio | decode tok/s furnace | llama.cpp | ratio | peak RSS MB furnace | llama.cpp | furnace RSS / (file + KV) | others' CPU % (worst rep) |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (string row in rows) Console.WriteLine(row);
return 0;

// seeded random weights of a llama-family preset, or of a deepseek2 one (bench-moe, …)
static void WriteRandom(string file, string shape, DType type)
{
    if (DeepSeekConfig.PresetNames.Contains(shape)) RandomDeepSeek.WriteGguf(file, DeepSeekConfig.Preset(shape), type, seed: 1);
    else RandomLlama.WriteGguf(file, LlamaConfig.Preset(shape), type, seed: 1);
}

static JsonElement RunJson(string exe, string arguments)
{
    var psi = new ProcessStartInfo(exe, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
    using var p = Process.Start(psi)!;
    string stdout = p.StandardOutput.ReadToEnd();
    string stderr = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} {arguments} failed ({p.ExitCode}): {stderr}");
    string line = stdout.Split('\n').Last(l => l.TrimStart().StartsWith('{'));
    return JsonDocument.Parse(line).RootElement.Clone();
}

internal static class Peer
{
    public static string Run(string path, int threads, int promptTokens, int genTokens, int reps)
    {
        NativeLogConfig.llama_log_set((level, message) => { });
        var sw = Stopwatch.StartNew();
        var p = new ModelParams(path)
        {
            ContextSize = (uint)(promptTokens + genTokens),
            BatchSize = (uint)promptTokens,
            UBatchSize = (uint)promptTokens,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
        };
        using var weights = LLamaWeights.LoadFromFile(p);
        using var ctx = weights.CreateContext(p);
        double loadMs = sw.Elapsed.TotalMilliseconds;
        int vocab = weights.Vocab.Count;
        var rng = new Random(42);
        int[] prompt = Enumerable.Range(0, promptTokens).Select(_ => rng.Next(3, vocab)).ToArray();
        var batch = new LLamaBatch();

        // one rep: prefill the prompt in one batch, then decode greedily one token at a time (as `furnace bench llm`)
        IReadOnlyDictionary<string, double> Rep()
        {
            ctx.NativeHandle.MemoryClear(true);
            batch.Clear();
            for (int i = 0; i < promptTokens; i++) batch.Add((LLamaToken)prompt[i], i, LLamaSeqId.Zero, i == promptTokens - 1);
            var t = Stopwatch.StartNew();
            Decode(ctx, batch);
            double prefillS = t.Elapsed.TotalSeconds;
            int next = ArgMax(ctx.NativeHandle.GetLogitsIth(promptTokens - 1));
            t.Restart();
            for (int i = 0; i < genTokens; i++)
            {
                batch.Clear();
                batch.Add((LLamaToken)next, promptTokens + i, LLamaSeqId.Zero, true);
                Decode(ctx, batch);
                next = ArgMax(ctx.NativeHandle.GetLogitsIth(0));
            }
            return new Dictionary<string, double> { ["prefill_tok_s"] = promptTokens / prefillS, ["decode_tok_s"] = genTokens / t.Elapsed.TotalSeconds };
        }

        IReadOnlyList<RepResult> results = Reps.Run(Rep, new RepOptions { Reps = reps });
        var report = new Dictionary<string, object>
        {
            ["engine"] = "llama.cpp",
            ["model"] = Path.GetFileName(path),
            ["threads"] = threads,
            ["load_ms"] = Math.Round(loadMs, 1),
        };
        Reps.Report(report, results, "prefill_tok_s", "decode_tok_s");
        report["peak_rss_mb"] = Math.Round(PeakMemory.RssBytes() / 1048576.0, 1);
        return JsonSerializer.Serialize(report);
    }

    private static void Decode(LLamaContext ctx, LLamaBatch batch)
    {
        var rc = ctx.NativeHandle.Decode(batch);
        if (rc != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode: {rc}");
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
