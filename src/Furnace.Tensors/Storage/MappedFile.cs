// A read-only memory map of a whole file: checkpoint weights are used in place, never copied at load.
// Safe accessors for parsers (bounds-checked spans) and typed views for the kernels. Evict drops the pages of a range
// that was copied elsewhere (repacked weights) from the process's resident set (Linux madvise MADV_DONTNEED: the
// mapping is read-only and file-backed, so a later touch simply reads the page cache again).
using System.IO.MemoryMappedFiles;

namespace Furnace.Tensors;

public sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _base;

    private MappedFile(string path, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* basePtr, long length)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePtr;
        Length = length;
    }

    public string Path { get; }

    public long Length { get; }

    public static MappedFile Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: file not found", path);
        if (info.Length == 0) return new MappedFile(path, null, null, null, 0);
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor view;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        }
        catch
        {
            map.Dispose();
            throw;
        }
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        p += view.PointerOffset;
        return new MappedFile(path, map, view, p, info.Length);
    }

    public bool Contains(long offset, long length) => offset >= 0 && length >= 0 && offset <= Length && length <= Length - offset;

    /// <summary>Bytes [offset, offset+length); throws if outside the file.</summary>
    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        Check(offset, length);
        return new ReadOnlySpan<byte>(_base + offset, length);
    }

    /// <summary>A weight matrix (rows, cols) of type t stored at offset.</summary>
    public WeightMatrix Matrix(long offset, int rows, int cols, DType t)
    {
        Check(offset, DTypes.RowBytes(t, cols) * rows);
        return new WeightMatrix(_base + offset, rows, cols, t);
    }

    /// <summary>count elements of type t at offset, widened/decoded to float.</summary>
    public float[] ReadFloats(long offset, int count, DType t)
    {
        Check(offset, DTypes.RowBytes(t, count));
        var dst = new float[count];
        Dequantize.Bytes(dst, _base + offset, t);
        return dst;
    }

    /// <summary>Releases the resident pages lying wholly inside [offset, offset+length); contents stay readable.</summary>
    public void Evict(long offset, long length)
    {
        Check(offset, length);
        if (!OperatingSystem.IsLinux() || length == 0) return;
        long page = Environment.SystemPageSize;
        long start = ((long)_base + offset + page - 1) / page * page, end = ((long)_base + offset + length) / page * page;
        if (end > start) LinuxMemory.Advise((void*)start, end - start, LinuxMemory.DontNeed);
    }

    private void Check(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_base == null && Length > 0, this);
        if (!Contains(offset, length))
            throw new ArgumentOutOfRangeException(nameof(offset), $"{Path}: bytes [{offset}, {offset}+{length}) lie outside the file of {Length} bytes");
    }

    public void Dispose()
    {
        if (_view != null && _base != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _base = null;
        }
        _view?.Dispose();
        _map?.Dispose();
    }
}
