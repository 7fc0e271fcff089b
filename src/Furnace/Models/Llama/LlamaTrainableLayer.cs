// The parts of one decoder layer on the training tape (HF LlamaDecoderLayer / Qwen2DecoderLayer): two RMSNorm
// weights and the seven linears, each frozen, LoRA-adapted or trainable (see TapeLinear).
using Furnace.Models.Layers;
using Furnace.Tensors.Autograd;

namespace Furnace.Models.Llama;

public sealed class LlamaTrainableLayer
{
    public required Tensor AttnNorm { get; init; }   // (dim,)
    public required TapeLinear Q { get; init; }      // (qDim, dim) [+ bias (qDim,) for Qwen2]
    public required TapeLinear K { get; init; }      // (kvDim, dim)
    public required TapeLinear V { get; init; }      // (kvDim, dim)
    public required TapeLinear O { get; init; }      // (dim, qDim)
    public required Tensor FfnNorm { get; init; }    // (dim,)
    public required TapeLinear Gate { get; init; }   // (ffn, dim)
    public required TapeLinear Up { get; init; }     // (ffn, dim)
    public required TapeLinear Down { get; init; }   // (dim, ffn)

    public IEnumerable<TapeLinear> Linears => [Q, K, V, O, Gate, Up, Down];
}
