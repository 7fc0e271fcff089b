// `furnace eval`: scores predicted captions against references the way coco-caption does (BLEU-1..4, ROUGE-L,
// CIDEr-D), prints them and writes an eval report; `--compare` puts several reports side by side as one markdown
// table. With --clip, CLIPScore and RefCLIPScore (Hessel et al. 2021) are added from a CLIP checkpoint and the
// references' images. With --model and --data it captions a dataset with a vision-language model first
// (EvalModelCommand), filling the report's latency/throughput/memory fields.
using System.CommandLine;
using System.Globalization;
using Furnace.Evaluation;

namespace Furnace.Cli.Commands;

internal static class EvalCommand
{
    private const string Help = """
        Score captions the way the COCO caption benchmark does (coco-caption: BLEU-1..4, ROUGE-L, CIDEr-D), caption a
        dataset with a model and score it, or compare eval reports.

        With --model and --data: caption every image (greedy, the instruction of `furnace caption`), then score. --out
        is then a directory (default ./eval-DATASET-TIMESTAMP) that receives predictions.partial.jsonl (each caption as
        it is made), predictions.json, report.json and report.html; rerunning with the same --out resumes an
        interrupted run (Ctrl-C stops cleanly, exit code 130).

        Predictions: a JSON array in coco-caption's results format [{"image_id": 42, "caption": "..."}]
        (or the fakecap format [{"image_id", "test", "refs"}]). References: COCO captions JSON (images +
        annotations), JSONL ({"image", "captions", "id"?} per line; the id defaults to the image file name
        without extension), a folder of images with same-named .txt captions, or [{"image_id", "refs"}].
        Captions are PTB-tokenized as coco-caption does unless --pretokenized. Only images with a prediction
        are scored; each of them must have references.

        --clip MODEL_DIR adds CLIPScore and RefCLIPScore (clipscore.py: w = 2.5, "A photo depicts " prefix,
        raw captions) from a Hugging Face CLIPModel directory (weights, tokenizer, preprocessor_config.json);
        the references must then be a dataset with images (COCO JSON, JSONL or a folder).

        Examples:
          furnace eval --model ./llava-1.5-7b-hf --data coco-mini/captions.json --limit 20 --out runs/llava-f32
          furnace eval -m deepseek-llm-7b-chat.gguf --vision ./clip-vit-large-patch14-336 --projector mm_projector.safetensors --data captions.jsonl --lang zh
          furnace eval --predictions results.json --references captions_val2017.json
          furnace eval -p results.json -r captions.jsonl --out run1.json --variant "q8_0, 2 threads"
          furnace eval -p fakecap.json -r fakecap.json --pretokenized
          furnace eval -p results.json -r coco-mini/captions.json --clip clip-vit-base-patch32 --threads 2
          furnace eval --compare run1.json run2.json run3.json
          furnace eval --compare runs/f32/report.json runs/q8_0/report.json runs/q4_k_m/report.json --plot tradeoff.png
          furnace eval --data data/scenes/eval.jsonl --phrases --out runs/eval-scenes
          furnace eval --baseline nearest --train runs/default/work/images.json --data coco-mini/captions.json --out runs/nn
        """;

