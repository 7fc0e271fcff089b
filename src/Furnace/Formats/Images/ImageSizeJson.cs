// The raw "size"/"crop_size" value of a preprocessor_config.json: either a bare integer (older configs) or an
// object with shortest_edge / longest_edge / height / width. What a bare integer means depends on the processor
// (transformers' get_size_dict: CLIP's size -> shortest_edge, crop sizes and SigLIP -> square).
using System.Text.Json.Serialization;

namespace Furnace.Formats.Images;

[JsonConverter(typeof(ImageSizeJsonConverter))]
public sealed record ImageSizeJson
{
    /// <summary>Set when the JSON value was a bare integer.</summary>
    public int? Bare { get; init; }

    public int? ShortestEdge { get; init; }

    public int? LongestEdge { get; init; }

    public int? Height { get; init; }

    public int? Width { get; init; }
}
