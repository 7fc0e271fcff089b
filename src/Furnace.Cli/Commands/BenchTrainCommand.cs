// `furnace bench train`: one training step of a Llama-style decoder with random weights (Training.DecoderStepBench:
// the real Trainer step — forward, next-token loss, backward, clip, AdamW), as one JSON line (--json) or one text
// line. DESIGN.md's performance method (Benchmarking.Reps): two untimed steps (the first allocates the AdamW
// moments), then --steps timed steps, each started once other processes use < 5 % of the machine and redone when
// disturbed; medians, per-step figures and the worst CPU share other processes took are printed. GFLOP/s counts
// LlamaTrainingFlops.Step (6 per matmul parameter per token plus the attention term; 4 + the adapters' 6 for LoRA).
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Furnace.Benchmarking;
using Furnace.Models.Llama;
using Furnace.Tensors;
using Furnace.Training;

namespace Furnace.Cli.Commands;

internal static class BenchTrainCommand
{
    public static Command Create(Option<double> idleWait, Option<bool> json)
    {
        Option<int> Int(string name, string description, int def) => new(name) { Description = description, DefaultValueFactory = _ => def };
        var dim = Int("--dim", "Hidden size", 256);
        var layers = Int("--layers", "Decoder layers", 4);
        var heads = Int("--heads", "Attention heads (head dim = dim / heads)", 8);
        var kvHeads = new Option<int?>("--kv-heads") { Description = "Key/value heads (grouped-query attention; default: --heads)" };
        var ffn = Int("--ffn", "MLP intermediate size", 704);
        var vocab = Int("--vocab", "Vocabulary size", 4096);
        var batch = Int("--batch", "Sequences per step", 8);
        var seq = Int("--seq", "Tokens per sequence", 128);
        var threads = Cli.ThreadsOption();
        var steps = Int("--steps", "Timed steps after two untimed warm-up steps (medians are reported)", 3);
        var lora = Int("--lora", "LoRA rank over every linear (0: full fine-tuning)", 0);
        var precision = new Option<string>("--precision") { Description = "Training precision: f32 (bf16 mixed precision has no path yet and is refused)", DefaultValueFactory = _ => "f32" };
        var cmd = new Command("train", "Measure ms/step, tokens/s and GFLOP/s of an AdamW training step of a random-weight decoder.\n\nExample:\n  furnace bench train --dim 256 --layers 4 --heads 8 --ffn 704 --vocab 4096 --batch 8 --seq 128 --threads 2 --steps 5 --json")
        {
            dim, layers, heads, kvHeads, ffn, vocab, batch, seq, threads, steps, lora, precision, idleWait, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            int h = r.GetValue(heads);
            var shape = new Shape(r.GetValue(dim), r.GetValue(layers), h, r.GetValue(kvHeads) ?? h, r.GetValue(ffn), r.GetValue(vocab), r.GetValue(batch), r.GetValue(seq));
            return Run(shape, Cli.CheckThreads(r.GetValue(threads)), r.GetValue(steps), r.GetValue(lora), r.GetValue(precision)!, r.GetValue(idleWait), r.GetValue(json));
        }));
        return cmd;
    }

    private sealed record Shape(int Dim, int Layers, int Heads, int KvHeads, int Ffn, int Vocab, int Batch, int Seq);

    private static int Run(Shape s, int threads, int steps, int loraRank, string precision, double idleWaitS, bool json)
    {
        RepOptions repOptions = BenchCommand.RepOptionsFor(steps, "--steps", idleWaitS);
        if (precision != "f32")
        {
            throw new FurnaceException(precision == "bf16"
                ? "--precision bf16: training has no bf16 mixed-precision path yet (every matmul runs in f32); use --precision f32"
                : $"--precision '{precision}' must be f32 or bf16");
        }
        LlamaConfig config = Validate(s, loraRank);

        using var ctx = new KernelContext(threads);
        var sw = Stopwatch.StartNew();
        using var bench = DecoderStepBench.Create(config, s.Batch, s.Seq, loraRank, ctx);
        double setupMs = sw.Elapsed.TotalMilliseconds;
        var losses = new List<double>();
        IReadOnlyDictionary<string, double> Rep()
        {
            long t0 = Stopwatch.GetTimestamp();
            losses.Add(bench.Step());
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            return new Dictionary<string, double>
            {
                ["ms_per_step"] = 1000 * seconds,
                ["tokens_per_s"] = bench.TokensPerStep / seconds,
                ["gflops"] = bench.FlopsPerStep / seconds / 1e9,
            };
        }

        IReadOnlyList<RepResult> results = Reps.Run(Rep, repOptions, warmUp: () =>
        {
            losses.Add(bench.Step());
            losses.Add(bench.Step());
        });
        var result = new Dictionary<string, object>
        {
            ["engine"] = "furnace",
            ["dim"] = s.Dim,
            ["layers"] = s.Layers,
            ["heads"] = s.Heads,
            ["kv_heads"] = s.KvHeads,
            ["ffn"] = s.Ffn,
            ["vocab"] = s.Vocab,
            ["batch"] = s.Batch,
            ["seq"] = s.Seq,
            ["tokens_per_step"] = bench.TokensPerStep,
            ["threads"] = threads,
            ["precision"] = precision,
            ["mode"] = loraRank == 0 ? "full" : "lora",
            ["lora_rank"] = loraRank,
            ["parameters"] = config.ParameterCount,
            ["trained_parameters"] = bench.TrainedParameters,
            ["gflop_per_step"] = Math.Round(bench.FlopsPerStep / 1e9, 6),
            ["setup_ms"] = Math.Round(setupMs, 1),
        };
        Reps.Report(result, results, "ms_per_step", "tokens_per_s", "gflops");
        result["loss_first"] = Math.Round(losses[0], 4);
        result["loss_last"] = Math.Round(losses[^1], 4);
        result["peak_rss_mb"] = Math.Round(PeakMemory.RssBytes() / 1048576.0, 1);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result, Cli.Json));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"dim {s.Dim}, {s.Layers} layers, {s.Heads} heads, ffn {s.Ffn}, vocab {s.Vocab}, {s.Batch}x{s.Seq} tokens, {result["mode"]}, {threads} threads: " +
                $"{result["ms_per_step"]} ms/step, {result["tokens_per_s"]} tokens/s, {result["gflops"]} GFLOP/s; median of {results.Count} steps, others' CPU {result["other_cpu_pct"]} %, peak RSS {result["peak_rss_mb"]} MB"));
        }
        return 0;
    }

    // ranges first (one line naming the option), then what the model's own validation checks
    private static LlamaConfig Validate(Shape s, int loraRank)
    {
        static void Range(string name, long value, long min, long max)
        {
            if (value < min || value > max) throw new FurnaceException($"{name} {value} must be between {min} and {max}");
        }

        Range("--dim", s.Dim, 2, 65536);
        Range("--layers", s.Layers, 1, 1024);
        Range("--heads", s.Heads, 1, 1024);
        Range("--kv-heads", s.KvHeads, 1, s.Heads);
        Range("--ffn", s.Ffn, 1, 1 << 20);
        Range("--vocab", s.Vocab, 2, 1 << 22);
        Range("--batch", s.Batch, 1, 4096);
        Range("--seq", s.Seq, 2, 1 << 16);
        Range("--lora", loraRank, 0, s.Dim);
        if (s.Dim % s.Heads != 0) throw new FurnaceException($"--dim {s.Dim} must be a multiple of --heads {s.Heads}");
        if ((s.Dim / s.Heads) % 2 != 0) throw new FurnaceException($"head dim {s.Dim / s.Heads} (--dim / --heads) must be even (rotary embeddings)");
        if (s.Heads % s.KvHeads != 0) throw new FurnaceException($"--kv-heads {s.KvHeads} must divide --heads {s.Heads}");
        var config = new LlamaConfig
        {
            Architecture = "llama", Dim = s.Dim, Layers = s.Layers, Heads = s.Heads, KvHeads = s.KvHeads, HeadDim = s.Dim / s.Heads,
            FfnDim = s.Ffn, VocabSize = s.Vocab, MaxPositions = s.Seq, RmsEps = 1e-5f,
        }.Validated("bench train");
        // weights, gradients and two AdamW moments in f32 for full training: refuse what cannot fit in memory
        double gib = config.ParameterCount * (loraRank == 0 ? 20.0 : 4.0) / (1L << 30);
        if (gib > 64) throw new FurnaceException($"a model of {config.ParameterCount:N0} parameters needs about {gib:F0} GiB to train; this benchmark allows 64");
        return config;
    }
}
