// The read-only weights of a CLIP text tower and its projection, loaded under transformers' key names
// (CLIPTextTransformer: text_model.embeddings.{token_embedding, position_embedding}.weight,
// text_model.encoder.layers.*, text_model.final_layer_norm; CLIPModel: text_projection.weight).
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Models.Clip;

public sealed class ClipTextWeights
{
    public required WeightMatrix TokenEmbedding { get; init; } // (vocab, d), rows read per token
    public required float[] PositionEmbedding { get; init; }   // (maxPositions, d)
    public required ClipEncoderLayerWeights[] Layers { get; init; }
    public required float[] FinalNormWeight { get; init; }     // (d,)
    public required float[] FinalNormBias { get; init; }       // (d,)
    public required WeightMatrix Projection { get; init; }     // (projection_dim, d), no bias

    /// <summary>vb points at the checkpoint root (the parent of `text_model`).</summary>
    public static ClipTextWeights Load(WeightLoader vb, ClipTextConfig c, int projectionDim)
    {
        var tower = vb.Prefix("text_model");
        var emb = tower.Prefix("embeddings");
        int d = c.HiddenSize;
        return new ClipTextWeights
        {
            TokenEmbedding = emb.Matrix("token_embedding.weight", c.VocabSize, d),
            PositionEmbedding = emb.Floats("position_embedding.weight", c.MaxPositions, d),
            Layers = ClipEncoderLayerWeights.LoadAll(tower, c.Layers, d, c.IntermediateSize),
            FinalNormWeight = tower.Vector("final_layer_norm.weight", d),
            FinalNormBias = tower.Vector("final_layer_norm.bias", d),
            Projection = vb.Matrix("text_projection.weight", projectionDim, d),
        };
    }
}
