// Span-level entry points to the quantized dot kernels, in ggml's byte layouts, for tests and tools that compare
// against ggml (ggml_vec_dot_<w>_<a>, quantize_row_q8_K / q8_0 / q8_1): one weight row against one activation row
// already quantized to the weight's activation type (ggml vec_dot_type), through the SIMD kernel or its scalar twin.
// Not a hot path: it converts Q8_0/Q8_1 bytes to the kernels' split layout and allocates.
using System.Runtime.InteropServices;

namespace Furnace.Tensors;

public static unsafe class QuantDot
{
    /// <summary>The activation type llama.cpp quantizes x to for weights of type w (ggml vec_dot_type).</summary>
    public static DType ActivationType(DType w) => w switch
    {
        DType.Q2_K or DType.Q3_K or DType.Q4_K or DType.Q5_K or DType.Q6_K or DType.IQ4_XS => DType.Q8_K,
        DType.Q4_1 or DType.Q5_1 => DType.Q8_1,
        DType.Q8_0 or DType.Q4_0 or DType.Q5_0 or DType.IQ4_NL => DType.Q8_0,
        _ => throw new ArgumentOutOfRangeException(nameof(w), w, "not a block-quantized weight type"),
    };

    /// <summary>
    /// x -> ggml block bytes of Q8_K, Q8_0 or Q8_1 through the kernels' quantizer; scalar selects Q8_K's scalar twin
    /// (Q8_0/Q8_1 take the machine's path either way).
    /// </summary>
    public static byte[] QuantizeActivations(DType type, ReadOnlySpan<float> x, bool scalar = false)
    {
        var y = new byte[DTypes.RowBytes(type, x.Length)];
        switch (type)
        {
            case DType.Q8_K:
                ActivationQ8K.Quantize(x, y, scalar);
                break;
            case DType.Q8_0:
            {
                int nb = x.Length / 32;
                var q = new sbyte[x.Length];
                var d = new float[nb];
                var s = new int[nb];
                ActivationQ8.Quantize(x, q, d, s);
                for (int b = 0; b < nb; b++)
                {
                    Half h = (Half)d[b];
                    MemoryMarshal.Write(y.AsSpan(b * 34), in h);
                    MemoryMarshal.AsBytes(q.AsSpan(b * 32, 32)).CopyTo(y.AsSpan(b * 34 + 2));
                }
                break;
            }
            case DType.Q8_1:
                ActivationQ8.QuantizeQ8_1(x, y);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "activation types are q8_K, q8_0 and q8_1");
        }
        return y;
    }

    /// <summary>
    /// Weight row w (n elements of type t) . activation row a (ggml bytes of ActivationType(t)) through the optimized
    /// kernel, or its scalar twin when scalar is set.
    /// </summary>
    public static float Dot(DType t, ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n, bool scalar = false)
    {
        DType at = ActivationType(t);
        if (w.Length < DTypes.RowBytes(t, n) || a.Length < DTypes.RowBytes(at, n))
            throw new ArgumentException($"{n} elements need {DTypes.RowBytes(t, n)} weight and {DTypes.RowBytes(at, n)} activation bytes");
        fixed (byte* pw = w, pa = a)
        {
            if (at == DType.Q8_K)
            {
                int nb = n / 256;
                byte* scratch = stackalloc byte[KQuant.ScratchBytes];
                return (t, scalar) switch
                {
                    (DType.Q2_K, false) => KQuant.Dot<Q2_KBlock>(pw, pa, nb, scratch),
                    (DType.Q3_K, false) => KQuant.Dot<Q3_KBlock>(pw, pa, nb, scratch),
                    (DType.Q4_K, false) => KQuant.Dot<Q4_KBlock>(pw, pa, nb, scratch),
                    (DType.Q5_K, false) => KQuant.Dot<Q5_KBlock>(pw, pa, nb, scratch),
                    (DType.Q6_K, false) => KQuant.Dot<Q6_KBlock>(pw, pa, nb, scratch),
                    (DType.IQ4_XS, false) => KQuant.Dot<IQ4_XSBlock>(pw, pa, nb, scratch),
                    (DType.Q2_K, true) => Q2_KBlock.DotScalar(pw, pa, nb),
                    (DType.Q3_K, true) => Q3_KBlock.DotScalar(pw, pa, nb),
                    (DType.Q4_K, true) => Q4_KBlock.DotScalar(pw, pa, nb),
                    (DType.Q5_K, true) => Q5_KBlock.DotScalar(pw, pa, nb),
                    (DType.Q6_K, true) => Q6_KBlock.DotScalar(pw, pa, nb),
                    _ => IQ4_XSBlock.DotScalar(pw, pa, nb),
                };
            }
            return Dot32(t, pw, pa, n / 32, at == DType.Q8_1, scalar);
        }
    }

    // Q8_0 / Q8_1 ggml blocks at a -> the split layout (qs | d | bias | s), then the 32-block kernel
    private static float Dot32(DType t, byte* w, byte* a, int nb, bool q81, bool scalar)
    {
        int offset = t switch
        {
            DType.Q8_0 => Q8_0Block.Offset,
            DType.Q4_0 => Q4_0Block.Offset,
            DType.Q5_0 => Q5_0Block.Offset,
            DType.IQ4_NL => IQ4_NLBlock.Offset,
            _ => 0,
        };
        var buf = new byte[ActivationQ8.BytesFor(1, nb)];
        fixed (byte* pb = buf)
        {
            var x = new ActivationQ8(pb, 1, nb, offset);
            int bb = q81 ? 36 : 34, qo = q81 ? 4 : 2;
            for (int b = 0; b < nb; b++)
            {
                byte* blk = a + b * bb;
                x.D[b] = (float)*(Half*)blk;
                x.S[b] = q81 ? (float)*(Half*)(blk + 2) : 0f;
                int sum = 0;
                for (int j = 0; j < 32; j++)
                {
                    sbyte v = ((sbyte*)(blk + qo))[j];
                    x.Qs[b * 32 + j] = v;
                    sum += v;
                }
                x.Bias[b] = -offset * sum;
            }
            return (t, scalar) switch
            {
                (DType.Q8_0, false) => MatMulQuant.Dot<Q8_0Block>(w, x.Qs, x.D, x.Bias, x.S, nb),
                (DType.Q4_0, false) => MatMulQuant.Dot<Q4_0Block>(w, x.Qs, x.D, x.Bias, x.S, nb),
                (DType.Q4_1, false) => MatMulQuant.Dot<Q4_1Block>(w, x.Qs, x.D, x.Bias, x.S, nb),
                (DType.Q5_0, false) => MatMulQuant.Dot<Q5_0Block>(w, x.Qs, x.D, x.Bias, x.S, nb),
                (DType.Q5_1, false) => MatMulQuant.Dot<Q5_1Block>(w, x.Qs, x.D, x.Bias, x.S, nb),
                (DType.IQ4_NL, false) => MatMulQuant.Dot<IQ4_NLBlock>(w, x.Qs, x.D, x.Bias, x.S, nb),
                (DType.Q8_0, true) => MatMulQuant.DotScalar<Q8_0Block>(w, x.Qs, x.D, x.Bias, x.S, nb),
                (DType.Q4_0, true) => MatMulQuant.DotScalar<Q4_0Block>(w, x.Qs, x.D, x.Bias, x.S, nb),
                (DType.Q4_1, true) => MatMulQuant.DotScalar<Q4_1Block>(w, x.Qs, x.D, x.Bias, x.S, nb),
                (DType.Q5_0, true) => MatMulQuant.DotScalar<Q5_0Block>(w, x.Qs, x.D, x.Bias, x.S, nb),
                (DType.Q5_1, true) => MatMulQuant.DotScalar<Q5_1Block>(w, x.Qs, x.D, x.Bias, x.S, nb),
                (DType.IQ4_NL, true) => MatMulQuant.DotScalar<IQ4_NLBlock>(w, x.Qs, x.D, x.Bias, x.S, nb),
                _ => throw new ArgumentOutOfRangeException(nameof(t), t, "no 32-block kernel"),
            };
        }
    }
}
