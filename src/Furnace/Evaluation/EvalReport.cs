// The JSON report `furnace eval` writes and `furnace eval --compare` reads (schema in docs/metrics.md, "The eval
// report"). Scores are always there; the model and performance fields are filled by runs that caption with a model
// (eval --model) and stay absent when only files were scored.
using System.Text.Json.Serialization;
using Furnace.IO;

namespace Furnace.Evaluation;

public sealed record EvalReport
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("version")]
    public int Version { get; init; } = CurrentVersion;

    /// <summary>The model that wrote the predictions (a path or name), when known.</summary>
    [JsonPropertyName("model")]
    public string? Model { get; init; }

    /// <summary>A label for this run in comparisons (e.g. "q4_0, 2 threads").</summary>
    [JsonPropertyName("variant")]
    public string? Variant { get; init; }

    [JsonPropertyName("predictions")]
    public string? Predictions { get; init; }

    [JsonPropertyName("references")]
    public string? References { get; init; }

    [JsonPropertyName("pretokenized")]
    public bool Pretokenized { get; init; }

    /// <summary>Number of images scored.</summary>
    [JsonPropertyName("images")]
    public required int Images { get; init; }

    [JsonPropertyName("scores")]
    public required EvalScores Scores { get; init; }

    [JsonPropertyName("bleu_stats")]
    public BleuStatistics? BleuStats { get; init; }

    /// <summary>Median time to caption one image, in milliseconds.</summary>
    [JsonPropertyName("latency_ms_p50")]
    public double? LatencyMsP50 { get; init; }

    [JsonPropertyName("latency_ms_p95")]
    public double? LatencyMsP95 { get; init; }

    /// <summary>Throughput over the whole run, images per second.</summary>
    [JsonPropertyName("images_per_s")]
    public double? ImagesPerSecond { get; init; }

    /// <summary>Peak resident memory of the process, in MiB.</summary>
    [JsonPropertyName("peak_rss_mb")]
    public double? PeakRssMb { get; init; }

    /// <summary>Per image, in scoring order.</summary>
    [JsonPropertyName("per_image")]
    public IReadOnlyList<EvalImageScores>? PerImage { get; init; }

    /// <summary>The report of a scored set of predictions (no model or performance fields).</summary>
    public static EvalReport From(CaptionEvaluation evaluation, IReadOnlyDictionary<string, string> predictions)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        ArgumentNullException.ThrowIfNull(predictions);
        var perImage = evaluation.ImageIds.Select(id =>
        {
            var s = evaluation.PerImage[id];
            return new EvalImageScores(id, predictions[id], s.Bleu1, s.Bleu2, s.Bleu3, s.Bleu4, s.RougeL, s.CiderD);
        }).ToArray();
        return new EvalReport
        {
            Images = evaluation.ImageIds.Count,
            Scores = EvalScores.From(evaluation.Corpus),
            BleuStats = BleuStatistics.From(evaluation.Bleu),
            PerImage = perImage,
        };
    }

    /// <summary>This report with CLIPScore (and RefCLIPScore when computed) added; per-image scores are in
    /// <see cref="PerImage"/>'s order.</summary>
    public EvalReport WithClipScores(ClipScoreResult clip)
    {
        ArgumentNullException.ThrowIfNull(clip);
        if (PerImage is not null && PerImage.Count != clip.ClipScore.PerImage.Count)
            throw new ArgumentException($"{clip.ClipScore.PerImage.Count} CLIPScores for {PerImage.Count} images");
        return this with
        {
            Scores = Scores with { ClipScore = clip.ClipScore.Corpus, RefClipScore = clip.RefClipScore?.Corpus },
            PerImage = PerImage?.Select((s, i) => s with
            {
                ClipScore = clip.ClipScore.PerImage[i],
                RefClipScore = clip.RefClipScore?.PerImage[i],
            }).ToArray(),
        };
    }

    /// <summary>This report with the count/colour/position phrase accuracies (PhraseAccuracy) of the predictions.</summary>
    public EvalReport WithPhraseAccuracy(IReadOnlyDictionary<string, IReadOnlyList<string>> references, IReadOnlyDictionary<string, string> predictions)
    {
        var p = PhraseAccuracy.Compute(references, predictions);
        return this with { Scores = Scores with { CountAccuracy = p.Count, ColourAccuracy = p.Colour, PositionAccuracy = p.Position } };
    }

    public static EvalReport Read(string path)
    {
        byte[] json = JsonInput.ReadAllBytes(path);
        if (JsonInput.FirstChar(json) != '{')
            throw new FurnaceFormatException(path, "not an eval report (expected the JSON object that furnace eval --out writes)");
        var report = JsonInput.Parse(json, EvaluationJsonContext.Default.EvalReport, path);
        if (report.Version > CurrentVersion)
            throw new FurnaceFormatException(path, $"eval report version {report.Version} is newer than this furnace reads ({CurrentVersion})");
        if (report.Scores is null) throw new FurnaceFormatException(path, "eval report has no \"scores\"");
        return report;
    }

    /// <summary>Writes the report as indented JSON, atomically (temporary file, then rename).</summary>
    public void Write(string path) =>
        AtomicFile.Write(path, stream => System.Text.Json.JsonSerializer.Serialize(stream, this, EvaluationJsonContext.Default.EvalReport));
}
