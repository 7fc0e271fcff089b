// `furnace eval --clip`: CLIPScore and RefCLIPScore from a tiny random CLIP checkpoint and real COCO photos
// (evaluation use) through the CLI, equal to the library's ClipScore.Compute; the report keeps its other scores and
// gains the optional fields; references without images are refused with one line.
using System.Text.Json;
using Furnace.Evaluation;
using Furnace.Formats.Images;
using Furnace.Models.Clip;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Cli.Tests;

public sealed class EvalClipCliTests
{
    private static readonly string[] Captions = ["a dog runs on the grass", "two people ride a bus"];

    private static readonly string[][] Refs = [["a dog on a lawn", "a brown dog running"], ["people on a bus", "a red bus"]];

    private static (string Dataset, string Predictions, string[] Images) WriteInputs(TempDir dir)
    {
        string[] images = SharedPaths.CocoPhotos().Take(2).ToArray();
        var lines = images.Select((img, i) => JsonSerializer.Serialize(new Dictionary<string, object> { ["image"] = img, ["id"] = $"img{i}", ["captions"] = Refs[i] }));
        File.WriteAllLines(dir.File("refs.jsonl"), lines);
        File.WriteAllText(dir.File("pred.json"), JsonSerializer.Serialize(Captions.Select((c, i) => new Dictionary<string, string> { ["image_id"] = $"img{i}", ["caption"] = c })));
        return (dir.File("refs.jsonl"), dir.File("pred.json"), images);
    }

    [Fact]
    public void EvalClip_AddsClipScoresEqualToTheLibrary()
    {
        using var dir = new TempDir();
        string clip = dir.File("clip");
        TinyClipCheckpoint.Write(clip);
        var (dataset, predictions, images) = WriteInputs(dir);
        string report = dir.File("report.json");

        var r = FurnaceProcess.Run("eval", "-p", predictions, "-r", dataset, "--clip", clip, "--threads", "1", "-o", report);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("| CLIPScore |", r.Stdout);
        Assert.Contains("| RefCLIPScore |", r.Stdout);

        ClipScoreResult expected;
        using (var model = ClipModel.Load(clip))
        using (var ctx = new KernelContext(1))
            expected = ClipScore.Compute(model, ImagePreprocessor.Load(clip), images, Captions, Refs, ctx);

        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        var scores = doc.RootElement.GetProperty("scores");
        Assert.Equal(expected.ClipScore.Corpus, scores.GetProperty("CLIPScore").GetDouble(), 1e-12);
        Assert.Equal(expected.RefClipScore!.Corpus, scores.GetProperty("RefCLIPScore").GetDouble(), 1e-12);
        Assert.True(scores.TryGetProperty("CIDEr", out _));
        var perImage = doc.RootElement.GetProperty("per_image");
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal($"img{i}", perImage[i].GetProperty("image_id").GetString());
            Assert.Equal(expected.ClipScore.PerImage[i], perImage[i].GetProperty("CLIPScore").GetDouble(), 1e-12);
            Assert.Equal(expected.RefClipScore.PerImage[i], perImage[i].GetProperty("RefCLIPScore").GetDouble(), 1e-12);
        }

        // --compare still reads the report
        var c = FurnaceProcess.Run("eval", "--compare", report);
        Assert.True(c.ExitCode == 0, c.Stderr);
    }

    [Fact]
    public void EvalWithoutClip_ReportHasNoClipFields()
    {
        using var dir = new TempDir();
        var (dataset, predictions, _) = WriteInputs(dir);
        string report = dir.File("report.json");
        var r = FurnaceProcess.Run("eval", "-p", predictions, "-r", dataset, "-o", report);
        Assert.True(r.ExitCode == 0, r.Stderr);
        string json = File.ReadAllText(report);
        Assert.DoesNotContain("CLIPScore", json, StringComparison.Ordinal);
        Assert.DoesNotContain("CLIPScore", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void EvalClip_ReferencesWithoutImages_IsOneLineError()
    {
        using var dir = new TempDir();
        string clip = dir.File("clip");
        TinyClipCheckpoint.Write(clip);
        var (_, predictions, _) = WriteInputs(dir);
        File.WriteAllText(dir.File("refs.json"), JsonSerializer.Serialize(Refs.Select((refs, i) => new Dictionary<string, object> { ["image_id"] = $"img{i}", ["refs"] = refs })));
        var r = FurnaceProcess.Run("eval", "-p", predictions, "-r", dir.File("refs.json"), "--clip", clip);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("CLIPScore needs a dataset with images", r.Stderr);
    }
}
