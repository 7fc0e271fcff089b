// Matrix multiplication against stored weights: Y (t, rows) = X (t, cols) @ W^T, W (rows, cols) in any DType.
// t == 1 is the decode GEMV; t > 1 the prefill GEMM (token tiles of four share each weight load; from 128 tokens on
// f32 weights and 16 on f16/bf16, MatMulFloatGemm's outer-product micro-kernel).
// Activations are first brought to the weight's dot type as llama.cpp does (ggml vec_dot_type):
//   F32 -> as is;  F16 -> rounded to f16;  BF16 -> rounded to bf16;  Q8_0, Q4_0, Q5_0, IQ4_NL -> quantized to Q8_0
//   blocks;  Q4_1, Q5_1 -> Q8_1 blocks;  Q2_K..Q6_K, IQ4_XS -> Q8_K super-blocks (MatMulKQuant).
// Rows are split across the context's threads; nothing is allocated per call. Interleaved8 Q8_0/Q4_0 weights
// (Repack) go to the packed kernels (MatMulPacked), split by 8-row groups; Interleaved16 Q4_K/Q5_K/Q6_K weights (RepackK)
// to MatMulKPacked, split by 16-row groups.
using System.Runtime.CompilerServices;

namespace Furnace.Tensors;

public static unsafe class MatMul
{
    // y (t, w.Rows) = x (t, w.Cols) @ w^T
    public static void Forward(Span<float> y, ReadOnlySpan<float> x, int t, WeightMatrix w, KernelContext ctx)
    {
        if (t < 1) throw new ArgumentOutOfRangeException(nameof(t), t, "token count must be >= 1");
        if (x.Length < (long)t * w.Cols) throw new ArgumentException($"x holds {x.Length} floats, need {t}x{w.Cols}");
        if (y.Length < (long)t * w.Rows) throw new ArgumentException($"y holds {y.Length} floats, need {t}x{w.Rows}");
        fixed (float* px = x, py = y)
        {
            switch (w.Type)
            {
                case DType.F32:
                    RunFloat<F32Load>(py, px, t, w, ctx);
                    break;
                case DType.F16:
                case DType.BF16:
                {
                    var rounded = (float*)ctx.Scratch(ScratchSlot.MatMulX, (long)t * w.Cols * sizeof(float));
                    var round = new RoundJob { Src = px, Dst = rounded, Cols = w.Cols, Type = w.Type };
                    ctx.Run(ref round, t);
                    if (w.Type == DType.F16) RunFloat<F16Load>(py, rounded, t, w, ctx);
                    else RunFloat<BF16Load>(py, rounded, t, w, ctx);
                    break;
                }
                case DType.Q4_1:
                    RunQuant<Q4_1Block>(py, px, t, w, ctx);
                    break;
                case DType.Q5_0:
                    RunQuant<Q5_0Block>(py, px, t, w, ctx);
                    break;
                case DType.Q5_1:
                    RunQuant<Q5_1Block>(py, px, t, w, ctx);
                    break;
                case DType.IQ4_NL:
                    RunQuant<IQ4_NLBlock>(py, px, t, w, ctx);
                    break;
                case DType.Q2_K:
                    RunKQuant<Q2_KBlock>(py, px, t, w, ctx);
                    break;
                case DType.Q3_K:
                    RunKQuant<Q3_KBlock>(py, px, t, w, ctx);
                    break;
                case DType.Q4_K:
                    if (w.Layout == WeightLayout.Interleaved16) RunKPacked<Q4_KBlock>(py, px, t, w, ctx);
                    else RunKQuant<Q4_KBlock>(py, px, t, w, ctx);
                    break;
                case DType.Q5_K:
                    if (w.Layout == WeightLayout.Interleaved16) RunKPacked<Q5_KBlock>(py, px, t, w, ctx);
                    else RunKQuant<Q5_KBlock>(py, px, t, w, ctx);
                    break;
                case DType.Q6_K:
                    if (w.Layout == WeightLayout.Interleaved16) RunKPacked<Q6_KBlock>(py, px, t, w, ctx);
                    else RunKQuant<Q6_KBlock>(py, px, t, w, ctx);
                    break;
                case DType.IQ4_XS:
                    RunKQuant<IQ4_XSBlock>(py, px, t, w, ctx);
                    break;
                case DType.Q8_0:
                case DType.Q4_0:
                {
                    int nb = w.Cols / 32;
                    int offset = w.Type == DType.Q8_0 ? Q8_0Block.Offset : Q4_0Block.Offset;
                    var aq = new ActivationQ8(ctx.Scratch(ScratchSlot.MatMulX, ActivationQ8.BytesFor(t, nb)), t, nb, offset);
                    var quant = new MatMulQuant.QuantizeJob { Out = aq, X = px, Cols = w.Cols };
                    if (t == 1) quant.Execute(0, 1, 0);
                    else ctx.Run(ref quant, t);
                    if (w.IsInterleaved8)
                    {
                        if (w.Type == DType.Q8_0) RunPacked<Q8_0x8>(py, aq, t, w, ctx);
                        else RunPacked<Q4_0x8>(py, aq, t, w, ctx);
                    }
                    else if (w.Type == DType.Q8_0) RunQuant<Q8_0Block>(py, aq, t, w, ctx);
                    else RunQuant<Q4_0Block>(py, aq, t, w, ctx);
                    break;
                }
                default:
                    throw new NotSupportedException($"matmul with {DTypes.Name(w.Type)} weights");
            }
        }
    }

