// One header entry of a safetensors file, whatever its dtype: what `furnace info` lists. Type is null for dtypes
// Furnace does not compute with (I64 position_ids, U8 masks, FP8 weights...); such tensors are skipped by
// ITensorSource.Entries and reported by name when requested.
using Furnace.Tensors;

namespace Furnace.Formats.SafeTensors;

/// <param name="Shape">row-major, outermost first (PyTorch order); empty for a scalar.</param>
/// <param name="Offset">absolute byte offset of the data in the file (8 + header length + data_offsets[0]).</param>
public sealed record SafeTensorInfo(string Name, string DTypeName, long[] Shape, long Offset, long ByteLength)
{
    public DType? Type => SafeTensorsDTypes.ToDType(DTypeName);

    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
