// The training loop, model-agnostic: it sees parameter groups (Tensor.Data, Grad, Name), an objective that turns a
// batch into a loss on the tape, and a batch source. Each optimiser step reads:
//   for N micro-batches: forward → loss → backward (loss / N)
//   clip the global gradient norm → AdamW step at the scheduled lr → zero the gradients → report
// then, every K steps, a validation pass and a checkpoint. Everything a resume needs — weights, AdamW moments and
// step counts, the random generator, the data position, the step — goes into the checkpoint, so a resumed run
// reproduces the uninterrupted run's losses bit for bit.
// Data-parallel (Communicator.Size > 1, under mpirun): the batch source hands each rank its share of every global
// batch; a rank's micro-batch loss is weighted by its share of the global batch's tokens (samples when nothing is
// token-scored), so the summed gradient is the gradient of the global batch's mean loss; the gradients are summed
// across ranks in buckets (GradientSync) before clipping and AdamW, so every rank takes the same step. Validation
// batches are dealt out round-robin and their losses gathered and added in batch order; only rank 0 writes
// checkpoints. A stop request (Ctrl-C) is agreed on by all ranks at the end of a step.
using System.Diagnostics;
using Furnace.Distributed;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;

namespace Furnace.Training;

public sealed class Trainer<TBatch>
{
    private readonly ITrainingObjective<TBatch> _objective;
    private readonly IBatchSource<TBatch> _train;
    private readonly IEnumerable<TBatch>? _validation;
    private double _elapsedBefore;
    private long _samples, _tokens;
    private int _savedStep = -1;
    private readonly double[] _counts = new double[2];
    private readonly double[] _stepTotals = new double[2];
    private GradientSync? _sync;