    private static void RunFloat<TL>(float* y, float* x, int t, WeightMatrix w, KernelContext ctx) where TL : struct, IFloatLoad
    {
        if (MatMulFloatGemm.Applies(t, w))
        {
            MatMulFloatGemm.Run<TL>(y, x, t, w, ctx);
            return;
        }
        var job = new MatMulFloat.Job<TL> { Y = y, X = x, T = t, W = w };
        ctx.Run(ref job, w.Rows, t == 1 ? 16 : 32);
    }

    private static void RunQuant<TB>(float* y, ActivationQ8 x, int t, WeightMatrix w, KernelContext ctx) where TB : struct, IQuantBlock
    {
        var job = new MatMulQuant.Job<TB> { Y = y, X = x, T = t, W = w };
        ctx.Run(ref job, w.Rows, t == 1 ? 16 : 32);
    }

    // activations quantized to Q8_0 / Q8_1 blocks (same block math; Q8_1's sums are always filled), then the 32-block kernel
    private static void RunQuant<TB>(float* y, float* x, int t, WeightMatrix w, KernelContext ctx) where TB : struct, IQuantBlock
    {
        int nb = w.Cols / 32;
        var aq = new ActivationQ8(ctx.Scratch(ScratchSlot.MatMulX, ActivationQ8.BytesFor(t, nb)), t, nb, TB.Offset);
        var quant = new MatMulQuant.QuantizeJob { Out = aq, X = x, Cols = w.Cols };
        if (t == 1) quant.Execute(0, 1, 0);
        else ctx.Run(ref quant, t);
        RunQuant<TB>(y, aq, t, w, ctx);
    }

    // activations quantized to Q8_K super-blocks, then the K-quant kernel
    private static void RunKQuant<TK>(float* y, float* x, int t, WeightMatrix w, KernelContext ctx) where TK : struct, IKQuantBlock
    {
        int nb = w.Cols / DTypes.SuperBlock;
        var aq = new ActivationQ8K(ctx.Scratch(ScratchSlot.MatMulX, ActivationQ8K.BytesFor(t, nb)), nb);
        var quant = new KQuant.QuantizeJob { Out = aq, X = x, Cols = w.Cols };
        if (t == 1) quant.Execute(0, 1, 0);
        else ctx.Run(ref quant, t);
        byte* unpacked = t == 1 ? null : (byte*)ctx.Scratch(ScratchSlot.MatMulKQuant, KQuant.UnpackedRowBytes(nb) * ctx.Threads);
        var job = new KQuant.Job<TK> { Y = y, X = aq, T = t, W = w, Unpacked = unpacked };
        ctx.Run(ref job, w.Rows, t == 1 ? 16 : 32);
    }

    // Interleaved16 Q4_K/Q5_K/Q6_K: activations quantized to Q8_K super-blocks, then the 16-row kernels (MatMulKPacked)
    private static void RunKPacked<TK>(float* y, float* x, int t, WeightMatrix w, KernelContext ctx) where TK : struct, IKQuantBlock
    {
        int nb = w.Cols / DTypes.SuperBlock;
        var aq = new ActivationQ8K(ctx.Scratch(ScratchSlot.MatMulX, ActivationQ8K.BytesFor(t, nb)), nb);
        var quant = new KQuant.QuantizeJob { Out = aq, X = x, Cols = w.Cols };
        if (t == 1) quant.Execute(0, 1, 0);
        else ctx.Run(ref quant, t);
        long stride = MatMulKPacked.ScratchBytes(t);
        byte* scratch = t <= 2 ? null : (byte*)ctx.Scratch(ScratchSlot.MatMulKQuant, stride * ctx.Threads);
        var job = new MatMulKPacked.Job<TK> { Y = y, X = aq, T = t, W = w, Scratch = scratch, ScratchStride = stride };
        ctx.Run(ref job, (w.Rows + RepackK.Rows - 1) / RepackK.Rows, 1);
    }

    private static void RunPacked<TP>(float* y, ActivationQ8 x, int t, WeightMatrix w, KernelContext ctx) where TP : struct, IPackedBlock
    {
        var job = new MatMulPacked.Job<TP> { Y = y, X = x, T = t, W = w };
        ctx.Run(ref job, (w.Rows + 7) / 8, t == 1 ? 2 : 4);
    }

    // rows [start, end) of src (t, cols) rounded through f16 or bf16 into dst, kept as f32
    private struct RoundJob : IParallelJob
    {
        public float* Src;
        public float* Dst;
        public int Cols;
        public DType Type;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
        public void Execute(int start, int end, int thread)
        {
            long n0 = (long)start * Cols, n1 = (long)end * Cols;
            if (Type == DType.F16)
            {
                for (long i = n0; i < n1; i++) Dst[i] = (float)(Half)Src[i];
            }
            else
            {
                for (long i = n0; i < n1; i++) Dst[i] = BitConverter.Int32BitsToSingle(Quantize.ToBF16(Src[i]) << 16);
            }
        }
    }
}
