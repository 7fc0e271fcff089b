// ggml itself as the bit-exact oracle for block formats: the libggml-base / libggml-cpu shipped inside the
// LLamaSharp.Backend.Cpu package (the same copies LLamaSharp loads), called through their exported C functions:
//   dequantize_row_<type>(const void * x, float * y, int64_t k)            ggml-quants.c (to_float)
//   quantize_row_<type>_ref(const float * x, void * y, int64_t k)          ggml-quants.c (reference quantizer)
//   ggml_quantize_chunk(type, src, dst, start, nrows, n_per_row, imatrix)  ggml.c (what llama-quantize calls)
//   quantize_row_q8_K / q8_0 / q8_1 (const float *, void *, int64_t)              ggml-cpu (activation quantizers)
//   ggml_vec_dot_<w>_<a>(n, float * s, bs, const void * vx, bx, const void * vy, by, nrc)   ggml-cpu dot products
// Type names are ggml's ("q4_K", "iq4_xs"): DTypes.Name gives them.
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Furnace.Tensors;

namespace Furnace.Oracle.Tests.Support;

public static unsafe class Ggml
{
    private static readonly Lazy<(nint Base, nint Cpu)> Libraries = new(Load);

    private static (nint, nint) Load()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", Avx512F.IsSupported ? "avx512" : "avx2");
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"ggml libraries not found under {dir}");
        nint b = NativeLibrary.Load(Path.Combine(dir, "libggml-base.so"));
        nint c = NativeLibrary.Load(Path.Combine(dir, "libggml-cpu.so"));
        ((delegate* unmanaged<void>)NativeLibrary.GetExport(c, "ggml_cpu_init"))();
        return (b, c);
    }

    private static nint BaseExport(string name) => NativeLibrary.GetExport(Libraries.Value.Base, name);

    private static nint CpuExport(string name) => NativeLibrary.GetExport(Libraries.Value.Cpu, name);

    /// <summary>ggml's dequantize_row_&lt;type&gt; over n elements of src.</summary>
    public static float[] Dequantize(DType type, ReadOnlySpan<byte> src, int n)
    {
        var y = new float[n];
        var f = (delegate* unmanaged<byte*, float*, long, void>)BaseExport("dequantize_row_" + DTypes.Name(type));
        fixed (byte* px = src)
        fixed (float* py = y)
            f(px, py, n);
        return y;
    }

    /// <summary>ggml's reference quantizer quantize_row_&lt;type&gt;_ref over x (length a multiple of the block size).</summary>
    public static byte[] QuantizeRowRef(DType type, ReadOnlySpan<float> x)
    {
        var y = new byte[DTypes.RowBytes(type, x.Length)];
        var f = (delegate* unmanaged<float*, byte*, long, void>)BaseExport("quantize_row_" + DTypes.Name(type) + "_ref");
        fixed (float* px = x)
        fixed (byte* py = y)
            f(px, py, x.Length);
        return y;
    }

    /// <summary>
    /// ggml_quantize_chunk as llama-quantize calls it: rows × nPerRow floats, optional importance weights (nPerRow,)
    /// per column. Types that need an importance matrix (ggml_quantize_requires_imatrix) must be given one.
    /// </summary>
    public static byte[] QuantizeChunk(DType type, ReadOnlySpan<float> x, int rows, int nPerRow, ReadOnlySpan<float> imatrix = default)
    {
        if (x.Length != (long)rows * nPerRow) throw new ArgumentException("x must hold rows * nPerRow floats");
        var y = new byte[DTypes.RowBytes(type, nPerRow) * rows];
        ((delegate* unmanaged<int, void>)BaseExport("ggml_quantize_init"))((int)type);
        var f = (delegate* unmanaged<int, float*, byte*, long, long, long, float*, nuint>)BaseExport("ggml_quantize_chunk");
        fixed (float* px = x)
        fixed (byte* py = y)
        fixed (float* pim = imatrix)
        {
            nuint written = f((int)type, px, py, 0, rows, nPerRow, imatrix.IsEmpty ? null : pim);
            if ((long)written != y.Length) throw new InvalidOperationException($"ggml_quantize_chunk wrote {written} bytes, expected {y.Length}");
        }
        return y;
    }

    /// <summary>ggml-cpu's activation quantizer quantize_row_q8_K or quantize_row_q8_0 (the one matmul uses).</summary>
    public static byte[] QuantizeActivations(DType type, ReadOnlySpan<float> x)
    {
        if (type is not (DType.Q8_K or DType.Q8_0 or DType.Q8_1)) throw new ArgumentException("activation types are q8_K, q8_0 and q8_1");
        var y = new byte[DTypes.RowBytes(type, x.Length)];
        var f = (delegate* unmanaged<float*, byte*, long, void>)CpuExport("quantize_row_" + DTypes.Name(type));
        fixed (float* px = x)
        fixed (byte* py = y)
            f(px, py, x.Length);
        return y;
    }

    /// <summary>
    /// ggml-cpu's dot product of one weight row (n elements of weightType) with an activation row already quantized
    /// to activationType (q8_K for the K-quants and IQ4_XS, q8_1 for Q4_1/Q5_1, q8_0 for the other 32-blocks and IQ4_NL).
    /// </summary>
    public static float VecDot(DType weightType, DType activationType, ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n)
    {
        var f = (delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void>)CpuExport(
            $"ggml_vec_dot_{DTypes.Name(weightType)}_{DTypes.Name(activationType)}");
        float s;
        fixed (byte* pw = w)
        fixed (byte* pa = a)
            f(n, &s, 0, pw, 0, pa, 0, 1);
        return s;
    }
}