    public static Command Create()
    {
        var predictions = new Option<string>("--predictions", "-p") { Description = "Predicted captions: coco-caption results JSON [{\"image_id\", \"caption\"}]" };
        var references = new Option<string>("--references", "-r") { Description = "Reference captions: COCO captions JSON, JSONL, a folder with .txt captions, or [{\"image_id\", \"refs\"}]" };
        var pretokenized = new Option<bool>("--pretokenized") { Description = "Captions are already coco-tokenized (lowercase, punctuation removed): skip the PTB tokenizer" };
        var output = new Option<string>("--out", "-o") { Description = "Write the eval report (JSON: corpus and per-image scores) to this file; with --model, the output directory" };
        var baseline = new Option<string?>("--baseline") { Description = "Score a baseline instead of a model: constant (the best single training caption) or nearest (caption of the nearest training image by ResNet18 features); needs --train, --data, --out" };
        var train = new Option<string?>("--train") { Description = "With --baseline: the training data the baseline's captions come from (LLaVA JSON, captions JSONL, ...)" };
        var phrases = new Option<bool>("--phrases") { Description = "Also score exact-match accuracy of count, colour and position phrases (compositional captions such as the scenes dataset's)" };
        var variant = new Option<string>("--variant") { Description = "Label of this run in the report (shown by --compare)" };
        var clip = new Option<string>("--clip") { Description = "Also score CLIPScore and RefCLIPScore with this CLIP model directory (references must be a dataset with images)" };
        var threads = Cli.ThreadsOption();
        var compare = new Option<string[]>("--compare")
        {
            Description = "Compare eval reports side by side (markdown table) instead of scoring",
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var plot = new Option<string?>("--plot") { Description = "With --compare: also draw the runs as a PNG (CIDEr-D against latency per image, point size by peak memory, one labelled point per run)" };
        var plotSize = new Option<string>("--plot-size") { Description = "With --plot: the picture's size in pixels, WIDTHxHEIGHT", DefaultValueFactory = _ => $"{EvalComparePlot.DefaultWidth}x{EvalComparePlot.DefaultHeight}" };
        var vlm = new VlmOptions();
        var data = new Option<string>("--data", "-d") { Description = "With --model: the dataset to caption (COCO captions JSON, JSONL, or a folder of images with .txt captions)" };
        var limit = new Option<int?>("--limit") { Description = "With --model: caption only the first N images" };
        var lang = new Option<string>("--lang") { Description = "With --model: instruction language, en or zh", DefaultValueFactory = _ => "en" };
        var prompt = new Option<string?>("--prompt") { Description = $"With --model: instruction instead of the default (\"{Furnace.Models.Vlm.CaptionInstruction.English}\")" };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "With --model: most tokens per caption", DefaultValueFactory = _ => 64 };
        var cmd = new Command("eval", Help)
        {
            data,
            limit,
            lang,
            prompt,
            maxTokens,
            predictions,
            references,
            pretokenized,
            output,
            variant,
            clip,
            threads,
            compare,
            plot,
            plotSize,
            phrases,
            baseline,
            train,
        };
        foreach (var o in vlm.All) cmd.Add(o);
        cmd.SetAction(r => DistributedCli.Run(comm =>
        {
            string[]? reports = r.GetValue(compare);
            if ((r.GetValue(plot) is not null || r.GetResult(plotSize) is { Implicit: false }) && reports is not { Length: > 0 })
                throw new FurnaceException("--plot and --plot-size go with --compare");
            if (r.GetResult(plotSize) is { Implicit: false } && r.GetValue(plot) is null) throw new FurnaceException("--plot-size goes with --plot FILE.png");
            string? pred = r.GetValue(predictions), refs = r.GetValue(references);
            string? model = r.GetValue(vlm.Model), dataset = r.GetValue(data);
            if (comm.Size > 1 && (r.GetValue(baseline) is not null || (model is null && dataset is null)))
                throw new FurnaceException("under mpirun only eval --model runs (its images sharded over the ranks); scoring and baselines run on one process");
            if (r.GetValue(baseline) is { } kind)
            {
                if (model is not null || pred is not null || refs is not null || reports is { Length: > 0 })
                    throw new FurnaceException("--baseline scores a baseline on --data; it cannot be combined with --model, --predictions, --references or --compare");
                string trainPath = r.GetValue(train) ?? throw new FurnaceException("--baseline needs --train (the training data its captions come from)");
                if (dataset is null) throw new FurnaceException("--baseline needs --data (the dataset to caption and score)");
                string outDir = r.GetValue(output) ?? throw new FurnaceException("--baseline needs --out DIR");
                return EvalBaselineCommand.Run(kind, trainPath, dataset, outDir, r.GetValue(variant), r.GetValue(limit), Cli.CheckThreads(r.GetValue(threads)), r.GetValue(phrases));
            }
            if (r.GetValue(train) is not null) throw new FurnaceException("--train goes with --baseline");
            if (model is not null || dataset is not null)
            {
                if (pred is not null || refs is not null || r.GetValue(pretokenized) || reports is { Length: > 0 })
                    throw new FurnaceException("--model/--data caption a dataset and score it; they cannot be combined with --predictions, --references, --pretokenized or --compare");
                if (dataset is null) throw new FurnaceException("--model needs --data DATASET (COCO captions JSON, JSONL or a folder of images with .txt captions)");
                model ??= Furnace.Models.Vlm.DefaultModel.Require(); // the embedded captioner
                var args = new EvalModelArgs(model, dataset, r.GetValue(limit), r.GetValue(lang)!, r.GetValue(prompt), r.GetValue(maxTokens),
                    Cli.CheckThreads(r.GetValue(threads)), r.GetValue(output), r.GetValue(variant), r.GetValue(clip), r.GetValue(phrases));
                return EvalModelCommand.Run(args, () => vlm.Open(r), vlm.Label(r), comm);
            }
            if (reports is { Length: > 0 })
            {
                if (pred is not null || refs is not null || r.GetValue(output) is not null || r.GetValue(pretokenized) || r.GetValue(variant) is not null || r.GetValue(clip) is not null)
                    throw new FurnaceException("--compare reads eval reports; it cannot be combined with --predictions, --references, --pretokenized, --out, --variant or --clip");
                return Compare(reports, r.GetValue(plot), ParseSize(r.GetValue(plotSize)!));
            }
            if (pred is null || refs is null)
                throw new FurnaceException("--predictions and --references are both required (or --compare REPORT.json...)");
            return Score(pred, refs, r.GetValue(pretokenized), r.GetValue(output), r.GetValue(variant), r.GetValue(clip), Cli.CheckThreads(r.GetValue(threads)), r.GetValue(phrases));
        }));
        return cmd;
    }

