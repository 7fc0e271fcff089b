// Owner of the repacked copies of a model's weight matrices (Repack.Interleave8), and of matrices made at load (LoRA
// merges, Adopt): each matrix gets its own 64-byte aligned NativeBuffer, all freed together when the model is disposed. Not thread-safe; used while loading.
namespace Furnace.Tensors;

public sealed class PackedWeights : IDisposable
{
    private readonly List<NativeBuffer> _buffers = new();
    private bool _disposed;

    public long Bytes { get; private set; }

    public int Count => _buffers.Count;

    /// <summary>w in the Interleaved8 layout when its dtype has one (Q8_0, Q4_0), otherwise w itself.</summary>
    public WeightMatrix Add(WeightMatrix w)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Repack.Supports(w.Type) || w.IsInterleaved8) return w;
        NativeBuffer buf = Repack.Interleave8(w, out WeightMatrix packed);
        _buffers.Add(buf);
        Bytes += buf.Length;
        return packed;
    }

    /// <summary>Takes ownership of a buffer holding a model matrix made at load (a LoRA-merged weight); freed with the rest.</summary>
    public void Adopt(NativeBuffer buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _buffers.Add(buffer);
        Bytes += buffer.Length;
    }

    public void Dispose()
    {
        foreach (NativeBuffer b in _buffers) b.Dispose();
        _buffers.Clear();
        Bytes = 0;
        _disposed = true;
    }
}
