// PredictionLog, the incremental predictions of `furnace eval --model`: records survive reopening, a torn last line
// is dropped, a log of another run is refused, and the results file is coco-caption's format with integer ids as
// numbers.
using System.Text.Json;
using Furnace.Evaluation;
using Furnace.Tests.Support;

namespace Furnace.Tests.Evaluation;

public sealed class PredictionLogTests
{
    private static readonly PredictionRun Run = new("/m", "/d.json", "<image>\nDescribe.", 16);

    [Fact]
    public void Reopen_KeepsRecords_AndDropsATornLine()
    {
        using var dir = new TempDir();
        string path = dir.File(PredictionLog.FileName);
        using (var log = PredictionLog.Open(path, Run))
        {
            Assert.Equal(0, log.Resumed);
            log.Append(new PredictionRecord("1", "a cat, \"quoted\" 猫", 12.5, 4));
            log.Append(new PredictionRecord("b", "a dog", 8, 3));
        }
        File.AppendAllText(path, "{\"image_id\":\"c\",\"cap");
        using (var log = PredictionLog.Open(path, Run))
        {
            Assert.Equal(2, log.Resumed);
            Assert.Equal(new PredictionRecord("1", "a cat, \"quoted\" 猫", 12.5, 4), log.Records["1"]);
            log.Append(new PredictionRecord("c", "a bird", 1, 1));
        }
        string[] lines = File.ReadAllLines(path);
        Assert.Equal(4, lines.Length);
        Assert.All(lines, l => JsonDocument.Parse(l).Dispose());
    }

    [Fact]
    public void AnotherRun_IsRefused()
    {
        using var dir = new TempDir();
        string path = dir.File(PredictionLog.FileName);
        using (PredictionLog.Open(path, Run))
        {
        }
        var e = Assert.Throws<FurnaceException>(() => PredictionLog.Open(path, Run with { MaxTokens = 32 }));
        Assert.Contains("another run", e.Message);
    }

    [Fact]
    public void WriteResults_IntegerIdsAsNumbers()
    {
        using var dir = new TempDir();
        string path = dir.File("predictions.json");
        PredictionLog.WriteResults(path, [("42", "a cat"), ("007", "a spy"), ("x1", "a thing")]);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var e = doc.RootElement.EnumerateArray().ToArray();
        Assert.Equal(42, e[0].GetProperty("image_id").GetInt64());
        Assert.Equal("007", e[1].GetProperty("image_id").GetString());
        Assert.Equal("x1", e[2].GetProperty("image_id").GetString());
        var read = PredictionFile.Read(path);
        Assert.Equal(["42", "007", "x1"], read.Keys.ToArray());
    }
}
