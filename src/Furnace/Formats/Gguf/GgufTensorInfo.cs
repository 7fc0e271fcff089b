// A tensor entry of a GGUF file: name, shape in ggml order (ne[0] is the contiguous dimension),
// element type, and absolute byte offset of its data in the file.
using Furnace.Tensors;

namespace Furnace.Formats.Gguf;

public sealed record GgufTensorInfo(string Name, long[] Shape, DType Type, long Offset)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public long ByteLength => DTypes.RowBytes(Type, Shape[0]) * (ElementCount / Shape[0]);

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
