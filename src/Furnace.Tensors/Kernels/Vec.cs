// Small f32 vector primitives (ggml vec.h: ggml_vec_mad_f32, ggml_vec_add_f32, ggml_vec_mul_f32), written
// Vector512 -> Vector256 -> scalar like TensorPrimitives. Element-wise, so every path gives the same bits
// except Axpy, which fuses the multiply-add.
using System.Runtime.Intrinsics;

using System.Runtime.CompilerServices;

namespace Furnace.Tensors;

internal static unsafe class Vec
{
    // y (n,) += a * x
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static void Axpy(float* y, float a, float* x, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(a);
            for (; i <= n - 16; i += 16) Vector512.FusedMultiplyAdd(va, Vector512.Load(x + i), Vector512.Load(y + i)).Store(y + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            for (; i <= n - 8; i += 8) Vector256.FusedMultiplyAdd(va, Vector256.Load(x + i), Vector256.Load(y + i)).Store(y + i);
        }
        for (; i < n; i++) y[i] = MathF.FusedMultiplyAdd(a, x[i], y[i]);
    }

    // y (n,) += x
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static void Add(float* y, float* x, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) (Vector512.Load(y + i) + Vector512.Load(x + i)).Store(y + i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) (Vector256.Load(y + i) + Vector256.Load(x + i)).Store(y + i);
        for (; i < n; i++) y[i] += x[i];
    }

    // y (n,) = x * s * w   (evaluated as (x * s) * w, the order of the scalar RmsNorm)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static void ScaleMul(float* y, float* x, float s, float* w, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vs = Vector512.Create(s);
            for (; i <= n - 16; i += 16) (Vector512.Load(x + i) * vs * Vector512.Load(w + i)).Store(y + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(s);
            for (; i <= n - 8; i += 8) (Vector256.Load(x + i) * vs * Vector256.Load(w + i)).Store(y + i);
        }
        for (; i < n; i++) y[i] = x[i] * s * w[i];
    }
}
