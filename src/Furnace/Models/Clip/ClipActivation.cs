// The MLP activations a CLIP config.json can name (hidden_act), as transformers' ACT2FN maps them.
namespace Furnace.Models.Clip;

public enum ClipActivation
{
    /// <summary>"quick_gelu": x * sigmoid(1.702 x), the OpenAI CLIP default.</summary>
    QuickGelu,

    /// <summary>"gelu": the exact erf GELU.</summary>
    GeluErf,

    /// <summary>"gelu_new", "gelu_pytorch_tanh", "gelu_fast": the tanh approximation.</summary>
    GeluTanh,
}
