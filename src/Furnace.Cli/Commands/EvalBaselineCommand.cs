// `furnace eval --baseline constant|nearest --train TRAIN --data DATASET --out DIR`: the reference points a
// captioner's scores are read against (CaptionBaselines), scored exactly as `eval --model` scores a model:
// predictions.json + report.json (readable by --compare). Only TRAIN chooses the captions; DATASET gives the images to
// caption and the references to score against.
using System.Globalization;
using Furnace.Data;
using Furnace.Evaluation;
using Furnace.Formats.Images;
using Furnace.Models.Onnx;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class EvalBaselineCommand
{
    public static int Run(string kind, string trainPath, string data, string outDir, string? variant, int? limit, int threads, bool phrases)
    {
        if (kind is not ("constant" or "nearest")) throw new FurnaceException($"--baseline '{kind}' is not one of constant, nearest");
        var train = CaptionBaselines.TrainingCaptions(TrainingSet.Load(trainPath, new TrainingSetOptions()));
        var dataset = CaptionDataset.Load(data);
        var items = limit is int n ? dataset.Items.Take(n).ToArray() : dataset.Items.ToArray();
        Console.Error.WriteLine($"baseline {kind}: {train.Count} training images from {trainPath}; captioning {items.Length} images of {data}");
        var predictions = new Dictionary<string, string>(StringComparer.Ordinal);
        if (kind == "constant")
        {
            var (caption, cider) = CaptionBaselines.BestConstant(train);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"best constant caption on the training set (CIDEr-D {cider:F3}): \"{caption}\""));
            foreach (var item in items) predictions[item.Id] = caption;
        }
        else
        {
            using var ctx = new KernelContext(threads);
            using var encoder = new OnnxVisionEncoder(ResNet18.Open(kind: OnnxOutputKind.Pooled, intraOpThreads: threads));
            float[][] Encode(IReadOnlyList<string> paths, string what)
            {
                var progress = new ProgressLine(paths.Count, 0, what);
                var result = new float[paths.Count][];
                for (int i = 0; i < paths.Count; i++)
                {
                    result[i] = encoder.Encode([ImageDecoder.Load(paths[i])], ctx);
                    progress.Report(i + 1);
                }
                progress.Break();
                return result;
            }
            // the training set's features are kept beside it (TRAIN.resnet18-pooled.f32: images × 512 float32, in
            // TrainingCaptions order), so scoring several datasets encodes the training images once
            string cache = trainPath + ".resnet18-pooled.f32";
            float[][] trainFeatures;
            if (File.Exists(cache) && new FileInfo(cache).Length == (long)train.Count * ResNet18.FeatureDim * 4 && File.GetLastWriteTimeUtc(cache) >= File.GetLastWriteTimeUtc(trainPath))
            {
                byte[] bytes = File.ReadAllBytes(cache);
                trainFeatures = new float[train.Count][];
                for (int i = 0; i < train.Count; i++)
                    trainFeatures[i] = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan(i * ResNet18.FeatureDim * 4, ResNet18.FeatureDim * 4)).ToArray();
                Console.Error.WriteLine($"training features from {cache}");
            }
            else
            {
                trainFeatures = Encode(train.Select(t => t.Image).ToArray(), "training images");
                Furnace.IO.AtomicFile.Write(cache, st =>
                {
                    foreach (var f in trainFeatures) st.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(f.AsSpan()));
                });
            }
            float[][] queryFeatures = Encode(items.Select(i => i.ImagePath).ToArray(), "images");
            int[] nearest = CaptionBaselines.Nearest(trainFeatures, queryFeatures);
            for (int i = 0; i < items.Length; i++) predictions[items[i].Id] = train[nearest[i]].Captions[0];
        }

        Directory.CreateDirectory(outDir);
        string predictionsPath = Path.Combine(outDir, "predictions.json");
        PredictionLog.WriteResults(predictionsPath, items.Select(i => (i.Id, predictions[i.Id])));
        var references = dataset.References();
        var report = EvalReport.From(CaptionEvaluator.Evaluate(references, predictions), predictions) with
        {
            Model = $"baseline {kind} over {Path.GetFullPath(trainPath)}",
            Variant = variant ?? $"baseline: {kind}",
            Predictions = Path.GetFullPath(predictionsPath),
            References = Path.GetFullPath(data),
        };
        if (phrases) report = report.WithPhraseAccuracy(references, predictions);
        string reportPath = Path.Combine(outDir, "report.json");
        report.Write(reportPath);
        Console.WriteLine($"scored {report.Images} images");
        Console.WriteLine();
        EvalCommand.PrintScores(report);
        Console.WriteLine();
        Console.WriteLine($"wrote {predictionsPath}, {reportPath}");
        return 0;
    }
}
