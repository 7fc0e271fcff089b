// Training step, Furnace vs PyTorch, same shape, same machine, one run, engines alternating process by process:
//   Furnace.Bench.Training compare [--shapes dim256,dim512] [--modes full,lora] [--threads 2] [--steps 3] [--rounds 2]
//       [--idle-wait 60] [--furnace PATH] [--python /usr/bin/python3] [--jsonl FILE]
// Per shape and mode, each round runs `furnace bench train --json` (f32; Furnace has no bf16 mixed precision yet),
// then bench/torch_train_step.py --precision f32, then --precision bf16 (torch.autocast), each a fresh process
// with its own warm-up steps and the Reps method (idle gate, disturbed steps redone). The PyTorch processes get
// FURNACE_TORCH_ENV (bench/torch-env.sh: OpenBLAS SkylakeX first on LD_LIBRARY_PATH, malloc tunables). Prints a
// markdown table of medians over every timed step of an engine; every child's JSON line goes to --jsonl.
using System.Globalization;
using System.Text.Json;

internal static class TrainCompare
{
    public static int Run(string[] args)
    {
        string Arg(string name, string def)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : def;
        }
        string root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
        string furnace = Arg("--furnace", Path.Combine(root, "src", "Furnace.Cli", "bin", "Release", "net10.0", "furnace"));
        string python = Arg("--python", "/usr/bin/python3");
        string script = Path.Combine(root, "bench", "torch_train_step.py");
        string? jsonl = args.Contains("--jsonl") ? Arg("--jsonl", "") : null;
        string threads = Arg("--threads", "2"), steps = Arg("--steps", "3"), idle = Arg("--idle-wait", "60");
        int rounds = int.Parse(Arg("--rounds", "2"), CultureInfo.InvariantCulture);
        var torchEnv = ChildJson.Environment(Environment.GetEnvironmentVariable("FURNACE_TORCH_ENV"));
        if (torchEnv.Count == 0) Console.Error.WriteLine("FURNACE_TORCH_ENV is not set: PyTorch runs on the system BLAS (use bench/run-train.sh)");

        var rows = new List<string>();
        var notes = new List<string>();
        foreach (string shape in Arg("--shapes", "dim256,dim512").Split(','))
        foreach (string mode in Arg("--modes", "full,lora").Split(','))
        {
            string[] common = [.. TrainShapes.Arguments(shape), "--threads", threads, "--steps", steps, "--idle-wait", idle, "--json", .. mode == "lora" ? new[] { "--lora", "16" } : []];
            var ours = new List<JsonElement>();
            var f32 = new List<JsonElement>();
            var bf16 = new List<JsonElement>();
            for (int r = 0; r < rounds; r++)
            {
                var tags = new Dictionary<string, object> { ["bench"] = "train", ["shape"] = shape, ["round"] = r + 1 };
                void Add(List<JsonElement> into, JsonElement? run)
                {
                    if (run is not { } e) return;
                    into.Add(e);
                    ChildJson.Append(jsonl, e, tags);
                }
                Add(ours, ChildJson.Run(furnace, ["bench", "train", .. common]));
                Add(f32, ChildJson.Run(python, [script, .. common, "--precision", "f32"], torchEnv));
                Add(bf16, ChildJson.Run(python, [script, .. common, "--precision", "bf16"], torchEnv));
                Console.Error.WriteLine($"{shape} {mode} round {r + 1}: furnace {ChildJson.F(ChildJson.Median(ours, "ms_per_step"))} ms, " +
                    $"pytorch f32 {ChildJson.F(ChildJson.Median(f32, "ms_per_step"))} ms, bf16 {ChildJson.F(ChildJson.Median(bf16, "ms_per_step"))} ms (medians so far)");
            }
            // the two engines must train the same model: same trained parameter count and FLOPs per step
            foreach (JsonElement t in f32.Concat(bf16).Take(1))
            foreach (JsonElement o in ours.Take(1))
            foreach (string key in new[] { "trained_parameters", "gflop_per_step" })
            {
                if (t.GetProperty(key).GetDouble() != o.GetProperty(key).GetDouble())
                    notes.Add($"{shape} {mode}: {key} differs (furnace {o.GetProperty(key)}, pytorch {t.GetProperty(key)}): not the same model");
            }
            double mo = ChildJson.Median(ours, "ms_per_step"), mf = ChildJson.Median(f32, "ms_per_step"), mb = ChildJson.Median(bf16, "ms_per_step");
            var (c, seq, batch) = TrainShapes.Get(shape);
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {shape} (dim {c.Dim}, {c.Layers} layers, {batch}×{seq}) | {mode} | {ChildJson.F(mo)} | {ChildJson.F(mf)} | **{ChildJson.F(mf / mo, "F2")}** | {ChildJson.F(mb)} | **{ChildJson.F(mb / mo, "F2")}** | " +
                $"{ChildJson.F(ChildJson.Median(ours, "gflops"))} | {ChildJson.F(ChildJson.Median(f32, "gflops"))} | {ChildJson.F(ChildJson.Median(bf16, "gflops"))} | {ChildJson.F(ChildJson.WorstShare([.. ours, .. f32, .. bf16]))} |"));
        }
        string torch = ChildJson.Run(python, ["-c", "import json, torch; print(json.dumps({'v': torch.__version__}))"])?.GetProperty("v").GetString() ?? "?";
        Console.WriteLine($"threads {threads}; {rounds} alternating processes per engine, each 2 untimed + {steps} timed steps, medians; PyTorch {torch} " +
            $"({(torchEnv.Count > 0 ? "OpenBLAS SkylakeX" : "system BLAS")}); {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end");
        Console.WriteLine();
        Console.WriteLine("| shape | mode | Furnace f32 ms/step | PyTorch f32 ms/step | speed ratio (PyTorch ms / Furnace ms) | PyTorch bf16 autocast ms/step | speed ratio vs bf16 | GFLOP/s Furnace | PyTorch f32 | PyTorch bf16 | others' CPU % (worst rep) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (string row in rows) Console.WriteLine(row);
        foreach (string n in notes) Console.WriteLine($"\n- {n}");
        return notes.Count == 0 ? 0 : 1;
    }
}
