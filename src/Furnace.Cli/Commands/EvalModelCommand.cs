// `furnace eval --model M --data D`: captions every image of a dataset with a vision-language model (the Captioner
// that `furnace caption` uses, greedy), logs each caption to OUT/predictions.partial.jsonl as it is made (a rerun
// with the same --out resumes; Ctrl-C finishes cleanly with exit code 130), then scores the captions as coco-caption
// does and writes OUT/predictions.json (coco-caption results), OUT/report.json (EvalReport with latency, throughput
// and memory) and OUT/report.html (a page to read the run image by image).
// Under mpirun the images still to caption are dealt out in rounds of N (image k of a round to rank k); rank 0
// gathers each round's captions, logs them in dataset order and alone scores and writes the outputs, which equal a
// single process's (greedy captions do not depend on the rank; the latency fields are the ranks' own per image).
using System.Diagnostics;
using Furnace.Distributed;
using System.Globalization;
using Furnace.Data;
using Furnace.Evaluation;
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal sealed record EvalModelArgs(
    string Model,
    string Data,
    int? Limit,
    string Lang,
    string? Prompt,
    int MaxTokens,
    int Threads,
    string? Out,
    string? Variant,
    string? Clip,
    bool Phrases = false);

internal static class EvalModelCommand
{
    public const int ExitInterrupted = InterruptSignals.ExitInterrupted;
    private const int ThumbnailSide = 128;

    public static int Run(EvalModelArgs a, Func<LlavaModel> openModel, string modelLabel, ICommunicator? comm = null)
    {
        comm ??= SingleProcess.Instance;
        if (comm.Size > 1) return RunDistributed(a, openModel, modelLabel, comm);
        if (a.Limit is int l && l < 1) throw new FurnaceException($"--limit {l} must be at least 1");
        string instruction = CaptionInstruction.For(a.Lang, a.Prompt);
        var options = new GenerationOptions { MaxTokens = a.MaxTokens, Sampling = SamplingOptions.Greedy }.Validated();

        var dataset = CaptionDataset.Load(a.Data, requireImages: false);
        var items = dataset.Items.Take(a.Limit ?? int.MaxValue).ToArray();
        foreach (var item in items)
        {
            if (!File.Exists(item.ImagePath)) throw new FurnaceException($"{a.Data}: image {item.Id}: file {item.ImagePath} not found");
        }

        string outDir = a.Out ?? $"eval-{DatasetName(a.Data)}-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}";
        if (File.Exists(outDir)) throw new FurnaceException($"--out {outDir}: is a file; eval --model writes a directory (predictions.json, report.json, report.html)");
        Directory.CreateDirectory(outDir);

        using LlavaModel model = openModel();
        var captioner = new Captioner(model, instruction, options);
        var run = new PredictionRun(modelLabel, Path.GetFullPath(a.Data), captioner.Instruction, options.MaxTokens);
        string partialPath = Path.Combine(outDir, PredictionLog.FileName);
        using var log = PredictionLog.Open(partialPath, run);

        var todo = items.Where(i => !log.Records.ContainsKey(i.Id)).ToArray();
        int done = items.Length - todo.Length;
        if (log.Resumed > 0)
            Console.Error.WriteLine($"resuming {partialPath}: {done} of {items.Length} images already captioned, {todo.Length} to go");
        Console.Error.WriteLine($"captioning {todo.Length} images of {a.Data} with {modelLabel}");

        var progress = new ProgressLine(items.Length, done, "images");
        int captioned = 0;
        var signals = new InterruptSignals();
        try
        {
            using var ctx = new KernelContext(a.Threads);
            foreach (var item in todo)
            {
                signals.Token.ThrowIfCancellationRequested();
                var sw = Stopwatch.StartNew();
                RgbImage image = LoadImage(a.Data, item);
                var (caption, res) = captioner.Caption(image, ctx, signals.Token);
                double ms = sw.Elapsed.TotalMilliseconds;
                log.Append(new PredictionRecord(item.Id, caption, ms, res.GeneratedTokens));
                captioned++;
                progress.Report(++done);
            }
        }
        catch (OperationCanceledException) when (signals.Interrupted)
        {
            progress.Break();
            Console.Error.WriteLine($"furnace: interrupted: {done} of {items.Length} images captioned ({captioned} in this run), kept in {partialPath}; run the same command with --out {outDir} to resume");
            return signals.ExitCode;
        }
        finally
        {
            // scoring and the report are quick: from here a signal ends the process as usual
            signals.Dispose();
        }
        if (todo.Length == 0 && items.Length > 0) progress.Report(done);
        Console.Error.WriteLine($"captioned {captioned} images in this run ({log.Resumed} resumed)");
        return WriteOutputs(a, dataset, items, log, captioner.Instruction, options, outDir, modelLabel);
    }

