// Fetches weights by name with the shape the model expects (candle's VarBuilder): `vb.Prefix("blk.0").Matrix(
// "attn_q.weight", dim, dim)`; PackedMatrix repacks quantized weights for the kernels. A missing key or a wrong shape fails with the full key, the file, and both shapes.
using Furnace.Tensors;

namespace Furnace.Formats.Weights;

public sealed class WeightLoader
{
    private readonly ITensorSource _source;
    private readonly string _prefix;

    public WeightLoader(ITensorSource source, string prefix = "")
    {
        _source = source;
        _prefix = prefix;
    }

    public string SourcePath => _source.Path;

    public WeightLoader Prefix(string name) => new(_source, Key(name) + ".");

    public string Key(string name) => _prefix + name;

    public bool Contains(string name) => _source.Find(Key(name)) != null;

    /// <summary>The entry under name with whatever shape it has, or null.</summary>
    public TensorEntry? Find(string name) => _source.Find(Key(name));

    public TensorEntry Get(string name, params long[] shape)
    {
        string key = Key(name);
        TensorEntry e = _source.Find(key) ?? throw new FurnaceFormatException(_source.Path, $"missing tensor '{key}'");
        if (!e.Shape.SequenceEqual(shape))
            throw new FurnaceFormatException(_source.Path, $"tensor '{key}' has shape {e.ShapeText}, expected [{string.Join(", ", shape)}]");
        return e;
    }

    /// <summary>A weight (rows, cols) used in place, in its stored dtype.</summary>
    public WeightMatrix Matrix(string name, int rows, int cols)
    {
        TensorEntry e = Get(name, rows, cols);
        if (cols % DTypes.BlockSize(e.Type) != 0)
            throw new FurnaceFormatException(_source.Path, $"tensor '{Key(name)}' row length {cols} is not a multiple of the {DTypes.Name(e.Type)} block size");
        return e.File.Matrix(e.Offset, rows, cols, e.Type);
    }

    /// <summary>
    /// A weight (rows, cols) for the matmul kernels: Q8_0/Q4_0 (Interleaved8) and, with AVX-512, Q4_K/Q5_K/Q6_K (Interleaved16)
    /// repacked into <paramref name="packed"/> and its mapped pages released, other dtypes used in place.
    /// </summary>
    public WeightMatrix PackedMatrix(string name, int rows, int cols, PackedWeights packed)
    {
        WeightMatrix m = Matrix(name, rows, cols);
        if (!PackedWeights.Packs(m.Type)) return m;
        WeightMatrix p = packed.Add(m);
        TensorEntry e = Get(name, rows, cols);
        e.File.Evict(e.Offset, m.ByteLength);
        return p;
    }

    /// <summary>
    /// A 3-D stack of count matrices (count, rows, cols) — ggml ne [cols, rows, count], as llama.cpp's expert stacks
    /// ffn_*_exps and MLA's per-head attn_k_b / attn_v_b — used in place as one (count·rows, cols) matrix whose
    /// WeightMatrix.Slice(i·rows, rows) is matrix i.
    /// </summary>
    public WeightMatrix StackedMatrix(string name, int count, int rows, int cols)
    {
        TensorEntry e = Get(name, count, rows, cols);
        if (cols % DTypes.BlockSize(e.Type) != 0)
            throw new FurnaceFormatException(_source.Path, $"tensor '{Key(name)}' row length {cols} is not a multiple of the {DTypes.Name(e.Type)} block size");
        return e.File.Matrix(e.Offset, checked(count * rows), cols, e.Type);
    }

