// The read-only weights of a CLIP vision tower and its projection, loaded under transformers' key names
// (CLIPVisionTransformer: vision_model.embeddings.{patch_embedding.weight, class_embedding,
// position_embedding.weight}, vision_model.pre_layrnorm (sic), vision_model.encoder.layers.*,
// vision_model.post_layernorm; CLIPModel / CLIPVisionModelWithProjection: visual_projection.weight).
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Models.Clip;

public sealed class ClipVisionWeights
{
    public required WeightMatrix PatchEmbedding { get; init; } // Conv2d (d, C, p, p) viewed as (d, C*p*p)
    public required float[] ClassEmbedding { get; init; }      // (d,)
    public required float[] PositionEmbedding { get; init; }   // (positions, d), positions = 1 + patches
    public required float[] PreNormWeight { get; init; }       // (d,)
    public required float[] PreNormBias { get; init; }         // (d,)
    public required ClipEncoderLayerWeights[] Layers { get; init; }
    public required float[] PostNormWeight { get; init; }      // (d,)
    public required float[] PostNormBias { get; init; }        // (d,)
    public WeightMatrix? Projection { get; init; }             // (projection_dim, d), no bias

    /// <summary>
    /// vb points at the parent of `vision_model` (the checkpoint root; `vision_tower` in a LLaVA checkpoint).
    /// projectionDim null: no visual_projection is loaded.
    /// </summary>
    public static ClipVisionWeights Load(WeightLoader vb, ClipVisionConfig c, int? projectionDim)
    {
        var tower = vb.Prefix("vision_model");
        var emb = tower.Prefix("embeddings");
        int d = c.HiddenSize;
        return new ClipVisionWeights
        {
            PatchEmbedding = emb.FlattenedMatrix("patch_embedding.weight", d, c.NumChannels, c.PatchSize, c.PatchSize),
            ClassEmbedding = emb.Vector("class_embedding", d),
            PositionEmbedding = emb.Floats("position_embedding.weight", c.Positions, d),
            PreNormWeight = tower.Vector("pre_layrnorm.weight", d),
            PreNormBias = tower.Vector("pre_layrnorm.bias", d),
            Layers = ClipEncoderLayerWeights.LoadAll(tower, c.Layers, d, c.IntermediateSize),
            PostNormWeight = tower.Vector("post_layernorm.weight", d),
            PostNormBias = tower.Vector("post_layernorm.bias", d),
            Projection = projectionDim is int p ? vb.Matrix("visual_projection.weight", p, d) : null,
        };
    }
}
