// One image of a source package with the captions made from its real names/annotations.
namespace Furnace.Data.Builders;

/// <param name="Id">Unique within the dataset; becomes images/ID.png and the JSONL "id" (file-name safe).</param>
/// <param name="Path">The source file: .svg (rasterised with rsvg-convert) or a bitmap SkiaSharp decodes.</param>
/// <param name="Captions">English captions, at least one.</param>
/// <param name="CaptionsZh">Chinese captions from real Chinese names, or null where none exists.</param>
/// <param name="Credit">The author the licence asks to credit, when the source names one per image.</param>
public sealed record SourceImage(
    string Id,
    string Path,
    IReadOnlyList<string> Captions,
    IReadOnlyList<string>? CaptionsZh = null,
    string? Credit = null);
