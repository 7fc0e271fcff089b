// Rows of a GEMM output plus their bias, then nn.GELU (exact-erf form) through Ops.GeluErfFit, on the kernel
// threads: SAM's MLP (lin1) and the hybrid aligner's GELU. Bias may be empty (GELU alone).
using Furnace.Tensors;

namespace Furnace.Models.Sam;

internal struct BiasGeluJob : IParallelJob
{
    public float[] H, Bias;
    public int Cols;

    public readonly void Execute(int start, int end, int thread)
    {
        if (Bias.Length != 0)
            for (int r = start; r < end; r++) Ops.Add(H.AsSpan(r * Cols, Cols), Bias);
        Ops.GeluErfFit(H.AsSpan(start * Cols, (end - start) * Cols));
    }
}
