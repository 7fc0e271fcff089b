// train.json "model": a LLaVA directory, or the parts to compose (vision encoder + decoder, optional projector).
using System.Text.Json.Serialization;

namespace Furnace.Training;

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TrainModelJson
{
    public string? Llava { get; init; }
    public string? Vision { get; init; }
    public string? Decoder { get; init; }
    public string? Projector { get; init; }
    public string? ProjectorType { get; init; }
}
