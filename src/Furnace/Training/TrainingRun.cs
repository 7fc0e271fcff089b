// A whole `furnace train` run: the stages of a TrainConfig one after another (LLaVA's recipe: stage 1 aligns a fresh
// projector on a frozen decoder, stage 2 tunes projector + LoRA or the full LM), each one
//   load the model (the base, or the previous stage's output) → parameter groups → Trainer over the data loader
//   → metrics.jsonl, loss.png, sample captions, checkpoints → the trained model written out → stage.json
// Layout of OUT: config.json (effective config), and per stage OUT/<stage>/{metrics.jsonl, loss.png,
// checkpoints/, model/ (HF LLaVA directory, when the base is one), projector.safetensors, adapter/ (PEFT, when LoRA
// is trained), stage.json}; a contrastive stage writes contrastive_projectors.safetensors instead of a model and
// leaves the model the next stage starts from as it was. With resume, finished stages are skipped and the unfinished one continues from its
// latest checkpoint.
// Under MPI (Communicator.Size > 1) every rank runs the same stages on its share of each global batch (Trainer);
// rank 0 alone writes OUT (config, metrics, plots, checkpoints, outputs), which must be a folder every rank can read
// (one machine, or a shared file system): the other ranks load a stage's starting model and resume checkpoints from it.
// Sample captions are dealt out over the ranks and gathered. Contrastive stages and LoRA dropout run on one process only.
using Furnace.Data;
using Furnace.Distributed;
using Furnace.IO;
using Furnace.Models.Llama;
using Furnace.Models.Projectors;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Training;

public sealed class TrainingRun
{
    public const string StageFile = "stage.json";
    private readonly TrainConfig _config;
    private readonly bool _resume;
    private readonly Func<string, IVisionEncoder> _openEncoder;

    /// <param name="openEncoder">Opens the vision encoder of a composed model (CLIP directory or ONNX file).</param>
    public TrainingRun(TrainConfig config, bool resume, Func<string, IVisionEncoder> openEncoder)
    {
        _config = config;
        _resume = resume;
        _openEncoder = openEncoder;
        if (config.Llava == null)
            for (int i = 0; i < config.Stages.Count - 1; i++)
                if (config.Stages[i].Language != LlamaTraining.Frozen)
                    throw new FurnaceException($"{config.Source}: stages[{i}]: a composed model's decoder cannot be rewritten, so a stage that trains lora or lm must be the last one");
    }

    /// <summary>Status lines for people (the CLI prints them on stderr).</summary>
    public event Action<string>? Message;

    /// <summary>The trainer of a stage was made (the CLI hooks its progress line onto it).</summary>
    public event Action<TrainStage, Trainer<Data.TrainingBatch>>? StageStarted;

    public event Action<TrainStage, ValidationMetrics>? Validated;

    public event Action<TrainStage, int, string, string>? SampleCaption;

    /// <summary>Memory for frozen vision features, shared by the stages (each image is encoded once per run while it lasts).</summary>
    public long FeatureCacheBytes { get; init; } = 1L << 30;

    /// <summary>loss.png with a logarithmic loss axis.</summary>
    public bool LossPlotLogScale { get; init; }

    private FeatureStore? _features;

    /// <summary>The ranks of a data-parallel run (SingleProcess by default).</summary>
    public ICommunicator Communicator { get; init; } = SingleProcess.Instance;

    private bool Root => Communicator.Rank == 0;

