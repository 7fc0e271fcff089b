// A hook on the decoder's layer matmuls: what enters each weight matrix, for statistics over calibration text
// (llama.cpp's imatrix collects the same through its graph-evaluation callback on every mul_mat).
namespace Furnace.Models.Llama;

/// <summary>The layer weight matrices of a Llama-family block, in the order the forward pass uses them.</summary>
public enum LlamaProjection
{
    Q,
    K,
    V,
    Output,
    Gate,
    Up,
    Down,
}

public interface ILlamaActivationObserver
{
    // input (rows, cols): the activations that multiply `projection` of block `layer` (cols = its ne[0])
    void Observe(int layer, LlamaProjection projection, ReadOnlySpan<float> input, int rows);
}
