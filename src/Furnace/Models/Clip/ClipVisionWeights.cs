// The read-only weights of a CLIP vision tower and its projection, loaded under transformers' key names
// (CLIPVisionTransformer: vision_model.embeddings.{patch_embedding.weight, class_embedding,
// position_embedding.weight}, vision_model.pre_layrnorm (sic), vision_model.encoder.layers.*,
// vision_model.post_layernorm; CLIPModel / CLIPVisionModelWithProjection: visual_projection.weight), or under llama.cpp's
// mmproj names (v.patch_embd.weight, v.class_embd, v.position_embd.weight, v.pre_ln.*, v.blk.{i}.*, v.post_ln.*;
// tools/mtmd/clip-impl.h). GgufFile exposes row-major shapes, so both layouts have the same shapes.
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
    public float[]? PostNormWeight { get; init; }              // (d,); absent in LLaVA mmproj files (features skip it)
    public float[]? PostNormBias { get; init; }                // (d,)
    public WeightMatrix? Projection { get; init; }             // (projection_dim, d), no bias

    /// <summary>
    /// vb points at the parent of `vision_model` (the checkpoint root; `vision_tower` in a LLaVA checkpoint).
    /// projectionDim null: no visual_projection is loaded.
    /// </summary>
    public static ClipVisionWeights Load(WeightLoader vb, ClipVisionConfig c, int? projectionDim) =>
        Load(vb, c, projectionDim, ClipCheckpointNaming.HuggingFace);

    /// <summary>
    /// HuggingFace: vb points at the parent of `vision_model` (the checkpoint root; `vision_tower` in a LLaVA
    /// checkpoint). Mmproj: vb points at the GGUF root (keys `v.*`); post_ln is optional there.
    /// projectionDim null: no visual_projection is loaded.
    /// </summary>
    public static ClipVisionWeights Load(WeightLoader vb, ClipVisionConfig c, int? projectionDim, ClipCheckpointNaming naming)
    {
        if (naming == ClipCheckpointNaming.Mmproj) return LoadMmproj(vb, c, projectionDim);
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

    private static ClipVisionWeights LoadMmproj(WeightLoader vb, ClipVisionConfig c, int? projectionDim)
    {
        var v = vb.Prefix("v");
        int d = c.HiddenSize;
        bool post = v.Contains("post_ln.weight");
        return new ClipVisionWeights
        {
            PatchEmbedding = v.FlattenedMatrix("patch_embd.weight", d, c.NumChannels, c.PatchSize, c.PatchSize),
            ClassEmbedding = v.Vector("class_embd", d),
            PositionEmbedding = v.Floats("position_embd.weight", c.Positions, d),
            PreNormWeight = v.Vector("pre_ln.weight", d),
            PreNormBias = v.Vector("pre_ln.bias", d),
            Layers = ClipEncoderLayerWeights.LoadAllMmproj(v, c.Layers, d, c.IntermediateSize),
            PostNormWeight = post ? v.Vector("post_ln.weight", d) : null,
            PostNormBias = post ? v.Vector("post_ln.bias", d) : null,
            Projection = projectionDim is int p ? vb.Matrix("visual_projection.weight", p, d) : null,
        };
    }
}