    public IReadOnlyList<TrainStageSummaryJson> Run(CancellationToken cancel = default)
    {
        var c = _config;
        if (File.Exists(c.Out)) throw new FurnaceException($"{c.Out}: is a file; the run's output is a folder");
        if (!_resume)
            foreach (var s in c.Stages)
                if (File.Exists(Path.Combine(c.Out, s.Name, StageFile)) || File.Exists(Path.Combine(c.Out, s.Name, "checkpoints", CheckpointStore.LatestFile)))
                    throw new FurnaceException($"{c.Out}: already holds a run (stage '{s.Name}' has checkpoints or is finished); pass --resume to continue it, or another --out");
        if (Communicator.Size > 1)
        {
            foreach (var s in c.Stages)
            {
                if (s.Contrastive) throw new FurnaceException($"{c.Source}: stage '{s.Name}': a contrastive stage needs every pair of the batch in one process; it does not run under mpirun yet (run it on one process)");
                if (s.Lora is { Dropout: > 0 }) throw new FurnaceException($"{c.Source}: stage '{s.Name}': LoRA dropout does not run under mpirun yet (its masks would differ from one process's); set lora.dropout to 0 or run on one process");
            }
            Communicator.Barrier("start of the run"); // every rank has looked at OUT before rank 0 writes into it
        }
        if (Root)
        {
            Directory.CreateDirectory(c.Out);
            AtomicFile.Write(Path.Combine(c.Out, "config.json"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(c.ToJson())));
        }

        var (trainSet, valSet) = LoadData();
        Message?.Invoke($"data: {trainSet.Count} training samples ({trainSet.ImageCount} images) from {c.Train}; {valSet?.Count ?? 0} validation samples");

        string? llava = c.Llava, projector = c.Projector;
        var summaries = new List<TrainStageSummaryJson>();
        using var ctx = new KernelContext(c.Threads);
        for (int i = 0; i < c.Stages.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            TrainStage stage = c.Stages[i];
            string dir = Path.Combine(c.Out, stage.Name);
            string done = Path.Combine(dir, StageFile);
            TrainStageSummaryJson summary;
            if (File.Exists(done))
            {
                summary = JsonInput.Read(done, TrainingJsonContext.Default.TrainStageSummaryJson);
                Message?.Invoke($"stage {stage.Name}: finished earlier ({summary.Steps} steps), skipped");
            }
            else summary = RunStage(i, stage, dir, llava, projector, trainSet, valSet, ctx, cancel);
            summaries.Add(summary);
            if (stage.Contrastive) continue;
            if (llava != null) llava = summary.Model ?? throw new FurnaceException($"{done}: names no model directory (a linear projector cannot be written in the LLaVA layout; only mlp2x_gelu)");
            else projector = summary.Projector ?? throw new FurnaceException($"{done}: names no projector");
        }
        return summaries;
    }

    private (TrainingSet Train, TrainingSet? Val) LoadData()
    {
        var c = _config;
        var options = new TrainingSetOptions { ImageFolder = c.ImageFolder, Instruction = c.Instruction, Captions = c.Captions };
        var set = TrainingSet.Load(c.Train, options);
        TrainingSet? val = null;
        if (c.Val != null) val = TrainingSet.Load(c.Val, options);
        else if (c.ValSplit > 0)
        {
            var split = set.Split(c.ValSplit, c.Seed);
            (set, val) = (split.Train, split.Validation);
        }
        if (val != null && val.Count > c.EvalSamples) val = val.Subset(Enumerable.Range(0, c.EvalSamples).ToArray());
        return (set, val);
    }

