// A validated train.json (TrainConfigJson with defaults filled, paths resolved against the file's folder, stage
// settings combined with the run-wide ones), plus the command-line overrides. Every error names the field:
//   "train.json: stages[1].train: unknown part 'lorra' (projector, lora, lm)".
using System.Globalization;
using System.Text.Json;
using Furnace.Data;
using Furnace.IO;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Models.Projectors;

namespace Furnace.Training;

public sealed record TrainConfig
{
    public required string Source { get; init; }

    // model: a LLaVA directory, or vision + decoder (+ projector)
    public string? Llava { get; init; }
    public string? Vision { get; init; }
    public string? Decoder { get; init; }
    public string? Projector { get; init; }
    public ProjectorKind? ProjectorType { get; init; }

    // data
    public required string Train { get; init; }
    public string? Val { get; init; }
    public double ValSplit { get; init; }
    public string? ImageFolder { get; init; }
    public required string Instruction { get; init; }
    public CaptionSampling Captions { get; init; }
    public int MaxLength { get; init; }
    public bool Shuffle { get; init; }

    /// <summary>Training-image augmentation (data.augment); null = none, and frozen vision features are cached per image.</summary>
    public AugmentationOptions? Augmentation { get; init; }

    public required IReadOnlyList<TrainStage> Stages { get; init; }
    public required string Out { get; init; }
    public ulong Seed { get; init; }
    public int Threads { get; init; }
    public double Beta1 { get; init; }
    public double Beta2 { get; init; }
    public double Eps { get; init; }
    public int ValidateEvery { get; init; }
    public int EvalSamples { get; init; }
    public int SampleEvery { get; init; }
    public int SampleImages { get; init; }
    public int SampleMaxTokens { get; init; }
    public int CheckpointEvery { get; init; }
    public int Keep { get; init; }

    /// <summary>Command-line values that replace the file's (null: keep the file's).</summary>
    public sealed record Overrides(string? Out = null, int? Steps = null, double? Lr = null, int? Batch = null, ulong? Seed = null, int? Threads = null);

