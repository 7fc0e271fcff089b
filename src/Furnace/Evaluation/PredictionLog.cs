// The incremental predictions of `furnace eval --model` (predictions.partial.jsonl): a header line naming the run,
// then one JSON object per captioned image, each appended and flushed to disk as soon as the caption exists, so an
// interrupted run loses at most the image in flight and a rerun skips what is already there. A torn last line (the
// process killed mid-write) is dropped on reopening. At the end the captions become coco-caption's results format
// (predictions.json: [{"image_id", "caption"}]), written atomically.
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Furnace.IO;

namespace Furnace.Evaluation;

public sealed class PredictionLog : IDisposable
{
    public const string FileName = "predictions.partial.jsonl";
    private const string HeaderKey = "furnace_eval";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly FileStream _stream;
    private readonly Dictionary<string, PredictionRecord> _records;

    private PredictionLog(string path, FileStream stream, Dictionary<string, PredictionRecord> records, int resumed)
    {
        Path = path;
        _stream = stream;
        _records = records;
        Resumed = resumed;
    }

    public string Path { get; }

    /// <summary>Images that were already captioned when the log was opened.</summary>
    public int Resumed { get; }

    /// <summary>Every captioned image so far, by image id.</summary>
    public IReadOnlyDictionary<string, PredictionRecord> Records => _records;

    /// <summary>Opens the log at <paramref name="path"/>, creating it with the run's header, or continuing it when it
    /// holds the same run; a log of another run (other model, data, instruction or length) is an error.</summary>
    public static PredictionLog Open(string path, PredictionRun run)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(run);
        var records = new Dictionary<string, PredictionRecord>(StringComparer.Ordinal);
        long keep = 0;
        if (File.Exists(path))
        {
            byte[] bytes = File.ReadAllBytes(path);
            int lastNewline = Array.LastIndexOf(bytes, (byte)'\n');
            keep = lastNewline + 1; // a torn last line (no newline) is dropped
            string[] lines = Encoding.UTF8.GetString(bytes, 0, (int)keep).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length > 0)
            {
                PredictionRun found = ReadHeader(path, lines[0]);
                if (found != run)
                    throw new FurnaceException(
                        $"{path}: holds the predictions of another run ({Describe(found)}), not of this one ({Describe(run)}); use another --out or delete it");
                for (int i = 1; i < lines.Length; i++)
                {
                    var r = ReadRecord(path, i + 1, lines[i]);
                    records[r.ImageId] = r;
                }
            }
            else keep = 0;
        }
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read);
        try
        {
            stream.SetLength(keep);
            stream.Seek(keep, SeekOrigin.Begin);
            var log = new PredictionLog(path, stream, records, records.Count);
            if (keep == 0) log.WriteLine(w =>
            {
                w.WriteNumber(HeaderKey, 1);
                w.WriteString("model", run.Model);
                w.WriteString("data", run.Data);
                w.WriteString("instruction", run.Instruction);
                w.WriteNumber("max_tokens", run.MaxTokens);
            });
            return log;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Adds a caption and flushes it to disk before returning.</summary>
    public void Append(PredictionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        WriteLine(w =>
        {
            w.WriteString("image_id", record.ImageId);
            w.WriteString("caption", record.Caption);
            w.WriteNumber("ms", Math.Round(record.Milliseconds, 3));
            w.WriteNumber("tokens", record.Tokens);
        });
        _records[record.ImageId] = record;
    }

    /// <summary>Writes captions in coco-caption's results format, atomically; ids that are integers (COCO's) are
    /// written as JSON numbers, as coco.loadRes expects.</summary>
    public static void WriteResults(string path, IEnumerable<(string ImageId, string Caption)> predictions)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        AtomicFile.Write(path, s =>
        {
            using var w = new Utf8JsonWriter(s, WriterOptions with { Indented = true });
            w.WriteStartArray();
            foreach (var (id, caption) in predictions)
            {
                w.WriteStartObject();
                if (long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n.ToString(CultureInfo.InvariantCulture) == id)
                    w.WriteNumber("image_id", n);
                else w.WriteString("image_id", id);
                w.WriteString("caption", caption);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });
    }

    public void Dispose() => _stream.Dispose();

    private void WriteLine(Action<Utf8JsonWriter> body)
    {
        using (var w = new Utf8JsonWriter(_stream, WriterOptions))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        _stream.WriteByte((byte)'\n');
        _stream.Flush(flushToDisk: true);
    }

    private static string Describe(PredictionRun r) => $"model {r.Model}, data {r.Data}, max tokens {r.MaxTokens}, instruction \"{r.Instruction.ReplaceLineEndings(" ")}\"";

    private static PredictionRun ReadHeader(string path, string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(HeaderKey, out _))
                throw new FurnaceException($"{path}: line 1 is not a furnace eval header; this is not a predictions log of furnace eval --model");
            return new PredictionRun(e.GetProperty("model").GetString()!, e.GetProperty("data").GetString()!,
                e.GetProperty("instruction").GetString()!, e.GetProperty("max_tokens").GetInt32());
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new FurnaceException($"{path}: line 1 is not a valid furnace eval header ({ex.Message})");
        }
    }

    private static PredictionRecord ReadRecord(string path, int lineNumber, string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            return new PredictionRecord(e.GetProperty("image_id").GetString()!, e.GetProperty("caption").GetString()!,
                e.GetProperty("ms").GetDouble(), e.GetProperty("tokens").GetInt32());
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new FurnaceException($"{path}: line {lineNumber} is not a valid prediction ({ex.Message})");
        }
    }
}