    // the distributed run: rank 0 owns the log and the outputs; every rank captions its share of each round
    private static int RunDistributed(EvalModelArgs a, Func<LlavaModel> openModel, string modelLabel, ICommunicator comm)
    {
        if (a.Limit is int l && l < 1) throw new FurnaceException($"--limit {l} must be at least 1");
        string instruction = CaptionInstruction.For(a.Lang, a.Prompt);
        var options = new GenerationOptions { MaxTokens = a.MaxTokens, Sampling = SamplingOptions.Greedy }.Validated();
        var dataset = CaptionDataset.Load(a.Data, requireImages: false);
        var items = dataset.Items.Take(a.Limit ?? int.MaxValue).ToArray();
        foreach (var item in items)
        {
            if (!File.Exists(item.ImagePath)) throw new FurnaceException($"{a.Data}: image {item.Id}: file {item.ImagePath} not found");
        }
        bool root = comm.Rank == 0;
        // one output folder for the job: rank 0's name (a default name holds rank 0's clock)
        string outDir = System.Text.Encoding.UTF8.GetString(comm.Broadcast(root
            ? System.Text.Encoding.UTF8.GetBytes(a.Out ?? $"eval-{DatasetName(a.Data)}-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}")
            : null, "output folder"));
        if (root)
        {
            if (File.Exists(outDir)) throw new FurnaceException($"--out {outDir}: is a file; eval --model writes a directory (predictions.json, report.json, report.html)");
            Directory.CreateDirectory(outDir);
        }

        using LlavaModel model = openModel();
        var captioner = new Captioner(model, instruction, options);
        var run = new PredictionRun(modelLabel, Path.GetFullPath(a.Data), captioner.Instruction, options.MaxTokens);
        using PredictionLog? log = root ? PredictionLog.Open(Path.Combine(outDir, PredictionLog.FileName), run) : null;
        // the images still to do, as rank 0's log has it
        byte[] todoBytes = comm.Broadcast(root
            ? System.Runtime.InteropServices.MemoryMarshal.AsBytes(Enumerable.Range(0, items.Length).Where(i => !log!.Records.ContainsKey(items[i].Id)).ToArray().AsSpan()).ToArray()
            : null, "images to caption");
        int[] todo = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(todoBytes).ToArray();
        int done = items.Length - todo.Length;
        ProgressLine? progress = null;
        if (root)
        {
            if (log!.Resumed > 0) Console.Error.WriteLine($"resuming {log.Path}: {done} of {items.Length} images already captioned, {todo.Length} to go");
            Console.Error.WriteLine($"captioning {todo.Length} images of {a.Data} with {modelLabel} on {comm.Size} MPI ranks");
            progress = new ProgressLine(items.Length, done, "images");
        }
        var fault = FaultInjection.FromEnvironment();
        var signals = new InterruptSignals();
        var stop = new double[1];
        int rounds = 0;
        try
        {
            using var ctx = new KernelContext(a.Threads);
            for (int start = 0; start < todo.Length; start += comm.Size)
            {
                var round = todo.AsSpan(start, Math.Min(comm.Size, todo.Length - start)).ToArray();
                // each rank captions round[rank]; "ms \t tokens \t caption" comes back in round order
                string[] results = comm.Shard(round, i =>
                {
                    var sw = Stopwatch.StartNew();
                    var (caption, res) = captioner.Caption(LoadImage(a.Data, items[i]), ctx, CancellationToken.None);
                    return string.Create(CultureInfo.InvariantCulture, $"{sw.Elapsed.TotalMilliseconds:R}\t{res.GeneratedTokens}\t{caption}");
                }, "caption gather");
                if (root)
                    for (int k = 0; k < round.Length; k++)
                    {
                        string[] f = results[k].Split('\t', 3);
                        log!.Append(new PredictionRecord(items[round[k]].Id, f[2], double.Parse(f[0], CultureInfo.InvariantCulture), int.Parse(f[1], CultureInfo.InvariantCulture)));
                        progress!.Report(++done);
                    }
                fault?.AfterStep(comm.Rank, ++rounds);
                // a stop request on any rank stops every rank after this round
                stop[0] = signals.Interrupted ? 1 : 0;
                comm.SumInPlace(stop, "stop agreement");
                if (stop[0] > 0)
                {
                    progress?.Break();
                    if (root) Console.Error.WriteLine($"furnace: interrupted: {done} of {items.Length} images captioned, kept in {log!.Path}; run the same command with --out {outDir} to resume");
                    return signals.ExitCode;
                }
            }
        }
        finally
        {
            signals.Dispose();
        }
        if (!root) return 0;
        if (todo.Length == 0 && items.Length > 0) progress!.Report(done);
        Console.Error.WriteLine($"captioned {todo.Length} images in this run ({log!.Resumed} resumed)");
        return WriteOutputs(a, dataset, items, log, captioner.Instruction, options, outDir, modelLabel);
    }