    public static TrainConfig Load(string path, Overrides? overrides = null)
    {
        byte[] bytes = JsonInput.ReadAllBytes(path);
        TrainConfigJson raw;
        try
        {
            raw = JsonSerializer.Deserialize(bytes, TrainingJsonContext.Default.TrainConfigJson) ?? throw new FurnaceException($"{path}: is 'null'");
        }
        catch (JsonException e)
        {
            throw new FurnaceException($"{path}: {JsonInput.Describe(e)}");
        }
        return From(raw, path, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", overrides ?? new Overrides());
    }

    public static TrainConfig From(TrainConfigJson raw, string source, string baseDir, Overrides o)
    {
        FurnaceException Bad(string field, string what) => new($"{source}: {field}: {what}");
        string? Resolve(string? p) => string.IsNullOrEmpty(p) ? null : Path.GetFullPath(Path.Combine(baseDir, p));

        var model = raw.Model ?? throw Bad("model", "missing (a LLaVA directory: {\"llava\": DIR}, or {\"vision\": CLIP_DIR_OR_ONNX, \"decoder\": GGUF_OR_HF_DIR})");
        string? llava = Resolve(model.Llava), vision = Resolve(model.Vision), decoder = Resolve(model.Decoder), projector = Resolve(model.Projector);
        if (llava != null && (vision != null || decoder != null)) throw Bad("model", "give either llava, or vision + decoder, not both");
        if (llava == null && (vision == null || decoder == null)) throw Bad("model", "needs llava, or both vision and decoder");
        if (llava != null && !Directory.Exists(llava)) throw Bad("model.llava", $"{llava} is not a directory");
        if (vision != null && !Directory.Exists(vision) && !File.Exists(vision)) throw Bad("model.vision", $"{vision} does not exist");
        if (decoder != null && !Directory.Exists(decoder) && !File.Exists(decoder)) throw Bad("model.decoder", $"{decoder} does not exist");
        if (projector != null && llava != null) throw Bad("model.projector", "only for composition (vision + decoder); a LLaVA directory has its own");
        if (projector != null && !File.Exists(projector)) throw Bad("model.projector", $"{projector} does not exist");
        ProjectorKind? kind = null;
        if (model.ProjectorType != null)
        {
            try
            {
                kind = Models.Projectors.Projector.ParseKind(model.ProjectorType);
            }
            catch (FurnaceException e)
            {
                throw Bad("model.projector_type", e.Message);
            }
        }

        var data = raw.Data ?? throw Bad("data", "missing ({\"train\": FILE_OR_FOLDER})");
        string train = Resolve(data.Train) ?? throw Bad("data.train", "missing");
        if (!File.Exists(train) && !Directory.Exists(train)) throw Bad("data.train", $"{train} does not exist");
        string? val = Resolve(data.Val);
        if (val != null && !File.Exists(val) && !Directory.Exists(val)) throw Bad("data.val", $"{val} does not exist");
        double split = data.ValSplit ?? (val == null ? 0.05 : 0);
        if (val != null && data.ValSplit is > 0) throw Bad("data.val_split", "give either data.val or data.val_split");
        if (split < 0 || double.IsNaN(split) || (split >= 1 && split != Math.Floor(split))) throw Bad("data.val_split", $"{split} must be a fraction in [0, 1) or a whole sample count");
        if (data.Lang != null && data.Lang is not ("en" or "zh")) throw Bad("data.lang", $"'{data.Lang}' must be en or zh");
        string instruction = Models.Vlm.CaptionInstruction.For(data.Lang ?? "en", data.Instruction);
        CaptionSampling captions = (data.Captions ?? "each") switch
        {
            "each" => CaptionSampling.EachCaption,
            "one_per_epoch" => CaptionSampling.OneCaptionPerEpoch,
            var c => throw Bad("data.captions", $"'{c}' must be each or one_per_epoch"),
        };
        AugmentationOptions? augmentation = null;
        if (data.Augment is { } aug)
        {
            double minScale = 1, maxScale = 1;
            if (aug.Crop != null)
            {
                if (aug.Crop.Length != 2) throw Bad("data.augment.crop", $"has {aug.Crop.Length} numbers; give [min, max] area fractions, e.g. [0.6, 1.0]");
                (minScale, maxScale) = (aug.Crop[0], aug.Crop[1]);
                if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1)) throw Bad("data.augment.crop", $"[{minScale}, {maxScale}] must satisfy 0 < min <= max <= 1");
            }
            double flip = aug.Flip ?? 0;
            if (!(flip >= 0 && flip <= 1)) throw Bad("data.augment.flip", $"{flip} must be a probability in [0, 1]");
            var policy = (aug.LeftRight ?? "swap") switch
            {
                "swap" => LeftRightPolicy.Swap,
                "no_flip" => LeftRightPolicy.NoFlip,
                var lr => throw Bad("data.augment.left_right", $"'{lr}' must be swap or no_flip"),
            };
            var a = new AugmentationOptions { RandomResizedCrop = aug.Crop != null, MinScale = minScale, MaxScale = maxScale, FlipProbability = flip, LeftRight = policy };
            if (!a.Enabled) throw Bad("data.augment", "turns nothing on (give \"crop\": [min, max] and/or \"flip\": p > 0)");
            augmentation = a;
        }
        int maxLength = data.MaxLength ?? 2048;
        if (maxLength < 8) throw Bad("data.max_length", $"{maxLength} must be at least 8");

        int Positive(int? v, string field, int fallback, int min = 1)
        {
            int x = v ?? fallback;
            if (x < min) throw Bad(field, $"{x} must be at least {min}");
            return x;
        }
        double Rate(double? v, string field, double fallback)
        {
            double x = v ?? fallback;
            if (!(x >= 0) || double.IsInfinity(x)) throw Bad(field, $"{x} must be a number >= 0");
            return x;
        }