    /// <summary>
    /// The count matrices of a StackedMatrix, each repacked into <paramref name="packed"/> (PackedWeights.Packs) when its dtype
    /// has a packed kernel (the stack's mapped pages are then released), else each a slice of the stack in place.
    /// </summary>
    public WeightMatrix[] PackedStack(string name, int count, int rows, int cols, PackedWeights packed)
    {
        WeightMatrix stack = StackedMatrix(name, count, rows, cols);
        var m = new WeightMatrix[count];
        bool pack = PackedWeights.Packs(stack.Type);
        for (int i = 0; i < count; i++) m[i] = pack ? packed.Add(stack.Slice(i * rows, rows)) : stack.Slice(i * rows, rows);
        if (pack)
        {
            TensorEntry e = Get(name, count, rows, cols);
            e.File.Evict(e.Offset, stack.ByteLength);
        }
        return m;
    }

    /// <summary>A 1-D tensor (n,) decoded to float (norm weights, biases).</summary>
    public float[] Vector(string name, int n)
    {
        TensorEntry e = Get(name, n);
        return e.File.ReadFloats(e.Offset, n, e.Type);
    }

    /// <summary>
    /// An int32 tensor (safetensors "I32": GPTQ/AWQ qweight, qzeros, g_idx) with exactly <paramref name="shape"/>,
    /// row-major; the error names the key, its dtype or shape and the expected shape.
    /// </summary>
    public int[] Int32s(string name, params long[] shape)
    {
        string key = Key(name);
        RawTensorEntry e = (_source as IRawTensorSource)?.FindRaw(key) ?? throw new FurnaceFormatException(_source.Path, $"missing tensor '{key}'");
        if (e.DTypeName != "I32") throw new FurnaceFormatException(_source.Path, $"tensor '{key}' has dtype {e.DTypeName}, expected I32");
        if (!e.Shape.SequenceEqual(shape))
            throw new FurnaceFormatException(_source.Path, $"tensor '{key}' has shape {e.ShapeText}, expected [{string.Join(", ", shape)}]");
        long n = shape.Aggregate(1L, (a, b) => a * b);
        if (n * 4 != e.ByteLength || n > int.MaxValue / 4) throw new FurnaceFormatException(_source.Path, $"tensor '{key}' holds {e.ByteLength} bytes, expected {n * 4}");
        var v = new int[n];
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(e.File.Span(e.Offset, (int)e.ByteLength)).CopyTo(v);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts");
        return v;
    }

    /// <summary>The shape of the tensor under name, whatever its dtype, or null when absent.</summary>
    public long[]? ShapeOf(string name) => (_source as IRawTensorSource)?.FindRaw(Key(name))?.Shape ?? _source.Find(Key(name))?.Shape;

    public float[]? OptionalVector(string name, int n) => Contains(name) ? Vector(name, n) : null;

    /// <summary>A tensor of any rank (a scalar when shape is empty) decoded to float, row-major.</summary>
    public float[] Floats(string name, params long[] shape)
    {
        TensorEntry e = Get(name, shape);
        if (e.ElementCount > int.MaxValue) throw new FurnaceFormatException(_source.Path, $"tensor '{Key(name)}' {e.ShapeText} is too large to read as floats");
        return e.File.ReadFloats(e.Offset, (int)e.ElementCount, e.Type);
    }

    /// <summary>
    /// A tensor of rank >= 2 used in place as the matrix (shape[0], product of the rest): a Conv2d kernel
    /// (out, in, kh, kw) becomes (out, in*kh*kw), the layout im2col rows are built in.
    /// </summary>
    public WeightMatrix FlattenedMatrix(string name, params long[] shape)
    {
        if (shape.Length < 2) throw new ArgumentException("a flattened matrix needs a shape of rank >= 2", nameof(shape));
        TensorEntry e = Get(name, shape);
        long cols = e.ElementCount / shape[0];
        if (cols > int.MaxValue || shape[0] > int.MaxValue) throw new FurnaceFormatException(_source.Path, $"tensor '{Key(name)}' {e.ShapeText} is too large for a matrix");
        if (cols % DTypes.BlockSize(e.Type) != 0)
            throw new FurnaceFormatException(_source.Path, $"tensor '{Key(name)}' row length {cols} is not a multiple of the {DTypes.Name(e.Type)} block size");
        return e.File.Matrix(e.Offset, (int)shape[0], (int)cols, e.Type);
    }
}
