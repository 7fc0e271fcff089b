// JSON shapes of the caption-metric fixtures in shared/fixtures/metrics, read with a source-generated context.
using System.Text.Json;
using System.Text.Json.Serialization;
using Furnace.Tests.Support;

namespace Furnace.Tests.Evaluation;

internal sealed record PtbVector(
    [property: JsonPropertyName("input")] string Input,
    [property: JsonPropertyName("ptb_raw_3_4_1")] string PtbRaw,
    [property: JsonPropertyName("coco_tokenized")] string CocoTokenized);

// One case of small_test_vectors_bleu_rouge_cider.json: coco-caption's gts/res dicts and its outputs.
internal sealed record ScorerVector(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("gts")] Dictionary<string, List<string>> Gts,
    [property: JsonPropertyName("res")] Dictionary<string, List<string>> Res,
    [property: JsonPropertyName("Bleu")] double[] Bleu,
    [property: JsonPropertyName("Bleu_per_image")] double[][] BleuPerImage,
    [property: JsonPropertyName("ROUGE_L")] double RougeL,
    [property: JsonPropertyName("ROUGE_L_per_image")] double[] RougeLPerImage,
    [property: JsonPropertyName("CIDEr")] double Cider,
    [property: JsonPropertyName("CIDEr_per_image")] double[] CiderPerImage,
    [property: JsonPropertyName("bleu_verbose")] string BleuVerbose);

// One image of fakecap_tokenized_spice_input.json (captions already PTB-tokenized by coco-caption).
internal sealed record FakecapImage(
    [property: JsonPropertyName("image_id")] long ImageId,
    [property: JsonPropertyName("test")] string Test,
    [property: JsonPropertyName("refs")] List<string> Refs);

internal sealed record CocoResult(
    [property: JsonPropertyName("image_id")] long ImageId,
    [property: JsonPropertyName("caption")] string Caption);

[JsonSerializable(typeof(List<PtbVector>))]
[JsonSerializable(typeof(List<ScorerVector>))]
[JsonSerializable(typeof(List<FakecapImage>))]
[JsonSerializable(typeof(List<CocoResult>))]
internal sealed partial class MetricFixtureJson : JsonSerializerContext;

internal static class MetricFixtures
{
    public static List<T> Load<T>(string fileName, System.Text.Json.Serialization.Metadata.JsonTypeInfo<List<T>> info) =>
        JsonSerializer.Deserialize(File.ReadAllText(SharedPaths.Fixtures("metrics", fileName)), info)
        ?? throw new InvalidDataException($"{fileName} is empty");

    public static List<PtbVector> PtbVectors() => Load("ptbtokenizer_3.4.1_vectors.json", MetricFixtureJson.Default.ListPtbVector);

    public static List<ScorerVector> ScorerVectors() =>
        Load("small_test_vectors_bleu_rouge_cider.json", MetricFixtureJson.Default.ListScorerVector);

    public static List<FakecapImage> Fakecap() => Load("fakecap_tokenized_spice_input.json", MetricFixtureJson.Default.ListFakecapImage);

    public static List<CocoResult> FakecapResults() =>
        Load("captions_val2014_fakecap_results.json", MetricFixtureJson.Default.ListCocoResult);
}