    private TrainStageSummaryJson RunStage(int index, TrainStage stage, string dir, string? llava, string? projector,
        TrainingSet trainSet, TrainingSet? valSet, KernelContext ctx, CancellationToken cancel)
    {
        var c = _config;
        if (Root) Directory.CreateDirectory(dir);
        if (stage.Contrastive) return RunContrastiveStage(index, stage, dir, llava, projector, trainSet, valSet, ctx, cancel);
        var options = new LlavaTrainingOptions
        {
            Language = stage.Language,
            Lora = stage.Lora,
            TrainProjector = stage.TrainProjector,
            FreshProjector = stage.FreshProjector,
            ProjectorKind = c.ProjectorType,
            Seed = (int)(c.Seed & int.MaxValue),
        };
        using LlavaTrainable model = llava != null ? LlavaTrainable.Load(llava, options) : Compose(dir, projector, options);
        var groups = model.ParameterGroups(stage.ProjectorLr, stage.LoraLr, stage.LmLr, stage.WeightDecay);
        long parameters = groups.Sum(g => g.Parameters.Sum(p => (long)p.Length));
        Message?.Invoke($"stage {stage.Name}: training {stage.Parts} ({parameters:N0} parameters in {string.Join(", ", groups.Select(g => g.Name))}) for {stage.Steps} steps, batch {stage.Batch} x {stage.Accumulation}");

        var rng = StageRandom(c, index);
        _features ??= new FeatureStore(FeatureCacheBytes);
        var objective = new VlmObjective(model, ctx, stage.Lora is { Dropout: > 0 } ? rng : null, c.MaxLength, _features);
        using var batches = new LoaderBatches(trainSet, LoaderOptions(c, stage, model) with { ShardIndex = Communicator.Rank, ShardCount = Communicator.Size });
        List<Data.TrainingBatch>? validation = null;
        if (valSet != null)
        {
            validation = [];
            using var loader = new TrainingLoader(valSet, new TrainingLoaderOptions { BatchSize = stage.Batch, Shuffle = false, Prefetch = 0 });
            while (loader.TryNext(out var b)) validation.Add(b);
        }
        var trainer = new Trainer<Data.TrainingBatch>(groups, objective, batches, TrainerOptionsFor(c, stage), ctx, rng, validation)
        {
            Communicator = Communicator,
            Checkpoints = new CheckpointStore(Path.Combine(dir, "checkpoints"), c.Keep),
            ConfigJson = c.ToJson(),
            // a LoRA checkpoint also holds the adapter in PEFT's layout, loadable as it is
            WriteExtraCheckpointFiles = model.Adapter == null ? null : tmp => model.SaveAdapter(Path.Combine(tmp, "adapter")),
        };
        if (_resume && trainer.ResumeLatest() is { } resumed)
            Message?.Invoke($"stage {stage.Name}: resuming from {resumed.Directory} (step {resumed.State.Step} of {stage.Steps})");

        using var metrics = Root ? MetricsLog.Open(Path.Combine(dir, "metrics.jsonl"), trainer.Step) : null;
        string plot = Path.Combine(dir, "loss.png");
        string title = $"{stage.Name}: {stage.Parts}";
        var samples = valSet ?? trainSet;
        string[] sampleImages = Enumerable.Range(0, samples.Count).Select(samples.ImagePathOf).OfType<string>().Distinct().Take(c.SampleImages).ToArray();
        trainer.StepCompleted += m =>
        {
            metrics?.Append(m);
            if (c.SampleEvery > 0 && (m.Step % c.SampleEvery == 0 || m.Step == m.TotalSteps))
            {
                // image i is captioned by rank i mod N; rank 0 logs them all in order
                string[] captions = Communicator.Shard(sampleImages, image => objective.Caption(trainer.Tape, image, c.Instruction, c.SampleMaxTokens), "sample captions");
                if (Root)
                    for (int i = 0; i < sampleImages.Length; i++)
                    {
                        metrics!.AppendSample(m.Step, sampleImages[i], captions[i]);
                        SampleCaption?.Invoke(stage, m.Step, sampleImages[i], captions[i]);
                    }
            }
        };
        trainer.Validated += v =>
        {
            metrics?.Append(v);
            if (Root) Validated?.Invoke(stage, v);
        };
        if (metrics != null) trainer.CheckpointSaved += _ => LossCurvePlot.Write(plot, metrics.TrainLoss, metrics.ValidationLoss, title, metrics.LearningRate, LossPlotLogScale);
        StageStarted?.Invoke(stage, trainer);
        trainer.Run(cancel);
        if (metrics == null)
        {
            // rank 0 writes the outputs; the next stage (on every rank) starts from them
            Communicator.Barrier($"stage {stage.Name} outputs");
            return StageSummary(stage, dir, llava, model, trainer.Step, null, null);
        }
        LossCurvePlot.Write(plot, metrics.TrainLoss, metrics.ValidationLoss, title, metrics.LearningRate, LossPlotLogScale);

        // outputs: each written under a temporary name, then renamed
        var summary = StageSummary(stage, dir, llava, model, trainer.Step,
            metrics.TrainLoss.Count > 0 ? metrics.TrainLoss[^1].Loss : null, metrics.ValidationLoss.Count > 0 ? metrics.ValidationLoss[^1].Loss : null);
        model.SaveProjector(summary.Projector!);
        if (summary.Model != null) Replace(summary.Model, model.Export);
        if (summary.Adapter != null) Replace(summary.Adapter, model.SaveAdapter);
        AtomicFile.Write(Path.Combine(dir, StageFile), s => System.Text.Json.JsonSerializer.Serialize(s, summary, TrainingJsonContext.Default.TrainStageSummaryJson));
        if (Communicator.Size > 1) Communicator.Barrier($"stage {stage.Name} outputs");
        Message?.Invoke($"stage {stage.Name}: done; wrote {summary.Model ?? summary.Projector}{(summary.Adapter != null ? " and " + summary.Adapter : "")}");
        return summary;
    }

