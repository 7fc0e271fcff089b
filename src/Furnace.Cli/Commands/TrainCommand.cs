// `furnace train --config train.json`: runs the stages of a training config (TrainingRun) with a live progress line
// on stderr (step/total, loss, lr, tokens/s, ETA), validation losses and sample captions as they come, and Ctrl-C /
// SIGTERM stopping after the current step with a checkpoint (exit 130 / 143; rerun with --resume to continue).
// Under mpirun (`mpirun -np N furnace train ...`) the run is data-parallel over the N ranks (docs/distributed.md);
// rank 0 prints and writes, a failed rank ends the job.
using System.CommandLine;
using Furnace.Distributed;
using System.Globalization;
using Furnace.Training;

namespace Furnace.Cli.Commands;

internal static class TrainCommand
{
    public const int ExitInterrupted = InterruptSignals.ExitInterrupted;

    public static Command Create()
    {
        var config = new Option<string?>("--config", "-c") { Description = "The training config (JSON; see docs/training.md)" };
        var recipe = new Option<string?>("--recipe") { Description = "A built-in recipe instead of --config: 'default' builds the data, trains the tokenizer and the shipped captioner (docs/training.md)" };
        var data = new Option<string?>("--data") { Description = "With --recipe: the datasets folder (built there when missing; default data/)" };
        var output = new Option<string?>("--out", "-o") { Description = "Output folder (overrides \"out\")" };
        var steps = new Option<int?>("--steps") { Description = "Steps of every stage (overrides each stage's \"steps\"; e.g. a quick smoke test)" };
        var lr = new Option<double?>("--lr") { Description = "Learning rate of every stage and group (overrides \"lr\" and the stages' own)" };
        var batch = new Option<int?>("--batch") { Description = "Samples per micro-batch (overrides \"batch\")" };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of shuffling, initialisation and dropout (overrides \"seed\")" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out: skip finished stages, resume the current one from its latest checkpoint" };
        var threads = new Option<int?>("--threads", "-t") { Description = "CPU threads (default: the config's \"threads\", else all cores)" };
        var logScale = new Option<bool>("--loss-log-scale") { Description = "Draw loss.png with a logarithmic loss axis" };
        var cmd = new Command("train", "Train a vision-language model: projector alignment, then LoRA or full fine-tuning (LLaVA's two stages); a stage with \"objective\": \"contrastive\" " +
            "instead trains a CLIP-style image/text projector pair, and data.augment turns on random crops and flips.\n\n" +
            "Writes OUT/config.json and, per stage, OUT/STAGE/{metrics.jsonl, loss.png, checkpoints/, model/ (HF LLaVA directory), projector.safetensors, adapter/} " +
            "(a contrastive stage: contrastive_projectors.safetensors).\n\n" +
            "Examples:\n  furnace train --config train.json\n  furnace train --recipe default --out runs/default --data data/\n  furnace train --config train.json --out runs/try1 --steps 20\n  furnace train --config train.json --out runs/try1 --resume")
        {
            config, recipe, data, output, steps, lr, batch, seed, resume, threads, logScale,
        };
        cmd.SetAction(r => DistributedCli.Run(comm =>
        {
            if (r.GetValue(recipe) is { } name)
            {
                if (comm.Size > 1) throw new FurnaceException("--recipe builds data and a tokenizer on one process; run it without mpirun (a --config run can use mpirun)");
                if (r.GetValue(config) != null) throw new FurnaceException("give either --config or --recipe");
                if (r.GetValue(lr) != null || r.GetValue(batch) != null)
                    throw new FurnaceException("--recipe runs its own settings; --lr and --batch go with --config");
                if (r.GetValue(logScale)) throw new FurnaceException("--loss-log-scale goes with --config");
                return RecipeRun.Run(name, r.GetValue(data) ?? "data", r.GetValue(output) ?? Path.Combine("runs", name), r.GetValue(seed), r.GetValue(threads), r.GetValue(resume), r.GetValue(steps));
            }
            if (r.GetValue(config) == null) throw new FurnaceException("--config (a train.json) or --recipe default is required");
            if (r.GetValue(data) != null) throw new FurnaceException("--data goes with --recipe; a config names its data");
            var overrides = new TrainConfig.Overrides(r.GetValue(output), r.GetValue(steps), r.GetValue(lr), r.GetValue(batch), r.GetValue(seed), r.GetValue(threads));
            var cfg = TrainConfig.Load(r.GetValue(config)!, overrides);
            return Run(cfg, r.GetValue(resume), lossLogScale: r.GetValue(logScale), comm: comm);
        }));
        return cmd;
    }

    public static int Run(TrainConfig cfg, bool resume, long featureCacheBytes = 1L << 30, bool lossLogScale = false, ICommunicator? comm = null)
    {
        comm ??= SingleProcess.Instance;
        var run = new TrainingRun(cfg, resume, VlmCli.OpenEncoder) { FeatureCacheBytes = featureCacheBytes, LossPlotLogScale = lossLogScale, Communicator = comm };
        using var signals = new InterruptSignals();
        if (FaultInjection.FromEnvironment() is { } fault)
            run.StageStarted += (_, trainer) => trainer.StepCompleted += m => fault.AfterStep(comm.Rank, m.Step);
        if (comm.Rank != 0)
        {
            // the other ranks of an MPI job train silently; rank 0 reports
            try
            {
                run.Run(signals.Token);
                return 0;
            }
            catch (OperationCanceledException) when (signals.Interrupted)
            {
                return signals.ExitCode;
            }
        }
        if (comm.Size > 1) Console.Error.WriteLine($"data-parallel over {comm.Size} MPI ranks (global batch split across them)");
        ProgressLine? progress = null;
        run.Message += ProgressLine.Message;
        // a terminal shows a bar per stage and, for several stages, one over all of them
        int allSteps = cfg.Stages.Sum(s => s.Steps);
        ProgressLine? overall = null;
        run.StageStarted += (stage, trainer) =>
        {
            int before = cfg.Stages.TakeWhile(s => !ReferenceEquals(s, stage)).Sum(s => s.Steps);
            if (ProgressBars.Terminal && cfg.Stages.Count > 1)
                overall = new ProgressLine(allSteps, before + trainer.Step, "steps", "all stages");
            progress = new ProgressLine(stage.Steps, trainer.Step, "steps", $"stage {stage.Name}");
            trainer.StepCompleted += m =>
            {
                overall?.Report(before + m.Step);
                progress.Report(m.Step, string.Create(CultureInfo.InvariantCulture,
                    $"{stage.Name} loss {m.Loss:F4}, lr {m.LearningRate:0.0e0}, {m.TokensPerSecond:F0} tok/s"));
            };
        };
        run.Validated += (stage, v) =>
        {
            ProgressLine.Message(string.Create(CultureInfo.InvariantCulture, $"{stage.Name} step {v.Step}: validation loss {v.Loss:F4} ({v.Samples} samples)"));
        };
        run.SampleCaption += (stage, step, image, caption) =>
        {
            ProgressLine.Message($"{stage.Name} step {step}: {Path.GetFileName(image)}: {caption}");
        };

        try
        {
            var summaries = run.Run(signals.Token);
            progress?.Break();
            foreach (var s in summaries)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{s.Name}: {s.Steps} steps, loss {s.FinalLoss:F4}{(s.FinalValLoss is double v ? $", validation loss {v:F4}" : "")} -> {s.Model ?? s.Projector ?? s.Projectors}{(s.Adapter != null ? " + " + s.Adapter : "")}"));
            return 0;
        }
        catch (OperationCanceledException) when (signals.Interrupted)
        {
            progress?.Break();
            Console.Error.WriteLine($"furnace: interrupted; the last completed step is checkpointed in {cfg.Out}; run the same command with --resume to continue");
            return signals.ExitCode;
        }
        catch (RankFailureException e)
        {
            progress?.Break();
            throw new RankFailureException($"{e.Message}; the last complete checkpoint in {cfg.Out} stays valid: rerun the same command with --resume (any number of ranks) to continue");
        }
    }
}