        if (raw.Stages is not { Count: > 0 } stagesRaw)
            throw Bad("stages", "missing or empty (e.g. [{\"name\": \"align\", \"train\": [\"projector\"], \"steps\": 1000}])");
        var stages = new List<TrainStage>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        bool composedWithoutProjector = llava == null && projector == null;
        int firstCaptioning = stagesRaw.FindIndex(s => s?.Objective != "contrastive");
        for (int i = 0; i < stagesRaw.Count; i++)
        {
            string f = $"stages[{i}]";
            var s = stagesRaw[i] ?? throw Bad(f, "is null");
            string name = s.Name ?? $"stage{i + 1}";
            if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) || name.StartsWith('.'))
                throw Bad(f + ".name", $"'{name}' must be letters, digits, '-', '_' or '.' (it names the stage's output folder)");
            if (!names.Add(name)) throw Bad(f + ".name", $"'{name}' is used twice");
            bool contrastive = (s.Objective ?? "caption") switch
            {
                "caption" => false,
                "contrastive" => true,
                var obj => throw Bad(f + ".objective", $"'{obj}' must be caption or contrastive"),
            };
            if (contrastive && s.Train != null) throw Bad(f + ".train", "a contrastive stage trains its own image/text projector pair; leave train out");
            if (contrastive && s.Lora != null) throw Bad(f + ".lora", "a contrastive stage trains no LoRA");
            if (contrastive && s.FreshProjector != null) throw Bad(f + ".fresh_projector", "a contrastive stage always starts a fresh projector pair");
            if (!contrastive && s.EmbedDim != null) throw Bad(f + ".embed_dim", "only for a contrastive stage (\"objective\": \"contrastive\")");
            int embedDim = contrastive ? Positive(s.EmbedDim, f + ".embed_dim", 256) : 0;
            List<string> parts = contrastive ? ["projector"] : s.Train ?? throw Bad(f + ".train", "missing (a list of parts: projector, lora, lm)");
            if (parts.Count == 0) throw Bad(f + ".train", "is empty: a stage must train something");
            foreach (string p in parts)
                if (p is not ("projector" or "lora" or "lm")) throw Bad(f + ".train", $"unknown part '{p}' (projector, lora, lm)");
            bool lora = parts.Contains("lora"), lm = parts.Contains("lm");
            if (lora && lm) throw Bad(f + ".train", "lora and lm exclude each other (LoRA adapts a frozen LM)");
            if (s.Lora != null && !lora) throw Bad(f + ".lora", "given, but the stage does not train \"lora\"");
            LoraConfig? loraConfig = lora ? Lora(s.Lora, f + ".lora") : null;

            int steps = o.Steps ?? s.Steps ?? throw Bad(f + ".steps", "missing");
            if (steps < 1) throw Bad(f + ".steps", $"{steps} must be at least 1");
            double lr = Rate(o.Lr ?? s.Lr ?? raw.Lr, o.Lr != null ? "--lr" : s.Lr != null ? f + ".lr" : "lr", lora ? 2e-4 : lm ? 2e-5 : 1e-3);
            double warm = Rate(s.Warmup ?? raw.Warmup, f + ".warmup", 0.03);
            int warmup = warm < 1 ? (int)Math.Ceiling(warm * steps) : warm == Math.Floor(warm) ? (int)warm : throw Bad(f + ".warmup", $"{warm}: a ratio below 1 or a whole number of steps");
            ScheduleKind schedule;
            try
            {
                schedule = LearningRateSchedule.ParseKind(s.Schedule ?? raw.Schedule ?? "cosine");
            }
            catch (FurnaceException e)
            {
                throw Bad(f + ".schedule", e.Message);
            }
            double minRatio = Rate(s.MinLrRatio ?? raw.MinLrRatio, f + ".min_lr_ratio", 0);
            if (minRatio > 1) throw Bad(f + ".min_lr_ratio", $"{minRatio} must be between 0 and 1");
            double clip = Rate(s.Clip ?? raw.Clip, f + ".clip", 1.0);
            stages.Add(new TrainStage
            {
                Name = name,
                Contrastive = contrastive,
                EmbedDim = embedDim,
                TrainProjector = parts.Contains("projector"),
                Language = lora ? LlamaTraining.Lora : lm ? LlamaTraining.Full : LlamaTraining.Frozen,
                Lora = loraConfig,
                FreshProjector = !contrastive && (s.FreshProjector ?? (i == firstCaptioning && composedWithoutProjector)),
                Steps = steps,
                ProjectorLr = (float)Rate(o.Lr != null ? null : s.ProjectorLr, f + ".projector_lr", lr),
                LoraLr = (float)Rate(o.Lr != null ? null : s.LoraLr, f + ".lora_lr", lr),
                LmLr = (float)Rate(o.Lr != null ? null : s.LmLr, f + ".lm_lr", lr),
                Batch = Positive(o.Batch ?? s.Batch ?? raw.Batch, o.Batch != null ? "--batch" : f + ".batch", 8),
                Accumulation = Positive(s.Accumulation ?? raw.Accumulation, f + ".accumulation", 1),
                WarmupSteps = Math.Min(warmup, steps),
                Schedule = schedule,
                MinLrRatio = minRatio,
                Clip = clip == 0 ? null : clip,
                WeightDecay = (float)Rate(s.WeightDecay ?? raw.WeightDecay, f + ".weight_decay", 0),
            });
            if (contrastive && stages[^1].Batch < 2) throw Bad(o.Batch != null ? "--batch" : f + ".batch", $"{stages[^1].Batch}: a contrastive stage needs at least 2 pairs per batch (the other pairs are its negatives)");
            if (stages[^1].FreshProjector && !stages[^1].TrainProjector) throw Bad(f + ".fresh_projector", "a fresh projector must be trained (add \"projector\" to train)");
        }
        if (composedWithoutProjector && firstCaptioning >= 0 && !stages[firstCaptioning].FreshProjector)
            throw Bad($"stages[{firstCaptioning}].fresh_projector", "the composed model has no projector yet (model.projector), so the first stage must start a fresh one");

        double beta1 = Rate(raw.Beta1, "beta1", 0.9), beta2 = Rate(raw.Beta2, "beta2", 0.999);
        if (beta1 >= 1) throw Bad("beta1", $"{beta1} must be below 1");
        if (beta2 >= 1) throw Bad("beta2", $"{beta2} must be below 1");
        string outDir = o.Out ?? Resolve(raw.Out) ?? throw Bad("out", "missing (the run's output folder; or pass --out)");
        return new TrainConfig
        {
            Source = source,
            Llava = llava,
            Vision = vision,
            Decoder = decoder,
            Projector = projector,
            ProjectorType = kind,
            Train = train,
            Val = val,
            ValSplit = split,
            ImageFolder = Resolve(data.ImageFolder),
            Instruction = instruction,
            Captions = captions,
            MaxLength = maxLength,
            Shuffle = data.Shuffle ?? true,
            Augmentation = augmentation,
            Stages = stages,
            Out = Path.GetFullPath(outDir),
            Seed = o.Seed ?? raw.Seed ?? 42,
            Threads = Positive(o.Threads ?? raw.Threads, o.Threads != null ? "--threads" : "threads", Environment.ProcessorCount),
            Beta1 = beta1,
            Beta2 = beta2,
            Eps = Rate(raw.Eps, "eps", 1e-8),
            ValidateEvery = Positive(raw.ValidateEvery, "validate_every", 100, 0),
            EvalSamples = Positive(raw.EvalSamples, "eval_samples", 64),
            SampleEvery = Positive(raw.SampleEvery, "sample_every", raw.ValidateEvery ?? 100, 0),
            SampleImages = Positive(raw.SampleImages, "sample_images", 2, 0),
            SampleMaxTokens = Positive(raw.SampleMaxTokens, "sample_max_tokens", 32),
            CheckpointEvery = Positive(raw.CheckpointEvery, "checkpoint_every", 500, 0),
            Keep = Positive(raw.Keep, "keep", 2),
        };

        LoraConfig Lora(TrainLoraJson? l, string f)
        {
            l ??= new TrainLoraJson();
            int r = l.R ?? 8;
            if (r < 1) throw Bad(f + ".r", $"{r} must be at least 1");
            double alpha = Rate(l.Alpha, f + ".alpha", 2 * r), dropout = Rate(l.Dropout, f + ".dropout", 0.05);
            if (dropout >= 1) throw Bad(f + ".dropout", $"{dropout} must be below 1");
            LoraTargets targets;
            try
            {
                targets = l.TargetModules is not { } t ? LoraTargets.List("q_proj", "v_proj")
                    : t.ValueKind == JsonValueKind.String ? LoraTargets.Parse(t.GetString()!)
                    : t.ValueKind == JsonValueKind.Array ? LoraTargets.List(t.EnumerateArray().Select(e => e.GetString() ?? throw Bad(f + ".target_modules", "holds a non-string")).ToArray())
                    : throw Bad(f + ".target_modules", "must be a string (\"q_proj,v_proj\", \"all-linear\") or a list of names");
            }
            catch (InvalidOperationException)
            {
                throw Bad(f + ".target_modules", "must be a string or a list of strings");
            }
            return new LoraConfig { Rank = r, Alpha = (float)alpha, Dropout = (float)dropout, Targets = targets, UseRsLora = l.UseRslora ?? false };
        }
    }

    /// <summary>The effective configuration as JSON (stored in checkpoints and OUT/config.json).</summary>
    public string ToJson()
    {
        var ci = CultureInfo.InvariantCulture;
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("model");
            if (Llava != null) w.WriteString("llava", Llava);
            if (Vision != null) w.WriteString("vision", Vision);
            if (Decoder != null) w.WriteString("decoder", Decoder);
            if (Projector != null) w.WriteString("projector", Projector);
            if (ProjectorType is { } k) w.WriteString("projector_type", k == ProjectorKind.Linear ? "linear" : "mlp2x_gelu");
            w.WriteEndObject();
            w.WriteStartObject("data");
            w.WriteString("train", Train);
            if (Val != null) w.WriteString("val", Val);
            w.WriteNumber("val_split", ValSplit);
            if (ImageFolder != null) w.WriteString("image_folder", ImageFolder);
            w.WriteString("instruction", Instruction);
            w.WriteString("captions", Captions == CaptionSampling.EachCaption ? "each" : "one_per_epoch");
            w.WriteNumber("max_length", MaxLength);
            w.WriteBoolean("shuffle", Shuffle);
            if (Augmentation is { } aug)
            {
                w.WriteStartObject("augment");
                if (aug.RandomResizedCrop)
                {
                    w.WriteStartArray("crop");
                    w.WriteNumberValue(aug.MinScale);
                    w.WriteNumberValue(aug.MaxScale);
                    w.WriteEndArray();
                }
                w.WriteNumber("flip", aug.FlipProbability);
                w.WriteString("left_right", aug.LeftRight == LeftRightPolicy.Swap ? "swap" : "no_flip");
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartArray("stages");
            foreach (var s in Stages)
            {
                w.WriteStartObject();
                w.WriteString("name", s.Name);
                if (s.Contrastive)
                {
                    w.WriteString("objective", "contrastive");
                    w.WriteNumber("embed_dim", s.EmbedDim);
                }
                w.WriteStartArray("train");
                if (s.TrainProjector) w.WriteStringValue("projector");
                if (s.Language == LlamaTraining.Lora) w.WriteStringValue("lora");
                if (s.Language == LlamaTraining.Full) w.WriteStringValue("lm");
                w.WriteEndArray();
                w.WriteBoolean("fresh_projector", s.FreshProjector);
                w.WriteNumber("steps", s.Steps);
                w.WriteNumber("projector_lr", s.ProjectorLr);
                w.WriteNumber("lora_lr", s.LoraLr);
                w.WriteNumber("lm_lr", s.LmLr);
                if (s.Lora is { } l)
                {
                    w.WriteStartObject("lora");
                    w.WriteNumber("r", l.Rank);
                    w.WriteNumber("alpha", l.Alpha);
                    w.WriteNumber("dropout", l.Dropout);
                    w.WriteString("target_modules", string.Join(",", l.Targets.Names));
                    w.WriteEndObject();
                }
                w.WriteNumber("batch", s.Batch);
                w.WriteNumber("accumulation", s.Accumulation);
                w.WriteNumber("warmup", s.WarmupSteps);
                w.WriteString("schedule", s.Schedule.ToString().ToLower(ci));
                w.WriteNumber("min_lr_ratio", s.MinLrRatio);
                if (s.Clip is { } c) w.WriteNumber("clip", c);
                else w.WriteNull("clip");
                w.WriteNumber("weight_decay", s.WeightDecay);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("out", Out);
            w.WriteNumber("seed", Seed);
            w.WriteNumber("beta1", Beta1);
            w.WriteNumber("beta2", Beta2);
            w.WriteNumber("eps", Eps);
            w.WriteNumber("validate_every", ValidateEvery);
            w.WriteNumber("eval_samples", EvalSamples);
            w.WriteNumber("sample_every", SampleEvery);
            w.WriteNumber("sample_images", SampleImages);
            w.WriteNumber("sample_max_tokens", SampleMaxTokens);
            w.WriteNumber("checkpoint_every", CheckpointEvery);
            w.WriteNumber("keep", Keep);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}