    // where a captioning stage's outputs go: projector.safetensors, model/ (an mlp2x_gelu projector on a LLaVA base)
    // and adapter/ (when LoRA is trained)
    private static TrainStageSummaryJson StageSummary(TrainStage stage, string dir, string? llava, LlavaTrainable model, int steps, double? loss, double? valLoss) => new()
    {
        Name = stage.Name,
        Steps = steps,
        FinalLoss = loss,
        FinalValLoss = valLoss,
        Model = llava != null && model.Projector.Kind == ProjectorKind.Mlp2xGelu ? Path.Combine(dir, "model") : null,
        Projector = Path.Combine(dir, "projector.safetensors"),
        Adapter = model.Adapter != null ? Path.Combine(dir, "adapter") : null,
    };

    // A contrastive stage: the LLaVA model frozen whole (vision tower and decoder embeddings are the two feature
    // extractors), a fresh linear image/text projector pair trained with InfoNCE; validation is one batch of the whole
    // validation split, so its retrieval accuracy ranks every validation caption for every validation image.
    private TrainStageSummaryJson RunContrastiveStage(int index, TrainStage stage, string dir, string? llava, string? projector,
        TrainingSet trainSet, TrainingSet? valSet, KernelContext ctx, CancellationToken cancel)
    {
        var c = _config;
        if (trainSet.Count < stage.Batch)
            throw new FurnaceException($"{c.Source}: stages[{index}].batch: {stage.Batch} is more than the {trainSet.Count} training samples (a contrastive stage drops the last, partial batch of each epoch)");
        var options = new LlavaTrainingOptions { Language = LlamaTraining.Frozen, TrainProjector = false, Seed = (int)(c.Seed & int.MaxValue) };
        using LlavaTrainable model = llava != null ? LlavaTrainable.Load(llava, options) : Compose(dir, projector, options);
        var pair = ContrastiveTraining.Initial(ProjectorKind.Linear, model.FeatureDim, model.Model.Decoder.Dim, stage.EmbedDim, options.Seed);
        var groups = pair.ParameterGroups(stage.ProjectorLr, stage.WeightDecay);
        long parameters = groups.Sum(g => g.Parameters.Sum(p => (long)p.Length));
        Message?.Invoke($"stage {stage.Name}: training {stage.Parts} ({parameters:N0} parameters, {model.FeatureDim} + {pair.Text.InDim} -> {stage.EmbedDim}) for {stage.Steps} steps, batch {stage.Batch} x {stage.Accumulation}");

        var rng = StageRandom(c, index);
        var objective = new ContrastiveObjective(model, pair, ctx);
        using var batches = new LoaderBatches(trainSet, LoaderOptions(c, stage, model) with { DropLast = true });
        List<Data.TrainingBatch>? validation = null;
        if (valSet is { Count: >= 2 })
        {
            using var loader = new TrainingLoader(valSet, new TrainingLoaderOptions { BatchSize = valSet.Count, Shuffle = false, Prefetch = 0 });
            validation = [.. loader.Batches()];
        }
        var trainer = new Trainer<Data.TrainingBatch>(groups, objective, batches, TrainerOptionsFor(c, stage), ctx, rng, validation)
        {
            Checkpoints = new CheckpointStore(Path.Combine(dir, "checkpoints"), c.Keep),
            ConfigJson = c.ToJson(),
        };
        if (_resume && trainer.ResumeLatest() is { } resumed)
            Message?.Invoke($"stage {stage.Name}: resuming from {resumed.Directory} (step {resumed.State.Step} of {stage.Steps})");

        using var metrics = MetricsLog.Open(Path.Combine(dir, "metrics.jsonl"), trainer.Step);
        string plot = Path.Combine(dir, "loss.png");
        string title = $"{stage.Name}: contrastive";
        trainer.StepCompleted += m =>
        {
            pair.AfterStep(); // CLIP clamps the log temperature after every step (before any checkpoint of it)
            metrics.Append(m);
            var (top1, retrievals) = objective.TakeAccuracy(validation: false);
            metrics.AppendRetrieval(m.Step, "train", top1, retrievals);
        };
        trainer.Validated += v =>
        {
            metrics.Append(v);
            var (top1, retrievals) = objective.TakeAccuracy(validation: true);
            metrics.AppendRetrieval(v.Step, "val", top1, retrievals);
            Message?.Invoke($"stage {stage.Name}: step {v.Step}: validation retrieval top-1 {top1:P1} over {retrievals / 2} pairs");
            Validated?.Invoke(stage, v);
        };
        trainer.CheckpointSaved += _ => LossCurvePlot.Write(plot, metrics.TrainLoss, metrics.ValidationLoss, title, metrics.LearningRate, LossPlotLogScale);
        StageStarted?.Invoke(stage, trainer);
        trainer.Run(cancel);
        LossCurvePlot.Write(plot, metrics.TrainLoss, metrics.ValidationLoss, title, metrics.LearningRate, LossPlotLogScale);

        string pairPath = Path.Combine(dir, "contrastive_projectors.safetensors");
        pair.Save(pairPath); // atomic (SafeTensorsWriter writes through AtomicFile)
        var summary = new TrainStageSummaryJson
        {
            Name = stage.Name,
            Steps = trainer.Step,
            FinalLoss = metrics.TrainLoss.Count > 0 ? metrics.TrainLoss[^1].Loss : null,
            FinalValLoss = metrics.ValidationLoss.Count > 0 ? metrics.ValidationLoss[^1].Loss : null,
            Projectors = pairPath,
        };
        AtomicFile.Write(Path.Combine(dir, StageFile), s => System.Text.Json.JsonSerializer.Serialize(s, summary, TrainingJsonContext.Default.TrainStageSummaryJson));
        Message?.Invoke($"stage {stage.Name}: done; wrote {pairPath}");
        return summary;
    }

