// One stored tensor of any checkpoint format, located in a memory-mapped file.
// Shape is row-major, outermost first (PyTorch order): a GGUF tensor with ne = [cols, rows] is [rows, cols] here.
using Furnace.Tensors;

namespace Furnace.Formats.Weights;

public sealed record TensorEntry(string Name, long[] Shape, DType Type, MappedFile File, long Offset)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
