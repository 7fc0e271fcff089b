// `furnace train --recipe default`: DefaultRecipe's preparation (datasets, samples, tokenizer, initial model), its
// training run (stage 1 joint, stage 2 LoRA) through the same path as `furnace train --config` (progress, Ctrl-C,
// --resume), then the model directories. Timings of each step go to stderr and OUT/timings.json.
using System.Diagnostics;
using System.Globalization;
using Furnace.Training;
using Furnace.Training.Recipes;

namespace Furnace.Cli.Commands;

internal static class RecipeRun
{
    public static int Run(string name, string data, string output, ulong? seed, int? threads, bool resume, int? steps = null)
    {
        if (name != DefaultRecipe.Name) throw new FurnaceException($"--recipe '{name}' is not known (default)");
        var recipe = new DefaultRecipe
        {
            DataDir = Path.GetFullPath(data),
            Out = Path.GetFullPath(output),
            Seed = seed ?? 7,
            Threads = threads ?? 0,
        };
        if (!resume && Directory.Exists(recipe.RunDir))
            throw new FurnaceException($"{output}: already holds a recipe run; pass --resume to continue it, or another --out");
        var times = new List<(string, double)>();
        var clock = Stopwatch.StartNew();
        void Lap(string step)
        {
            times.Add((step, clock.Elapsed.TotalSeconds));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"recipe: {step} took {clock.Elapsed.TotalSeconds:F0} s"));
            clock.Restart();
        }
        ProgressLine? progress = null;
        string config = recipe.Prepare(ProgressLine.Message, (done, total) => (progress ??= new ProgressLine(total, 0, "images")).Report(done));
        progress?.Break();
        Lap("data, tokenizer and initial model");
        // --steps N: every stage runs N steps (a smoke test of the whole recipe)
        var overrides = new TrainConfig.Overrides(Steps: steps, Seed: seed, Threads: threads);
        int rc = TrainCommand.Run(TrainConfig.Load(config, overrides), resume, featureCacheBytes: 6L << 30);
        if (rc != 0) return rc;
        Lap("stages joint + lora");
        var (model, noLora) = recipe.Finish();
        Console.WriteLine($"recipe: model {model}; without the LoRA stage {noLora}; held-out eval set {recipe.EvalJsonl}");
        System.IO.File.WriteAllText(Path.Combine(recipe.Out, "timings.json"),
            "{" + string.Join(", ", times.Select(t => string.Create(CultureInfo.InvariantCulture, $"\"{t.Item1}\": {t.Item2:F1}"))) + "}\n");
        return 0;
    }
}
