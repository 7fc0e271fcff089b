// FLOPs of one training step of a Llama-style decoder (forward + backward), counted as Kaplan et al. / PaLM do:
// 6 per matmul parameter per token for full training (2 forward, 4 backward: input and weight gradients), plus
// PaLM's attention term 12·L·q_dim·seq per token. With LoRA the frozen base still runs forward and the input
// gradients (4 per parameter per token) and each adapter parameter costs 6. The embedding lookup is not a matmul;
// the output head is. Norms, RoPE, softmax and the optimizer are left out.
namespace Furnace.Models.Llama;

public static class LlamaTrainingFlops
{
    /// <summary>Parameters of the decoder's matrix products: every layer's q, k, v, o, gate, up, down and the output head.</summary>
    public static long MatmulParameters(LlamaConfig c) =>
        (long)c.Layers * ((long)c.Dim * c.QDim * 2 + (long)c.Dim * c.KvDim * 2 + 3L * c.Dim * c.FfnDim) + (long)c.VocabSize * c.Dim;

    /// <summary>One step over batch × seq tokens; <paramref name="loraParameters"/> = 0 for full training.</summary>
    public static double Step(LlamaConfig c, int batch, int seq, long loraParameters = 0)
    {
        double tokens = (double)batch * seq;
        double attention = 12.0 * c.Layers * c.QDim * seq * tokens;
        double p = MatmulParameters(c);
        return loraParameters > 0
            ? 4.0 * p * tokens + 6.0 * loraParameters * tokens + attention
            : 6.0 * p * tokens + attention;
    }
}
