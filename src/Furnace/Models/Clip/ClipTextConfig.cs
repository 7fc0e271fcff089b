// The validated shape of a CLIP text tower (transformers CLIPTextConfig; defaults of configuration_clip.py: vocab
// 49408, hidden 512, intermediate 2048, 12 layers, 8 heads, 77 positions, quick_gelu, layer_norm_eps 1e-5,
// pad 1, bos 49406, eos 49407).
namespace Furnace.Models.Clip;

public sealed record ClipTextConfig
{
    public int VocabSize { get; init; } = 49408;

    public int HiddenSize { get; init; } = 512;

    public int IntermediateSize { get; init; } = 2048;

    public int Layers { get; init; } = 12;

    public int Heads { get; init; } = 8;

    /// <summary>Context length: rows of position_embedding (max_position_embeddings).</summary>
    public int MaxPositions { get; init; } = 77;

    public float LayerNormEps { get; init; } = 1e-5f;

    public ClipActivation Activation { get; init; } = ClipActivation.QuickGelu;

    public int BosTokenId { get; init; } = 49406;

    public int EosTokenId { get; init; } = 49407;

    public int PadTokenId { get; init; } = 1;

    public int HeadDim => HiddenSize / Heads;

    /// <summary>
    /// transformers' legacy rule (CLIPTextTransformer.forward): a config whose eos_token_id is 2 (the old default,
    /// kept by the original OpenAI configs) pools at the argmax of the input ids, which is the EOS token of the OpenAI
    /// vocabulary (its largest id); any other eos_token_id pools at the first position holding it.
    /// </summary>
    public bool PoolsAtArgmax => EosTokenId == 2;

    public ClipTextConfig Validated(string source)
    {
        void Need(bool ok, string what)
        {
            if (!ok) throw new FurnaceException($"{source}: text_config {what}");
        }

        Need(VocabSize > 0, $"vocab_size {VocabSize} must be positive");
        Need(HiddenSize > 0, $"hidden_size {HiddenSize} must be positive");
        Need(Heads > 0 && HiddenSize % Heads == 0, $"hidden_size {HiddenSize} must be a multiple of num_attention_heads {Heads}");
        Need(IntermediateSize > 0, $"intermediate_size {IntermediateSize} must be positive");
        Need(Layers > 0 && Layers <= 1024, $"num_hidden_layers {Layers} is out of range");
        Need(MaxPositions > 0, $"max_position_embeddings {MaxPositions} must be positive");
        Need(LayerNormEps > 0 && LayerNormEps < 1, $"layer_norm_eps {LayerNormEps} is out of range");
        return this;
    }
}
