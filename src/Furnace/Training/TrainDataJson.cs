// train.json "data": training and validation files (LLaVA conversation JSON, COCO captions JSON, captions JSONL or a
// folder of images with .txt captions) and how captions become conversations.
using System.Text.Json.Serialization;

namespace Furnace.Training;

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TrainDataJson
{
    public string? Train { get; init; }
    public string? Val { get; init; }
    public double? ValSplit { get; init; }
    public string? ImageFolder { get; init; }
    public string? Lang { get; init; }
    public string? Instruction { get; init; }
    public string? Captions { get; init; }
    public int? MaxLength { get; init; }
    public bool? Shuffle { get; init; }
}
