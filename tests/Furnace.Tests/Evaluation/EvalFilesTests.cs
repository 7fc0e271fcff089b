// The files of `furnace eval`: predictions (coco-caption results, fakecap), references in every accepted form, and
// the eval report's JSON round trip.
using System.Text.Json;
using Furnace.Evaluation;
using Furnace.Tests.Support;

namespace Furnace.Tests.Evaluation;

public sealed class EvalFilesTests
{
    private static string Write(TempDir dir, string name, string content)
    {
        string path = dir.File(name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Predictions_CocoResultsAndFakecap_ReadTheSameIdsInOrder()
    {
        var results = PredictionFile.Read(SharedPaths.Fixtures("metrics", "captions_val2014_fakecap_results.json"));
        var fakecap = PredictionFile.Read(SharedPaths.Fixtures("metrics", "fakecap_tokenized_spice_input.json"));
        Assert.Equal(1000, results.Count);
        Assert.Equal(results.Keys.Order(), fakecap.Keys.Order());
        Assert.Equal("black and white photo of a man standing in front of a building", results["404464"]);
        Assert.Equal("404464", results.Keys.First());
    }

    [Theory]
    [InlineData("""[{"image_id": 1, "caption": "a"}, {"image_id": 2, "caption": " "}]""", "image 2: empty caption ([1])")]
    [InlineData("""[{"image_id": 1, "caption": "a"}, {"image_id": "1", "caption": "b"}]""", "image 1 has two predictions ([0] and [1])")]
    [InlineData("""[{"image_id": 1, "text": "a"}]""", "[0] (image 1) has no \"caption\"")]
    [InlineData("""[{"caption": "a"}]""", "[0] has no \"image_id\"")]
    [InlineData("""[{"image_id": 1, "caption": "a"},]x""", "malformed JSON at line 1")]
    [InlineData("""{"annotations": []}""", "not a predictions file")]
    [InlineData("""[]""", "no predictions")]
    public void Predictions_Errors_NameFileAndImage(string content, string expected)
    {
        using var dir = new TempDir();
        string path = Write(dir, "pred.json", content);
        var e = Assert.ThrowsAny<FurnaceException>(() => PredictionFile.Read(path));
        Assert.StartsWith($"{path}: {expected}", e.Message);
    }

    [Fact]
    public void References_EveryForm_ReadsCaptionsWithoutNeedingImages()
    {
        using var dir = new TempDir();
        string coco = Write(dir, "c.json", """{"images": [{"id": 5, "file_name": "missing.jpg"}], "annotations": [{"image_id": 5, "caption": "a b"}]}""");
        string jsonl = Write(dir, "c.jsonl", """{"id": 5, "image": "missing.jpg", "captions": ["a b", "c"]}""");
        string fakecap = Write(dir, "f.json", """[{"image_id": 5, "test": "x", "refs": ["a b"]}]""");
        Assert.Equal(["a b"], ReferenceFile.Read(coco)["5"]);
        Assert.Equal(["a b", "c"], ReferenceFile.Read(jsonl)["5"]);
        Assert.Equal(["a b"], ReferenceFile.Read(fakecap)["5"]);
        Assert.Equal(239, ReferenceFile.Read(SharedPaths.Data("coco-mini", "captions.json")).Count);
    }

    [Theory]
    [InlineData("""[{"image_id": 5, "caption": "x"}]""", "[0] (image 5) has no \"refs\"")]
    [InlineData("""[{"image_id": 5, "refs": []}]""", "image 5: empty reference list ([0])")]
    [InlineData("""[{"image_id": 5, "refs": ["a", ""]}]""", "image 5: empty reference caption ([0])")]
    [InlineData("""[{"image_id": 5, "refs": ["a"]}, {"image_id": 5, "refs": ["b"]}]""", "duplicate image id 5 ([1])")]
    public void References_ArrayErrors_NameFileAndImage(string content, string expected)
    {
        using var dir = new TempDir();
        string path = Write(dir, "refs.json", content);
        Assert.StartsWith($"{path}: {expected}", Assert.ThrowsAny<FurnaceException>(() => ReferenceFile.Read(path)).Message);
    }

    [Fact]
    public void Report_WriteThenRead_RoundTripsAndOmitsAbsentOptionalFields()
    {
        var refs = new Dictionary<string, IReadOnlyList<string>> { ["1"] = ["a dog on a bed"], ["2"] = ["two cats on a sofa"] };
        var preds = new Dictionary<string, string> { ["1"] = "A dog on a bed.", ["2"] = "a cat" };
        var report = EvalReport.From(CaptionEvaluator.Evaluate(refs, preds), preds) with { Variant = "v1" };
        using var dir = new TempDir();
        string path = dir.File("r.json");
        report.Write(path);

        using (var doc = JsonDocument.Parse(File.ReadAllText(path)))
        {
            var root = doc.RootElement;
            Assert.Equal(1, root.GetProperty("version").GetInt32());
            Assert.Equal(2, root.GetProperty("images").GetInt32());
            Assert.Equal(report.Scores.CiderD, root.GetProperty("scores").GetProperty("CIDEr").GetDouble());
            Assert.Equal("A dog on a bed.", root.GetProperty("per_image")[0].GetProperty("caption").GetString());
            Assert.Equal(1.0, root.GetProperty("per_image")[0].GetProperty("ROUGE_L").GetDouble(), 12);
            foreach (string absent in new[] { "model", "latency_ms_p50", "latency_ms_p95", "images_per_s", "peak_rss_mb" })
                Assert.False(root.TryGetProperty(absent, out _), absent);
        }

        var back = EvalReport.Read(path);
        Assert.Equal(report.Scores, back.Scores);
        Assert.Equal("v1", back.Variant);
        Assert.Equal(report.PerImage, back.PerImage);
        Assert.Null(back.LatencyMsP50);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Theory]
    [InlineData("""{"version": 1, "images": 3}""", "malformed JSON")]
    [InlineData("""{"version": 9, "images": 1, "scores": {"Bleu_4": 0.1}}""", "eval report version 9 is newer")]
    [InlineData("""not json""", "not an eval report")]
    public void Report_Read_BadFiles_NameTheFile(string content, string expected)
    {
        using var dir = new TempDir();
        string path = Write(dir, "r.json", content);
        Assert.StartsWith($"{path}: {expected}", Assert.ThrowsAny<FurnaceException>(() => EvalReport.Read(path)).Message);
    }
}