    // predictions.json, report.json and report.html of the captioned items, and the scores on stdout
    private static int WriteOutputs(EvalModelArgs a, CaptionDataset dataset, CaptionItem[] items, PredictionLog log, string instruction,
        GenerationOptions options, string outDir, string modelLabel)
    {
        var records = items.Select(i => log.Records[i.Id]).ToArray();
        string predictionsPath = Path.Combine(outDir, "predictions.json");
        PredictionLog.WriteResults(predictionsPath, records.Select(r => (r.ImageId, r.Caption)));

        var predictions = new Dictionary<string, string>(records.Length, StringComparer.Ordinal);
        foreach (var r in records) predictions.Add(r.ImageId, r.Caption);
        var references = dataset.References();
        var evaluation = CaptionEvaluator.Evaluate(references, predictions);
        double[] latencies = records.Select(r => r.Milliseconds).ToArray();
        var report = EvalReport.From(evaluation, predictions) with
        {
            Model = modelLabel,
            Variant = a.Variant,
            Predictions = Path.GetFullPath(predictionsPath),
            References = Path.GetFullPath(a.Data),
            LatencyMsP50 = Math.Round(Percentile(latencies, 50), 3),
            LatencyMsP95 = Math.Round(Percentile(latencies, 95), 3),
            ImagesPerSecond = Math.Round(records.Length / Math.Max(latencies.Sum() / 1000, 1e-9), 4),
            PeakRssMb = Math.Round(Furnace.Benchmarking.PeakMemory.RssBytes() / 1048576.0, 1),
        };
        if (a.Clip is not null)
            report = report.WithClipScores(EvalCommand.ScoreClip(a.Clip, dataset, evaluation.ImageIds, predictions, a.Threads));
        if (a.Phrases) report = report.WithPhraseAccuracy(references, predictions);
        string reportPath = Path.Combine(outDir, "report.json");
        report.Write(reportPath);

        var thumbnails = new Dictionary<string, string>(items.Length, StringComparer.Ordinal);
        foreach (var item in items) thumbnails[item.Id] = ImageThumbnail.JpegDataUrl(LoadImage(a.Data, item), ThumbnailSide);
        var facts = new List<(string, string)>
        {
            ("model", modelLabel),
            ("dataset", Path.GetFullPath(a.Data)),
            ("images", $"{items.Length} of {dataset.Count}"),
            ("instruction", instruction),
            ("max tokens", options.MaxTokens.ToString(CultureInfo.InvariantCulture) + " (greedy)"),
            ("latency per image", string.Create(CultureInfo.InvariantCulture, $"p50 {report.LatencyMsP50:F1} ms, p95 {report.LatencyMsP95:F1} ms")),
            ("throughput", string.Create(CultureInfo.InvariantCulture, $"{report.ImagesPerSecond:F2} images/s, {a.Threads} threads")),
            ("peak memory", string.Create(CultureInfo.InvariantCulture, $"{report.PeakRssMb:F0} MB")),
        };
        if (a.Variant is not null) facts.Insert(1, ("variant", a.Variant));
        string htmlPath = Path.Combine(outDir, "report.html");
        var charts = new List<(string, string)>
        {
            ("Per-image CIDEr-D (the corpus score dashed)", Furnace.IO.ChartPng.DataUrl(EvalReportCharts.ScoreDistribution(report), EvalReportCharts.Width, EvalReportCharts.Height)),
            ("Caption latency per image (p50 and p95 dashed)", Furnace.IO.ChartPng.DataUrl(
                EvalReportCharts.LatencyHistogram(latencies, report.LatencyMsP50!.Value, report.LatencyMsP95!.Value), EvalReportCharts.Width, EvalReportCharts.Height)),
        };
        string html = EvalHtmlReport.Render($"furnace eval: {Path.GetFileName(Path.TrimEndingDirectorySeparator(modelLabel))} on {DatasetName(a.Data)}",
            report, references, thumbnails, facts, charts);
        Furnace.IO.AtomicFile.Write(htmlPath, s => s.Write(System.Text.Encoding.UTF8.GetBytes(html)));

        EvalCommand.PrintScores(report);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"latency p50 {report.LatencyMsP50:F1} ms, p95 {report.LatencyMsP95:F1} ms; {report.ImagesPerSecond:F2} images/s; peak RSS {report.PeakRssMb:F0} MB"));
        Console.WriteLine($"wrote {predictionsPath}, {reportPath}, {htmlPath}");
        return 0;
    }

    private static RgbImage LoadImage(string data, CaptionItem item)
    {
        try
        {
            return ImageDecoder.Load(item.ImagePath);
        }
        catch (FurnaceException e)
        {
            throw new FurnaceException($"{data}: image {item.Id}: {e.Message}");
        }
    }

    // a folder's name; a file's name without extension, or its folder's when the file is generically named (captions.json)
    internal static string DatasetName(string data)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(data));
        if (Directory.Exists(full)) return Path.GetFileName(full);
        string stem = Path.GetFileNameWithoutExtension(full);
        string? parent = Path.GetFileName(Path.GetDirectoryName(full));
        bool generic = stem.StartsWith("captions", StringComparison.OrdinalIgnoreCase) || stem is "data" or "dataset" or "references" or "annotations" or "test" or "val";
        return generic && !string.IsNullOrEmpty(parent) ? parent : stem;
    }

    // linear interpolation between closest ranks (numpy.percentile's default)
    internal static double Percentile(double[] values, double p)
    {
        if (values.Length == 0) return 0;
        var sorted = values.Order().ToArray();
        double rank = p / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
