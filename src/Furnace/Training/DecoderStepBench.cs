// One training step of a Llama-style decoder with seeded random weights on seeded random tokens, through the real
// training loop (Trainer.TrainStep: forward, next-token loss on every position, backward, global-norm clip at 1,
// AdamW at a constant learning rate, zeroing): what `furnace bench train` and bench/Furnace.Bench.Training time.
// The weights are written as a Hugging Face directory in a temporary folder (deleted on Dispose) and loaded the way
// `furnace train` loads a checkpoint; full fine-tuning trains float32 copies of every weight, LoRA (rank R, alpha 2R,
// every linear of the decoder) trains the adapters over the frozen base.
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;
using Furnace.Training.Losses;

namespace Furnace.Training;

public sealed class DecoderStepBench : IDisposable
{
    private readonly string _dir;
    private readonly LlamaModel _model;
    private readonly Trainer<IReadOnlyList<int[]>> _trainer;

    private DecoderStepBench(string dir, LlamaModel model, Trainer<IReadOnlyList<int[]>> trainer, LlamaConfig config, int batch, int seq, long trained, long lora)
    {
        _dir = dir;
        _model = model;
        _trainer = trainer;
        Config = config;
        Batch = batch;
        Seq = seq;
        TrainedParameters = trained;
        FlopsPerStep = LlamaTrainingFlops.Step(config, batch, seq, lora);
    }

    public LlamaConfig Config { get; }

    public int Batch { get; }

    public int Seq { get; }

    public int TokensPerStep => Batch * Seq;

    /// <summary>Parameters the optimizer updates (every weight for full training, the adapters for LoRA).</summary>
    public long TrainedParameters { get; }

    /// <summary>LlamaTrainingFlops.Step of this shape.</summary>
    public double FlopsPerStep { get; }

    /// <summary>Writes and loads the random model and builds the trainer; loraRank 0 = full fine-tuning.</summary>
    public static DecoderStepBench Create(LlamaConfig config, int batch, int seq, int loraRank, KernelContext ctx, int seed = 1)
    {
        config = config.Validated("bench model");
        if (batch < 1) throw new FurnaceException($"batch {batch} must be at least 1");
        if (seq < 2) throw new FurnaceException($"sequence length {seq} must be at least 2 (next-token targets)");
        if (seq > config.MaxPositions) throw new FurnaceException($"sequence length {seq} exceeds the model's context of {config.MaxPositions}");
        if (loraRank < 0) throw new FurnaceException($"LoRA rank {loraRank} must be 0 (full training) or more");
        string dir = Path.Combine(Path.GetTempPath(), $"furnace-bench-train-{Environment.ProcessId}-{Guid.NewGuid():N}");
        LlamaModel? model = null;
        try
        {
            RandomLlama.WriteHuggingFace(dir, config, DType.F32, seed);
            model = ModelLoader.OpenHuggingFace(dir);
            LlamaTrainable lm;
            IReadOnlyList<Tensor> trained;
            long lora = 0;
            if (loraRank == 0)
            {
                lm = LlamaTrainable.Create(model, LlamaTraining.Full);
                trained = lm.Parameters;
            }
            else
            {
                var adapter = LoraAdapter.Create(new LoraConfig { Rank = loraRank, Alpha = 2 * loraRank, Targets = LoraTargets.AllLinear }, config, seed);
                lm = LlamaTrainable.WithLora(model, adapter);
                trained = lm.LoraParameters;
                lora = adapter.ParameterCount;
            }

            var rng = new Random(seed + 2);
            var sequences = Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, seq).Select(_ => rng.Next(config.VocabSize)).ToArray()).ToArray();
            var objective = new DelegateObjective<IReadOnlyList<int[]>>(
                (tape, b) => NextTokenLoss.Compute(tape, lm, lm.Hidden(tape, lm.Embed(tape, Concat(b)), b.Count, seq), Targets(b)),
                b => new BatchCounts(b.Count, b.Count * seq));
            var groups = new[] { new ParameterGroup(loraRank == 0 ? "full" : "lora", trained) { LearningRate = 1e-4f } };
            var trainer = new Trainer<IReadOnlyList<int[]>>(groups, objective, new ShuffledBatches<int[]>(sequences, batch, (ulong)seed, shuffle: false),
                new TrainerOptions { Steps = int.MaxValue }, ctx, new TrainingRandom((ulong)seed));
            return new DecoderStepBench(dir, model, trainer, config, batch, seq, trained.Sum(p => (long)p.Length), lora);
        }
        catch
        {
            model?.Dispose();
            TryDelete(dir);
            throw;
        }
    }

    /// <summary>One optimizer step; returns its loss.</summary>
    public double Step() => _trainer.TrainStep().Loss;

    public void Dispose()
    {
        _model.Dispose();
        TryDelete(_dir);
    }

    private static int[] Concat(IReadOnlyList<int[]> batch) => batch.SelectMany(s => s).ToArray();

    // next token of the same sequence, -100 (ignored) at each sequence's last position
    private static int[] Targets(IReadOnlyList<int[]> batch)
    {
        var targets = new int[batch.Sum(s => s.Length)];
        int k = 0;
        foreach (int[] s in batch)
        {
            for (int i = 0; i < s.Length; i++) targets[k++] = i + 1 < s.Length ? s[i + 1] : TrainingSample.IgnoreIndex;
        }
        return targets;
    }

    private static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
