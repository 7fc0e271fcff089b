// Owner of the repacked copies of a model's weight matrices (Repack.Interleave8 for Q8_0/Q4_0, RepackK.Interleave16
// for Q4_K/Q5_K/Q6_K where its AVX-512 kernels run), and of matrices made at load (LoRA
// merges, Adopt): each matrix gets its own 64-byte aligned NativeBuffer, all freed together when the model is disposed. Not thread-safe; used while loading.
namespace Furnace.Tensors;

public sealed class PackedWeights : IDisposable
{
    private readonly List<NativeBuffer> _buffers = new();
    private bool _disposed;

    public long Bytes { get; private set; }

    public int Count => _buffers.Count;

    /// <summary>Whether Add repacks matrices of dtype t on this machine (Q8_0, Q4_0; Q4_K, Q5_K, Q6_K with AVX-512).</summary>
    public static bool Packs(DType t) => Repack.Supports(t) || RepackK.Applies(t);

    /// <summary>w in its packed layout when Packs(w.Type) (Interleaved8 or Interleaved16), otherwise w itself.</summary>
    public WeightMatrix Add(WeightMatrix w)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Packs(w.Type) || w.IsPacked) return w;
        WeightMatrix packed;
        NativeBuffer buf = Repack.Supports(w.Type) ? Repack.Interleave8(w, out packed) : RepackK.Interleave16(w, out packed);
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
