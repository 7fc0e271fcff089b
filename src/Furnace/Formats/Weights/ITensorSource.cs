// A checkpoint seen as a flat name -> tensor map: a GGUF file, a safetensors file, or a sharded set of them.
namespace Furnace.Formats.Weights;

public interface ITensorSource : IDisposable
{
    /// <summary>The file or directory the tensors come from, for error messages.</summary>
    string Path { get; }

    IEnumerable<TensorEntry> Entries { get; }

    TensorEntry? Find(string name);
}
