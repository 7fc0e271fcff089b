// metrics.jsonl of a training run: one JSON object per line, flushed as written —
//   {"type":"train","step":12,"loss":2.31,"lr":0.0002,"grad_norm":0.84,"samples":16,"tokens":1840,"samples_per_s":3.1,"tokens_per_s":356.2,"elapsed_s":61.4,"epoch":0.37}
//   {"type":"val","step":50,"loss":2.12,"samples":64,"tokens":7001,"elapsed_s":250.9}
//   {"type":"sample","step":50,"image":"cat.jpg","caption":"a cat on a sofa"}
//   {"type":"retrieval","step":50,"split":"val","top1":0.62,"retrievals":128}   (contrastive stages)
// Opening it for a resumed run keeps only the lines up to the resumed step (a killed run may have logged steps past
// its last checkpoint, which the resumed run repeats) and drops a torn last line.
using System.Text;
using System.Text.Json;
using Furnace.IO;

namespace Furnace.Training;

public sealed class MetricsLog : IDisposable
{
    private readonly FileStream _file;
    private readonly MemoryStream _line = new();
    private readonly Utf8JsonWriter _json;
    private readonly List<(int Step, double Loss)> _train = new(), _validation = new();
    private readonly List<(int Step, double LearningRate)> _learningRate = new();

    private MetricsLog(string path, FileStream file)
    {
        Path = path;
        _file = file;
        _json = new Utf8JsonWriter(_line, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public string Path { get; }

    public IReadOnlyList<(int Step, double Loss)> TrainLoss => _train;

    public IReadOnlyList<(int Step, double Loss)> ValidationLoss => _validation;

    /// <summary>The learning rate of each logged training step (of the first unfrozen group).</summary>
    public IReadOnlyList<(int Step, double LearningRate)> LearningRate => _learningRate;

    /// <summary>Opens (creates) the log, keeping earlier lines whose step is at most keepThroughStep (0: start afresh).</summary>
    public static MetricsLog Open(string path, int keepThroughStep)
    {
        var kept = new List<string>();
        if (keepThroughStep > 0 && File.Exists(path))
            foreach (string line in File.ReadAllLines(path))
                if (StepOf(line) is int s && s <= keepThroughStep) kept.Add(line);
        AtomicFile.Write(path, s => s.Write(Encoding.UTF8.GetBytes(kept.Count == 0 ? "" : string.Join('\n', kept) + "\n")));
        var log = new MetricsLog(path, new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));
        foreach (string line in kept) log.Remember(line);
        return log;
    }

    public void Append(StepMetrics m)
    {
        Begin("train", m.Step);
        Number("loss", m.Loss);
        Number("lr", m.LearningRate);
        Number("grad_norm", m.GradNorm);
        _json.WriteNumber("samples", m.Samples);
        _json.WriteNumber("tokens", m.Tokens);
        Number("samples_per_s", Math.Round(m.SamplesPerSecond, 3));
        Number("tokens_per_s", Math.Round(m.TokensPerSecond, 2));
        Number("elapsed_s", Math.Round(m.ElapsedSeconds, 3));
        Number("epoch", Math.Round(m.Epoch, 4));
        if (m.Skipped) _json.WriteBoolean("skipped", true);
        End();
        _train.Add((m.Step, m.Loss));
        _learningRate.Add((m.Step, m.LearningRate));
    }

    public void Append(ValidationMetrics v)
    {
        Begin("val", v.Step);
        Number("loss", v.Loss);
        _json.WriteNumber("samples", v.Samples);
        _json.WriteNumber("tokens", v.Tokens);
        Number("elapsed_s", Math.Round(v.ElapsedSeconds, 3));
        End();
        _validation.Add((v.Step, v.Loss));
    }

    /// <summary>In-batch retrieval top-1 accuracy of a contrastive stage ("split": train over the step's batches, or
    /// val), over <paramref name="retrievals"/> retrievals (image→text and text→image per pair).</summary>
    public void AppendRetrieval(int step, string split, double top1, long retrievals)
    {
        Begin("retrieval", step);
        _json.WriteString("split", split);
        Number("top1", top1);
        _json.WriteNumber("retrievals", retrievals);
        End();
    }

    /// <summary>A sample caption made during training.</summary>
    public void AppendSample(int step, string image, string caption)
    {
        Begin("sample", step);
        _json.WriteString("image", image);
        _json.WriteString("caption", caption);
        End();
    }

    public void Dispose()
    {
        _json.Dispose();
        _file.Dispose();
    }

    private void Begin(string type, int step)
    {
        _line.SetLength(0);
        _json.Reset();
        _json.WriteStartObject();
        _json.WriteString("type", type);
        _json.WriteNumber("step", step);
    }

    // JSON has no NaN or infinity: a non-finite value is written as null
    private void Number(string name, double value)
    {
        if (double.IsFinite(value)) _json.WriteNumber(name, value);
        else _json.WriteNull(name);
    }

    private void End()
    {
        _json.WriteEndObject();
        _json.Flush();
        _line.WriteByte((byte)'\n');
        _file.Write(_line.GetBuffer(), 0, (int)_line.Length);
        _file.Flush();
    }

    private void Remember(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        string? type = root.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type == "train" && root.TryGetProperty("lr", out var lr) && lr.ValueKind == JsonValueKind.Number)
            _learningRate.Add((root.GetProperty("step").GetInt32(), lr.GetDouble()));
        if (!root.TryGetProperty("loss", out var l) || l.ValueKind != JsonValueKind.Number) return;
        int step = root.GetProperty("step").GetInt32();
        if (type == "train") _train.Add((step, l.GetDouble()));
        else if (type == "val") _validation.Add((step, l.GetDouble()));
    }

    // the "step" of a well-formed line, null for a torn or foreign one
    private static int? StepOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("step", out var s) && s.TryGetInt32(out int v) ? v : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