    private static int Score(string predictionsPath, string referencesPath, bool pretokenized, string? outPath, string? variant, string? clipDir, int threads, bool phrases = false)
    {
        var predictions = PredictionFile.Read(predictionsPath);
        var references = ReferenceFile.Read(referencesPath);
        foreach (var (id, _) in predictions)
        {
            if (!references.ContainsKey(id))
                throw new FurnaceException($"{predictionsPath}: image {id} has a prediction but no references in {referencesPath}");
        }

        var evaluation = CaptionEvaluator.Evaluate(references, predictions, pretokenized);
        var report = EvalReport.From(evaluation, predictions) with
        {
            Variant = variant,
            Predictions = Path.GetFullPath(predictionsPath),
            References = Path.GetFullPath(referencesPath),
            Pretokenized = pretokenized,
        };
        if (clipDir is not null) report = report.WithClipScores(ScoreClip(clipDir, referencesPath, evaluation.ImageIds, predictions, threads));
        if (phrases) report = report.WithPhraseAccuracy(references, predictions);

        Console.WriteLine($"scored {report.Images} images ({references.Count} in the references){(pretokenized ? ", pretokenized" : "")}");
        Console.WriteLine();
        PrintScores(report);
        if (outPath is not null)
        {
            report.Write(outPath);
            Console.WriteLine();
            Console.WriteLine($"wrote {outPath}");
        }
        return 0;
    }

    public static void PrintScores(EvalReport report)
    {
        Console.WriteLine("| metric  | score |");
        Console.WriteLine("|---------|------:|");
        foreach (var (name, value) in MetricRows(report.Scores)) Console.WriteLine($"| {name,-7} | {F3(value)} |");
        if (report.Scores.ClipScore is double cs) Console.WriteLine($"| {"CLIPScore",-7} | {F3(cs)} |");
        if (report.Scores.RefClipScore is double rcs) Console.WriteLine($"| {"RefCLIPScore",-7} | {F3(rcs)} |");
        if (report.Scores.CountAccuracy is double ca) Console.WriteLine($"| {"count acc.",-7} | {F3(ca)} |");
        if (report.Scores.ColourAccuracy is double cl) Console.WriteLine($"| {"colour acc.",-7} | {F3(cl)} |");
        if (report.Scores.PositionAccuracy is double pa) Console.WriteLine($"| {"position acc.",-7} | {F3(pa)} |");
    }