    public Trainer(IReadOnlyList<ParameterGroup> groups, ITrainingObjective<TBatch> objective, IBatchSource<TBatch> train,
        TrainerOptions options, KernelContext context, TrainingRandom random, IEnumerable<TBatch>? validation = null)
    {
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(train);
        Options = options.Validated();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in groups.SelectMany(g => g.Parameters))
        {
            if (string.IsNullOrEmpty(p.Name)) throw new ArgumentException($"parameter {p} has no name (checkpoints key weights by Tensor.Name)");
            if (!names.Add(p.Name)) throw new ArgumentException($"two parameters are named '{p.Name}'");
        }
        Optimizer = new AdamW(groups, options.Beta1, options.Beta2, options.Eps);
        _objective = objective;
        _train = train;
        _validation = validation;
        Tape = new Tape(context);
        Random = random;
    }

    public TrainerOptions Options { get; }

    public AdamW Optimizer { get; }

    public Tape Tape { get; }

    public TrainingRandom Random { get; }

    /// <summary>Optimiser steps done (the next step's schedule index).</summary>
    public int Step { get; private set; }

    /// <summary>The ranks this trainer runs on (SingleProcess by default). Give every rank the same model, options
    /// and a batch source sharded for its rank.</summary>
    public ICommunicator Communicator { get; init; } = SingleProcess.Instance;

    /// <summary>Where to checkpoint; null = no checkpoints. Under MPI only rank 0 writes (every rank reads on resume).</summary>
    public CheckpointStore? Checkpoints { get; init; }

    /// <summary>Stored as config.json in every checkpoint.</summary>
    public string? ConfigJson { get; init; }

    /// <summary>Called with a checkpoint's (temporary) directory after the trainer's own files, to add more.</summary>
    public Action<string>? WriteExtraCheckpointFiles { get; init; }

    public event Action<StepMetrics>? StepCompleted;

    public event Action<ValidationMetrics>? Validated;

    /// <summary>A checkpoint directory became the latest.</summary>
    public event Action<string>? CheckpointSaved;

    /// <summary>Runs steps until Options.Steps. On cancellation, checkpoints the last completed step, then throws.</summary>
    public void Run(CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        double Elapsed() => _elapsedBefore + clock.Elapsed.TotalSeconds;
        Tensor[] trainable = Optimizer.TrainableParameters.ToArray();
        float scale = 1f / Options.Accumulation;
        bool parallel = Communicator.Size > 1;
        try
        {
            while (Step < Options.Steps)
            {
                if (!parallel) cancel.ThrowIfCancellationRequested(); // ranks agree on stopping at the end of a step instead
                StepMetrics metrics = OneStep(trainable, scale, Elapsed, cancel);
                StepCompleted?.Invoke(metrics);

                bool last = Step == Options.Steps;
                if (_validation != null && ((Options.ValidateEvery > 0 && Step % Options.ValidateEvery == 0) || last))
                    Validated?.Invoke(Validate(Elapsed()));
                if (Checkpoints != null && ((Options.CheckpointEvery > 0 && Step % Options.CheckpointEvery == 0) || last))
                    SaveCheckpoint(Elapsed());
                // every rank stops after the same step when any of them was asked to
                if (parallel && _stepTotals[1] > 0 && !last) throw new OperationCanceledException(cancel);
            }
        }
        catch (OperationCanceledException)
        {
            if (Checkpoints != null && Step > 0 && _savedStep != Step) SaveCheckpoint(Elapsed());
            if (Communicator.Size > 1) Communicator.Barrier("stop after an interrupt"); // rank 0's checkpoint is complete before anyone exits
            throw;
        }
    }

    /// <summary>
    /// One optimiser step outside Run (what `furnace bench train` times): the micro-batches' forward and backward,
    /// clipping, the AdamW step, zeroing; no validation, checkpoint or StepCompleted event. ElapsedSeconds in the
    /// result counts only the time restored from a checkpoint.
    /// </summary>
    public StepMetrics TrainStep() => OneStep(Optimizer.TrainableParameters.ToArray(), 1f / Options.Accumulation, () => _elapsedBefore);

    // forward → loss → backward for each micro-batch, clip, AdamW, zero: the body of every step
    private StepMetrics OneStep(Tensor[] trainable, float scale, Func<double> elapsed, CancellationToken cancel = default)
    {
        bool parallel = Communicator.Size > 1;
        long started = Stopwatch.GetTimestamp();
        double loss = 0;
        int samples = 0, tokens = 0;
        for (int micro = 0; micro < Options.Accumulation; micro++)
        {
            TBatch batch = _train.Next();
            if (!parallel)
            {
                Tensor microLoss = _objective.Loss(Tape, batch);           // forward → loss
                loss += microLoss.Data[0];
                var counts = _objective.Count(batch);
                samples += counts.Samples;
                tokens += counts.Tokens;
                _objective.Backward(Tape, microLoss, scale);               // backward of loss / N
                continue;
            }
            // this rank's share of the global micro-batch (possibly empty): its weight in the global mean
            var mine = _objective.Count(batch);
            _counts[0] = mine.Samples;
            _counts[1] = mine.Tokens;
            Communicator.SumInPlace(_counts, "micro-batch size sum");
            samples += (int)_counts[0];
            tokens += (int)_counts[1];
            bool byTokens = _counts[1] > 0;
            double share = (byTokens ? mine.Tokens : mine.Samples) / Math.Max(byTokens ? _counts[1] : _counts[0], 1);
            if (mine.Samples == 0) continue;
            Tensor shardLoss = _objective.Loss(Tape, batch);
            loss += shardLoss.Data[0] * share;
            _objective.Backward(Tape, shardLoss, (float)(scale * share));
        }
        loss /= Options.Accumulation;
        if (parallel)
        {
            _stepTotals[0] = loss;
            _stepTotals[1] = cancel.IsCancellationRequested ? 1 : 0;
            Communicator.SumInPlace(_stepTotals, "step loss sum");
            loss = _stepTotals[0];
            (_sync ??= new GradientSync(Communicator, trainable)).Sum();
        }

        double norm = Options.ClipNorm is { } max                          // clip
            ? GradientClipping.ClipByGlobalNorm(trainable, max)
            : GradientClipping.GlobalNorm(trainable);
        double lrScale = Options.Schedule.Multiplier(Step);
        bool finite = double.IsFinite(loss) && double.IsFinite(norm);
        if (!finite && Options.StopOnNonFinite)
            throw new FurnaceException($"step {Step + 1}: the loss ({loss}) or the gradient norm ({norm}) is not finite; lower the learning rate or check the data");
        if (finite) Optimizer.Step(lrScale);                                // step
        Optimizer.ZeroGrad();                                               // zero
        Step++;
        _samples += samples;
        _tokens += tokens;

        double seconds = Math.Max(Stopwatch.GetElapsedTime(started).TotalSeconds, 1e-9);
        var position = _train.Position;
        return new StepMetrics(Step, Options.Steps, loss, FirstLearningRate(lrScale), norm, samples, tokens,
            samples / seconds, tokens / seconds, elapsed(), position.Epoch + (double)position.Index / _train.EpochSize, !finite);
    }

    /// <summary>The loss over the validation batches, with the tape off (nothing is recorded, no gradient).</summary>
    public ValidationMetrics Validate(double elapsedSeconds = 0)
    {
        if (_validation == null) throw new InvalidOperationException("this trainer has no validation data");
        double weighted = 0, weight = 0;
        int samples = 0, tokens = 0;
        bool enabled = Tape.Enabled;
        Tape.Enabled = false;
        var parts = new List<double>();   // (index, loss, samples, tokens) of this rank's batches
        try
        {
            int index = 0;
            foreach (TBatch batch in _validation)
            {
                if (index++ % Communicator.Size != Communicator.Rank) continue;
                double loss = _objective.Loss(Tape, batch).Data[0];
                var counts = _objective.Count(batch);
                parts.AddRange([index - 1, loss, counts.Samples, counts.Tokens]);
            }
        }
        finally
        {
            Tape.Enabled = enabled;
        }
        // every batch's loss, added in batch order whichever rank computed it: the single-process sum
        var all = new List<double[]>();
        if (Communicator.Size == 1) all.Add(parts.ToArray());
        else
            foreach (byte[] b in Communicator.AllGather(System.Runtime.InteropServices.MemoryMarshal.AsBytes(parts.ToArray().AsSpan()).ToArray(), "validation loss gather"))
                all.Add(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(b).ToArray());
        foreach (var (_, loss, s, t) in all.SelectMany(a => Enumerable.Range(0, a.Length / 4).Select(k => (a[4 * k], a[4 * k + 1], a[4 * k + 2], a[4 * k + 3]))).OrderBy(x => x.Item1))
        {
            double w = t > 0 ? t : Math.Max(1, s);
            weighted += loss * w;
            weight += w;
            samples += (int)s;
            tokens += (int)t;
        }
        return new ValidationMetrics(Step, weight > 0 ? weighted / weight : double.NaN, samples, tokens, elapsedSeconds);
    }

    /// <summary>Writes a checkpoint of the current step and makes it the latest; returns its directory (under MPI rank 0
    /// writes it, the other ranks only note the step).</summary>
    public string SaveCheckpoint(double elapsedSeconds)
    {
        var store = Checkpoints ?? throw new InvalidOperationException("this trainer has no checkpoint store");
        if (Communicator.Rank != 0)
        {
            _savedStep = Step;
            return store.Directory;
        }
        var position = _train.Position;
        var state = new CheckpointStateJson
        {
            Step = Step,
            ElapsedSeconds = elapsedSeconds,
            Samples = _samples,
            Tokens = _tokens,
            Random = Random.GetState(),
            Data = position,
            Beta1 = Optimizer.Beta1,
            Beta2 = Optimizer.Beta2,
            Eps = Optimizer.Eps,
            OptimizerSteps = Optimizer.States.ToDictionary(s => s.Parameter.Name!, s => s.Step, StringComparer.Ordinal),
            FrozenGroups = Optimizer.Groups.Where(g => Optimizer.IsFrozen(g.Name)).Select(g => g.Name).ToArray(),
        };
        string dir = store.Save(Step, tmp =>
        {
            TrainingCheckpoint.Write(tmp, state, Optimizer, ConfigJson);
            WriteExtraCheckpointFiles?.Invoke(tmp);
        });
        _savedStep = Step;
        CheckpointSaved?.Invoke(dir);
        return dir;
    }

    /// <summary>Resumes from the store's latest checkpoint, if there is one; returns it (null = fresh start).</summary>
    public TrainingCheckpoint? ResumeLatest()
    {
        if (Checkpoints?.Latest() is not { } dir) return null;
        var checkpoint = TrainingCheckpoint.Load(dir);
        Restore(checkpoint);
        return checkpoint;
    }

    /// <summary>Puts weights, optimiser state, random state, data position and counters back as the checkpoint has them.</summary>
    public void Restore(TrainingCheckpoint checkpoint)
    {
        var st = checkpoint.State;
        if (st.Step > Options.Steps)
            throw new FurnaceException($"{checkpoint.Directory}: checkpoint is at step {st.Step}, past this run's {Options.Steps} steps");
        foreach (var s in Optimizer.States)
        {
            string name = s.Parameter.Name!;
            Copy(checkpoint, checkpoint.Weights, name, s.Parameter.Shape, s.Parameter.Data, TrainingCheckpoint.WeightsFile);
            Copy(checkpoint, checkpoint.Optimizer, name + TrainingCheckpoint.ExpAvgSuffix, s.Parameter.Shape, s.ExpAvg, TrainingCheckpoint.OptimizerFile);
            Copy(checkpoint, checkpoint.Optimizer, name + TrainingCheckpoint.ExpAvgSqSuffix, s.Parameter.Shape, s.ExpAvgSq, TrainingCheckpoint.OptimizerFile);
            s.Step = st.OptimizerSteps.TryGetValue(name, out long n) ? n
                : throw new FurnaceException($"{checkpoint.Directory}: {TrainingCheckpoint.StateFile} has no optimizer step count for '{name}'");
        }
        foreach (var g in Optimizer.Groups) Optimizer.Freeze(g.Name, st.FrozenGroups.Contains(g.Name));
        Random.SetState(st.Random);
        _train.Seek(checkpoint.Data);
        Step = st.Step;
        _elapsedBefore = st.ElapsedSeconds;
        _samples = st.Samples;
        _tokens = st.Tokens;
        _savedStep = st.Step;
    }

    private static void Copy(TrainingCheckpoint c, IReadOnlyDictionary<string, (long[] Shape, float[] Values)> from, string name, int[] shape, float[] to, string file)
    {
        if (!from.TryGetValue(name, out var t))
            throw new FurnaceException($"{Path.Combine(c.Directory, file)}: no tensor '{name}' (was the checkpoint written by another model or stage?)");
        if (!t.Shape.SequenceEqual(shape.Select(d => (long)d)))
            throw new FurnaceException($"{Path.Combine(c.Directory, file)}: tensor '{name}' has shape [{string.Join(", ", t.Shape)}], the model's is [{string.Join(", ", shape)}]");
        t.Values.CopyTo(to, 0);
    }

    private double FirstLearningRate(double scale)
    {
        foreach (var g in Optimizer.Groups)
            if (!Optimizer.IsFrozen(g.Name)) return g.LearningRate * scale;
        return 0;
    }
}
