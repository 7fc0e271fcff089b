// A batch of tokenized training samples, the model's input (Furnace.Data.TrainingBatch is the loader's batch of raw
// examples, which VlmObjective turns into this): padded to one length (right padding with the pad id and label -100,
// which the causal mask keeps from touching real positions), with the frozen image features of every image in order.
// Features come from IVisionEncoder.Encode outside the tape (cacheable per image).
namespace Furnace.Training;

public sealed class TrainingBatch
{
    public TrainingBatch(int batch, int seq, int[] inputIds, int[] labels, float[] imageFeatures, int images)
    {
        if (batch <= 0 || seq <= 0) throw new ArgumentException($"batch {batch} x seq {seq} must be positive");
        if (inputIds.Length != batch * seq || labels.Length != batch * seq)
            throw new ArgumentException($"{inputIds.Length} ids and {labels.Length} labels do not fill {batch}x{seq}");
        Batch = batch;
        Seq = seq;
        InputIds = inputIds;
        Labels = labels;
        ImageFeatures = imageFeatures;
        Images = images;
    }

    public int Batch { get; }

    public int Seq { get; }

    /// <summary>(batch*seq,) ids; image slots hold the image token index.</summary>
    public int[] InputIds { get; }

    /// <summary>(batch*seq,) labels aligned with InputIds, -100 where not scored.</summary>
    public int[] Labels { get; }

    /// <summary>(images*tokensPerImage, featureDim) frozen vision features of the images, in slot order.</summary>
    public float[] ImageFeatures { get; }

    public int Images { get; }

    /// <summary>Scored positions (answer tokens after the first of each sequence).</summary>
    public int ScoredTokens => ShiftedTargets().Count(t => t != TrainingSample.IgnoreIndex);

    /// <summary>
    /// Pads samples to the longest (or to seq when given) and concatenates their image features;
    /// features[i] holds sample i's images (Images * tokensPerImage * featureDim floats, empty when it has none).
    /// </summary>
    public static TrainingBatch Collate(IReadOnlyList<TrainingSample> samples, IReadOnlyList<float[]> features, int padId, int? seq = null)
    {
        if (samples.Count == 0) throw new ArgumentException("no samples to batch");
        if (features.Count != samples.Count) throw new ArgumentException($"{features.Count} feature arrays for {samples.Count} samples");
        int s = seq ?? samples.Max(x => x.Positions);
        var ids = new int[samples.Count * s];
        var labels = new int[samples.Count * s];
        Array.Fill(ids, padId);
        Array.Fill(labels, TrainingSample.IgnoreIndex);
        for (int i = 0; i < samples.Count; i++)
        {
            TrainingSample x = samples[i];
            if (x.Positions > s) throw new FurnaceException($"sample {i} has {x.Positions} positions, more than the batch length {s}");
            x.InputIds.CopyTo(ids, i * s);
            x.Labels.CopyTo(labels, i * s);
        }
        float[] all = features.Count == 1 ? features[0] : features.SelectMany(f => f).ToArray();
        return new TrainingBatch(samples.Count, s, ids, labels, all, samples.Sum(x => x.Images));
    }

    /// <summary>Next-token targets (batch*seq,): targets[b, t] = labels[b, t + 1], -100 at each sequence's last position (HF's shift).</summary>
    public int[] ShiftedTargets()
    {
        var t = new int[Batch * Seq];
        for (int b = 0; b < Batch; b++)
        {
            for (int i = 0; i < Seq - 1; i++) t[b * Seq + i] = Labels[b * Seq + i + 1];
            t[b * Seq + Seq - 1] = TrainingSample.IgnoreIndex;
        }
        return t;
    }
}
