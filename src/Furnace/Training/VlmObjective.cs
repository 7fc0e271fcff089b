// The LLaVA training objective over the data loader's batches: each example's conversation becomes a
// TrainingSample through the model's chat template (answers labelled, everything else -100), its image becomes frozen
// vision features (encoded once per image and kept in memory up to a budget: the tower is frozen), or — when the
// loader hands over pixels, i.e. data.augment is on — the features of that step's augmented pixels (encoded every
// step, never cached: the crop and flip differ per epoch; the example's text already has its left/right words
// swapped by the loader when it was flipped), the samples are padded into one TrainingBatch, and the loss is LlavaTrainable's
// mean next-token cross-entropy over answer tokens. Also makes greedy sample captions for progress reports.
using Furnace.Data;
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;
using ModelBatch = Furnace.Training.TrainingBatch;

namespace Furnace.Training;

public sealed class VlmObjective : ITrainingObjective<Data.TrainingBatch>
{
    private readonly LlavaTrainable _model;
    private readonly TrainingSampleBuilder _builder;
    private readonly KernelContext _ctx;
    private readonly Random? _dropout;
    private readonly int _maxLength;
    private readonly FeatureStore _features;
    private Data.TrainingBatch? _lastBatch;
    private ModelBatch? _lastCollated;

    /// <param name="dropout">LoRA dropout draws (the run's TrainingRandom); null = no dropout.</param>
    /// <param name="maxLength">Most positions per sample (image slots included); longer samples are cut after their last image.</param>
    public VlmObjective(LlavaTrainable model, KernelContext ctx, Random? dropout, int maxLength = 2048, long featureCacheBytes = 1L << 30)
        : this(model, ctx, dropout, maxLength, new FeatureStore(featureCacheBytes))
    {
    }

    /// <param name="features">A feature cache shared with other objectives over the same frozen encoder (e.g. the stages of a run).</param>
    public VlmObjective(LlavaTrainable model, KernelContext ctx, Random? dropout, int maxLength, FeatureStore features)
    {
        _model = model;
        _builder = model.SampleBuilder();
        _ctx = ctx;
        _dropout = dropout;
        _maxLength = maxLength;
        _features = features;
    }

    public Tensor Loss(Tape tape, Data.TrainingBatch batch) => _model.Loss(tape, Collate(batch), tape.Enabled ? _dropout : null);

    public BatchCounts Count(Data.TrainingBatch batch) => batch.Count == 0 ? new(0, 0) : new(batch.Count, Collate(batch).ScoredTokens);

    /// <summary>The padded model batch of a loader batch (the last one is kept: Loss and Count ask for the same batch).</summary>
    public ModelBatch Collate(Data.TrainingBatch batch)
    {
        if (ReferenceEquals(batch, _lastBatch) && _lastCollated != null) return _lastCollated;
        var samples = new List<TrainingSample>(batch.Count);
        var features = new List<float[]>(batch.Count);
        for (int k = 0; k < batch.Count; k++)
        {
            var example = batch.Examples[k];
            var turns = example.Turns.Select(t => new ConversationTurn(t.Role == TrainingRole.User ? ConversationTurn.Human : ConversationTurn.Gpt, t.Text)).ToList();
            TrainingSample sample;
            try
            {
                sample = Truncate(_builder.Build(turns));
            }
            catch (FurnaceException e)
            {
                throw new FurnaceException($"sample {example.Id}: {e.Message}");
            }
            if (sample.Images > 1) throw new FurnaceException($"sample {example.Id}: {sample.Images} <image> placeholders, but a sample has one image");
            if (sample.Images == 1 && example.ImagePath is null) throw new FurnaceException($"sample {example.Id}: has an <image> placeholder but no image");
            samples.Add(sample);
            features.Add(sample.Images == 0 ? [] : batch.Pixels[k] is { } px ? _model.EncodePixels([px], _ctx) : Features(example.ImagePath!));
        }
        int pad = _model.Model.Tokenizer.PadId ?? _model.Model.Tokenizer.EosId ?? 0;
        _lastCollated = ModelBatch.Collate(samples, features, pad);
        _lastBatch = batch;
        return _lastCollated;
    }

    /// <summary>Frozen vision features (TokensPerImage, FeatureDim) of an image file, cached while the budget lasts.</summary>
    public float[] Features(string imagePath)
    {
        if (_features.TryGet(imagePath, out var f)) return f;
        RgbImage image;
        try
        {
            image = ImageDecoder.Load(imagePath);
        }
        catch (FurnaceException e)
        {
            throw new FurnaceException($"{imagePath}: {e.Message}");
        }
        f = _model.EncodeImages([image], _ctx);
        _features.TryAdd(imagePath, f);
        return f;
    }

    /// <summary>A greedy caption of an image by the model as it is now (recording off).</summary>
    public string Caption(Tape tape, string imagePath, string instruction, int maxTokens)
    {
        int[] prompt = _builder.CaptionPrompt(instruction);
        int[] ids = _model.GenerateGreedy(tape, prompt, Features(imagePath), 1, maxTokens);
        return _model.Model.Tokenizer.Decode(ids, skipSpecial: true).Trim();
    }

    private TrainingSample Truncate(TrainingSample s)
    {
        if (s.Positions <= _maxLength) return s;
        int lastImage = Array.LastIndexOf(s.InputIds, _model.ImageTokenIndex);
        if (lastImage >= _maxLength)
            throw new FurnaceException($"{s.Positions} positions with an image past max_length {_maxLength} (raise data.max_length)");
        return new TrainingSample(s.InputIds[.._maxLength], s.Labels[.._maxLength], s.Images);
    }
}
