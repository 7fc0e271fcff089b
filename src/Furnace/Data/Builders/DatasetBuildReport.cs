// What a build produced: counts for the CLI summary and dataset.json.
namespace Furnace.Data.Builders;

/// <param name="Images">Images written (all splits).</param>
/// <param name="WithChinese">Images that have at least one Chinese caption.</param>
/// <param name="Skipped">Source images left out because they could not be rasterised.</param>
/// <param name="Splits">Split name → JSONL file name and line count ("train" → captions.jsonl for most builders).</param>
public sealed record DatasetBuildReport(
    string Name,
    string OutDir,
    int Images,
    int WithChinese,
    int Skipped,
    IReadOnlyDictionary<string, (string File, int Count)> Splits);
