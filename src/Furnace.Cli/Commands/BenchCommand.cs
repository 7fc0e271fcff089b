// `furnace bench llm`: load time, prefill and decode throughput, peak memory of one model, as one JSON line.
// DESIGN.md's performance method: load once, one untimed full rep (prefill + decode), then --reps timed reps, each
// started once other processes use < 5 % of the machine and redone when disturbed (Benchmarking.Reps); medians, the
// per-rep figures and the worst share other processes took are printed. The side-by-side comparison with llama.cpp
// lives in bench/ and calls this.
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Furnace.Benchmarking;
using Furnace.Generation;
using Furnace.Models;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class BenchCommand
{
    public static Command Create()
    {
        var model = Cli.ModelOption();
        var threads = Cli.ThreadsOption();
        var prompt = new Option<int>("--prompt", "-p") { Description = "Prompt tokens to prefill", DefaultValueFactory = _ => 128 };
        var gen = new Option<int>("--gen", "-n") { Description = "Tokens to decode", DefaultValueFactory = _ => 64 };
        var reps = new Option<int>("--reps") { Description = "Timed reps after one untimed warm-up rep (medians are reported)", DefaultValueFactory = _ => 3 };
        var idleWait = IdleWaitOption();
        var llm = new Command("llm", "Measure load time, prefill and decode tokens/s and peak RSS of a decoder; prints one JSON line.\n\nExample:\n  furnace bench llm --model model-q4_0.gguf --threads 2 --prompt 128 --gen 64 --reps 3")
        {
            model,
            threads,
            prompt,
            gen,
            reps,
            idleWait,
            new Option<bool>("--json") { Description = "Accepted as in bench vision / bench train: bench llm always prints one JSON line" },
        };
        llm.SetAction(r => Cli.Run(() => RunLlm(r.GetValue(model)!, Cli.CheckThreads(r.GetValue(threads)), r.GetValue(prompt), r.GetValue(gen), r.GetValue(reps), r.GetValue(idleWait))));
        return new Command("bench", "Benchmarks (see bench/ for side-by-side runs against llama.cpp, ONNX Runtime and PyTorch).")
        {
            llm,
            BenchVisionCommand.Create(IdleWaitOption(), JsonOption()),
            BenchTrainCommand.Create(IdleWaitOption(), JsonOption()),
        };
    }

    public static Option<double> IdleWaitOption() => new("--idle-wait")
    {
        Description = "Seconds to wait before each rep for other processes to use < 5 % of the machine (0: measure and go on)",
        DefaultValueFactory = _ => 60,
    };

    public static Option<bool> JsonOption() => new("--json") { Description = "Print one JSON line (the figures and their per-rep values)" };

    /// <summary>The rep settings of a bench verb: count from its option (named in errors), the idle wait in seconds.</summary>
    public static RepOptions RepOptionsFor(int reps, string option, double idleWaitS)
    {
        if (!(idleWaitS is >= 0 and <= 3600)) throw new FurnaceException($"--idle-wait {idleWaitS} must be between 0 and 3600 seconds");
        if (reps is < 1 or > 1000) throw new FurnaceException($"{option} {reps} must be between 1 and 1000");
        return new RepOptions { Reps = reps, MaxIdleWait = TimeSpan.FromSeconds(idleWaitS) }.Validated();
    }

    private static int RunLlm(string path, int threads, int promptTokens, int genTokens, int repCount, double idleWaitS)
    {
        var repOptions = RepOptionsFor(repCount, "--reps", idleWaitS);
        if (promptTokens < 1 || promptTokens > 1 << 20) throw new FurnaceException($"--prompt {promptTokens} must be between 1 and 1048576");
        if (genTokens < 1 || genTokens > 1 << 20) throw new FurnaceException($"--gen {genTokens} must be between 1 and 1048576");
        var sw = Stopwatch.StartNew();
        using var m = ModelLoader.OpenDecoder(path);
        double loadMs = sw.Elapsed.TotalMilliseconds;
        int ctxLen = promptTokens + genTokens;
        if (ctxLen > m.MaxPositions) throw new FurnaceException($"prompt + gen = {ctxLen} tokens exceed the model's context of {m.MaxPositions}");
        var state = m.NewDecoderState(ctxLen, maxBatch: Math.Min(promptTokens, 128));
        using var ctx = new KernelContext(threads);
        var rng = new Random(42);
        int[] prompt = Enumerable.Range(0, promptTokens).Select(_ => rng.Next(3, m.VocabSize)).ToArray();

        // one rep: prefill the prompt in one batch, then decode greedily one token at a time; the first (untimed) rep
        // touches every weight page and JITs the kernels, as llama-bench's warm-up run does
        int[] one = new int[1];
        IReadOnlyDictionary<string, double> Rep()
        {
            state.Reset();
            var t = Stopwatch.StartNew();
            m.Forward(prompt, state, ctx);
            double prefillS = t.Elapsed.TotalSeconds;
            int next = Sampler.ArgMax(state.Logits.AsSpan(0, m.VocabSize));
            t.Restart();
            for (int i = 0; i < genTokens; i++)
            {
                one[0] = next;
                m.Forward(one, state, ctx);
                next = Sampler.ArgMax(state.Logits.AsSpan(0, m.VocabSize));
            }
            return new Dictionary<string, double> { ["prefill_tok_s"] = promptTokens / prefillS, ["decode_tok_s"] = genTokens / t.Elapsed.TotalSeconds };
        }

        IReadOnlyList<RepResult> results = Reps.Run(Rep, repOptions);
        var result = new Dictionary<string, object>
        {
            ["engine"] = "furnace",
            ["model"] = Path.GetFileName(path),
            ["threads"] = threads,
            ["load_ms"] = Math.Round(loadMs, 1),
            ["prompt_tokens"] = promptTokens,
            ["gen_tokens"] = genTokens,
        };
        Reps.Report(result, results, "prefill_tok_s", "decode_tok_s");
        result["peak_rss_mb"] = Math.Round(PeakMemory.RssBytes() / 1048576.0, 1);
        result["kv_cache_mb"] = Math.Round(state.KvCacheBytes / 1048576.0, 1);
        result["file_mb"] = Math.Round(new FileInfo(path).Exists ? new FileInfo(path).Length / 1048576.0 : 0, 1);
        Console.WriteLine(JsonSerializer.Serialize(result, Cli.Json));
        return 0;
    }
}
