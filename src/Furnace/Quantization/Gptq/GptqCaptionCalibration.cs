// Calibration sequences of a LLaVA-style model from a caption dataset (COCO captions JSON, JSONL or a folder, as
// `furnace eval` reads them): each sequence is the decoder input of the training objective's teacher-forced pass —
// the caption prompt (Captioner's instruction through the chat template, the image's projected features spliced at
// its slots; LlavaModel.BuildPrompt) followed by the caption's answer tokens (TrainingSampleBuilder.Caption, as
// CaptionPerplexity scores them) — so GPTQ sees the image rows the decoder really gets.
using Furnace.Data;
using Furnace.Evaluation.Perplexity;
using Furnace.Formats.Images;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Training;

namespace Furnace.Quantization.Gptq;

public static class GptqCaptionCalibration
{
    /// <summary>
    /// Input embeddings (positions, dim) of `samples` (image, caption) pairs drawn with a seeded shuffle of every pair
    /// of the dataset (each pair at most once). Missing images fail when the dataset is read (naming the entry);
    /// an undecodable image fails naming its file.
    /// </summary>
    public static List<float[]> Sequences(LlavaModel model, string datasetPath, int samples, int seed, KernelContext ctx, string? instruction = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (samples <= 0) throw new FurnaceException($"--calib-samples {samples} must be positive");
        CaptionDataset data = CaptionDataset.Load(datasetPath);
        var pairs = new List<(CaptionItem Item, string Caption)>();
        foreach (CaptionItem item in data.Items)
            foreach (string c in item.Captions) pairs.Add((item, c));
        if (pairs.Count == 0) throw new FurnaceException($"{datasetPath}: the calibration dataset has no captions");
        new Random(seed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pairs));

        var scorer = new CaptionPerplexity(model, instruction ?? CaptionInstruction.English);
        string rendered = model.RenderChat(scorer.Instruction);
        int dim = model.Decoder.Dim, context = model.Decoder.MaxPositions;
        var sequences = new List<float[]>();
        foreach (var (item, caption) in pairs.Take(samples))
        {
            RgbImage image;
            try
            {
                image = ImageDecoder.Load(item.ImagePath);
            }
            catch (Exception e) when (e is not FurnaceException)
            {
                throw new FurnaceException($"{item.ImagePath}: image {item.Id} of the calibration dataset cannot be read ({e.Message})");
            }
            LlavaPrompt prompt = model.BuildPrompt(rendered, [image], ctx);
            TrainingSample s = scorer.Sample(caption);
            int first = Array.FindIndex(s.Labels, l => l != TrainingSample.IgnoreIndex);
            int[] answer = first < 0 ? [] : s.InputIds[first..];
            int n = Math.Min(prompt.Positions + answer.Length, context);
            var x = new float[n * dim];
            prompt.Embeddings.AsSpan(0, Math.Min(prompt.Positions, n) * dim).CopyTo(x);
            if (n > prompt.Positions) model.Decoder.Embed(answer.AsSpan(0, n - prompt.Positions), x.AsSpan(prompt.Positions * dim));
            sequences.Add(x);
        }
        return sequences;
    }
}
