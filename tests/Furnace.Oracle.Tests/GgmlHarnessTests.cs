// The ggml oracle harness itself (Support/Ggml): ggml's own quantizer and dequantizer agree with Furnace's Q8_0/Q4_0
// byte for byte, and ggml's dot product with its activation quantizer equals the float dot within Q8_0's rounding.
using Furnace.Oracle.Tests.Support;
using Furnace.Tensors;

namespace Furnace.Oracle.Tests;

public sealed class GgmlHarnessTests
{
    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    [Theory]
    [InlineData(DType.Q8_0)]
    [InlineData(DType.Q4_0)]
    public unsafe void QuantizeRowRef_Q8_0AndQ4_0_BytesEqualFurnaceAndDequantizeRoundTrips(DType type)
    {
        float[] x = Random(256, 11);
        byte[] ggml = Ggml.QuantizeRowRef(type, x);
        var ours = new byte[ggml.Length];
        Quantize.Row(ours, x, type);
        Assert.Equal(ggml, ours);

        float[] back = Ggml.Dequantize(type, ggml, x.Length);
        var mine = new float[x.Length];
        fixed (byte* p = ours) Dequantize.Bytes(mine, p, type);
        Assert.Equal(back, mine);
    }

    [Fact]
    public void VecDot_Q8_0_CloseToFloatDot()
    {
        float[] w = Random(512, 1), a = Random(512, 2);
        float dot = Ggml.VecDot(DType.Q8_0, DType.Q8_0, Ggml.QuantizeRowRef(DType.Q8_0, w), Ggml.QuantizeActivations(DType.Q8_0, a), 512);
        double exact = 0;
        for (int i = 0; i < 512; i++) exact += (double)w[i] * a[i];
        Assert.InRange(dot, exact - 0.05, exact + 0.05);
    }
}
