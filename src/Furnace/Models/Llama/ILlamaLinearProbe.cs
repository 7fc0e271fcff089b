// A listener for the inputs of a decoder layer's linears during LlamaModel.ForwardLayer (calibration: GPTQ's Hessians,
// activation statistics). The spans are the model's workspace rows, valid only during the call.
namespace Furnace.Models.Llama;

/// <summary>The four distinct inputs of a Llama layer's seven linears.</summary>
public enum LlamaLinearInput
{
    Attention,       // RMSNorm(x) (n, dim): into Wq, Wk, Wv
    AttentionOutput, // attention (n, qDim): into Wo
    Ffn,             // RMSNorm(x + attn) (n, dim): into WGate, WUp
    FfnDown,         // SiLU(gate) · up (n, ffn): into WDown
}

public interface ILlamaLinearProbe
{
    /// <summary>x (n, width of the input) entered the linears of <paramref name="input"/> in layer <paramref name="layer"/>.</summary>
    void Observe(int layer, LlamaLinearInput input, ReadOnlySpan<float> x, int n);
}