    // clipscore.py scores the raw captions (no PTB tokenization) and reads each image's file
    private static ClipScoreResult ScoreClip(string clipDir, string referencesPath, IReadOnlyList<string> ids, IReadOnlyDictionary<string, string> predictions, int threads)
    {
        if (!Directory.Exists(referencesPath) && !referencesPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && !referencesPath.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            throw new FurnaceException($"--clip: {referencesPath} must be a dataset with images (COCO captions JSON, JSONL or a folder)");
        if (referencesPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && File.Exists(referencesPath) && File.ReadAllText(referencesPath).TrimStart().StartsWith('['))
            throw new FurnaceException($"--clip: {referencesPath} lists captions without images; CLIPScore needs a dataset with images (COCO captions JSON, JSONL or a folder)");
        return ScoreClip(clipDir, Furnace.Data.CaptionDataset.Load(referencesPath, requireImages: true), ids, predictions, threads);
    }

    public static ClipScoreResult ScoreClip(string clipDir, Furnace.Data.CaptionDataset dataset, IReadOnlyList<string> ids,
        IReadOnlyDictionary<string, string> predictions, int threads)
    {
        var items = ids.Select(id => dataset[id]).ToArray();
        using var model = Furnace.Models.Clip.ClipModel.Load(clipDir);
        var preprocessor = Furnace.Formats.Images.ImagePreprocessor.Load(clipDir);
        using var ctx = new Furnace.Tensors.KernelContext(threads);
        return ClipScore.Compute(model, preprocessor, items.Select(i => i.ImagePath).ToArray(), ids.Select(id => predictions[id]).ToArray(),
            items.Select(i => i.Captions).ToArray(), ctx);
    }

    private static IEnumerable<(string Name, double Value)> MetricRows(EvalScores s) =>
    [
        ("BLEU-1", s.Bleu1), ("BLEU-2", s.Bleu2), ("BLEU-3", s.Bleu3), ("BLEU-4", s.Bleu4),
        ("ROUGE-L", s.RougeL), ("CIDEr-D", s.CiderD),
    ];

    private static int Compare(IReadOnlyList<string> paths, string? plotPath, (int Width, int Height) plotSize)
    {
        var rows = new List<string[]>(paths.Count);
        var runs = new List<EvalComparePlot.Run>(paths.Count);
        foreach (string path in paths)
        {
            var r = EvalReport.Read(path);
            string label = r.Variant ?? r.Model ?? Path.GetFileNameWithoutExtension(path);
            runs.Add(new EvalComparePlot.Run(label, path, r));
            rows.Add(
            [
                label.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" "),
                Format(r.LatencyMsP50, "F1"), Format(r.LatencyMsP95, "F1"), Format(r.ImagesPerSecond, "F2"), Format(r.PeakRssMb, "F0"),
                F3(r.Scores.Bleu4), F3(r.Scores.RougeL), F3(r.Scores.CiderD), Format(r.Scores.ClipScore, "F3"),
            ]);
        }
        var picture = plotPath is null ? null : EvalComparePlot.Build(runs); // checks the reports before anything is printed
        string[] header = ["variant", "latency p50 (ms)", "latency p95 (ms)", "images/s", "peak memory (MB)", "BLEU-4", "ROUGE-L", "CIDEr-D", "CLIPScore"];
        int[] widths = header.Select((h, c) => Math.Max(h.Length, rows.Max(row => row[c].Length))).ToArray();
        Console.WriteLine(Row(header, widths));
        Console.WriteLine("|" + string.Join("|", widths.Select((w, c) => c == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
        foreach (var row in rows) Console.WriteLine(Row(row, widths));
        if (picture is not null)
        {
            Furnace.IO.ChartPng.Write(picture, plotPath!, plotSize.Width, plotSize.Height);
            Console.Error.WriteLine($"wrote {plotPath}");
        }
        return 0;
    }

    // "960x600" -> (960, 600)
    private static (int Width, int Height) ParseSize(string text)
    {
        string[] parts = text.Split('x', 'X');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int w) &&
            int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h) && w is >= 100 and <= 8000 && h is >= 100 and <= 8000)
            return (w, h);
        throw new FurnaceException($"--plot-size {text}: expected WIDTHxHEIGHT in pixels, each 100 to 8000 (e.g. 960x600)");
    }

    private static string Row(string[] cells, int[] widths) =>
        "| " + string.Join(" | ", cells.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))) + " |";

    private static string Format(double? value, string format) => value is double v ? v.ToString(format, CultureInfo.InvariantCulture) : "—";

    private static string F3(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
}