    // the optimisation settings of one stage, the same for captioning and contrastive stages
    private static TrainerOptions TrainerOptionsFor(TrainConfig c, TrainStage stage) => new()
    {
        Steps = stage.Steps,
        Accumulation = stage.Accumulation,
        ClipNorm = stage.Clip,
        Schedule = new LearningRateSchedule(stage.Schedule, stage.WarmupSteps, stage.Steps, stage.MinLrRatio),
        ValidateEvery = c.ValidateEvery,
        CheckpointEvery = c.CheckpointEvery,
        Beta1 = c.Beta1,
        Beta2 = c.Beta2,
        Eps = c.Eps,
    };

    // each stage draws from its own seeded stream, so resuming a later stage never depends on an earlier one's draws
    private static TrainingRandom StageRandom(TrainConfig c, int index) => new(c.Seed ^ (0x9E3779B97F4A7C15UL * (ulong)(index + 1)));

    /// <summary>The training loader's options of a stage: with data.augment, the loader also preprocesses and augments
    /// each image (seeded by its data position: TrainingLoader.AugmentationSeed), and VlmObjective encodes those pixels.</summary>
    public static TrainingLoaderOptions LoaderOptions(TrainConfig c, TrainStage stage, LlavaTrainable model)
    {
        ImagePipeline? images = null;
        if (c.Augmentation is { } aug)
        {
            if (model.Model.Vision is not ClipVisionEncoder clip)
                throw new FurnaceException($"{c.Source}: data.augment: needs a CLIP vision tower (a LLaVA directory or a CLIP folder), not an ONNX encoder");
            images = new ImagePipeline(clip.Preprocessor, aug);
        }
        return new TrainingLoaderOptions { BatchSize = stage.Batch, Seed = c.Seed, Shuffle = c.Shuffle, Prefetch = 0, Images = images };
    }

    // a composed model: the encoder, a projector (the given one, or a fresh one written for the first stage) and the decoder
    private LlavaTrainable Compose(string dir, string? projector, LlavaTrainingOptions options)
    {
        var c = _config;
        IVisionEncoder vision = _openEncoder(c.Vision!);
        try
        {
            if (projector == null)
            {
                int dim;
                using (var lm = Models.LanguageModel.Open(c.Decoder!)) dim = lm.Decoder.Dim;
                projector = Path.Combine(dir, "initial_projector.safetensors");
                if (Root) ProjectorTrainable.Initial(c.ProjectorType ?? ProjectorKind.Mlp2xGelu, vision.FeatureDim, dim, options.Seed).Save(projector);
                if (Communicator.Size > 1) Communicator.Barrier("initial projector"); // rank 0 wrote it; every rank loads it
            }
        }
        catch
        {
            vision.Dispose();
            throw;
        }
        var model = LlavaModel.Compose(vision, projector, c.ProjectorType, c.Decoder!);
        try
        {
            return LlavaTrainable.FromModel(model, options, sourceDir: null, ownsModel: true);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static void Replace(string target, Action<string> write)
    {
        string tmp = target + ".tmp";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        write(tmp);
        DirectorySync.Flush(tmp);
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        Directory.Move(tmp, target);
    }
}
