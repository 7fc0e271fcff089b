// A checkpoint that can also hand out tensors of dtypes Furnace does not compute with (int32 qweight/qzeros/g_idx
// of GPTQ and AWQ checkpoints), as their dtype name and raw little-endian bytes in the mapped file.
using Furnace.Tensors;

namespace Furnace.Formats.Weights;

/// <param name="DTypeName">the format's own dtype name ("I32", "F16", …).</param>
/// <param name="Offset">absolute byte offset of the data in <paramref name="File"/>.</param>
public sealed record RawTensorEntry(string Name, string DTypeName, long[] Shape, MappedFile File, long Offset, long ByteLength)
{
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

public interface IRawTensorSource
{
    RawTensorEntry? FindRaw(string name);
}
