// The read-only weights of a SigLIP tower in timm's naming (vision_transformer.py VisionTransformer, as DeepSeek-VL
// saves it under vision_model.vision_tower.*): patch_embed.proj.{weight (d, C, p, p), bias}, pos_embed (1, P, d),
// blocks.{i}.{norm1, attn.qkv (3d, d) = [q; k; v] rows, attn.proj, norm2, mlp.fc1, mlp.fc2}, norm. The fused qkv is
// used in place as three row slices, so a block is the CLIP encoder layer (ClipEncoderLayerWeights) it computes.
// Blocks past UsedLayers and the attention-pool head (attn_pool.*) are not read.
using Furnace.Formats.Weights;
using Furnace.Models.Clip;
using Furnace.Tensors;

namespace Furnace.Models.Siglip;

public sealed class SiglipVisionWeights
{
    public required WeightMatrix PatchEmbedding { get; init; } // (d, C*p*p)
    public required float[] PatchBias { get; init; }          // (d,)
    public required float[] PositionEmbedding { get; init; }  // (P, d)
    public required ClipEncoderLayerWeights[] Blocks { get; init; }
    public required float[] NormWeight { get; init; }         // (d,)
    public required float[] NormBias { get; init; }           // (d,)

    /// <summary>
    /// Loads transformers' SigLIP naming from the prefix holding embeddings/encoder/post_layernorm (e.g.
    /// `vision_tower.vision_model`): embeddings.patch_embedding.{weight, bias}, embeddings.position_embedding.weight
    /// (P, d), encoder.layers.{i}.{layer_norm1, self_attn.{q,k,v,out}_proj, layer_norm2, mlp.fc1, mlp.fc2} (the CLIP
    /// layer naming), post_layernorm; the head.* pooler is not read. The same tensors as timm's naming under other
    /// names (transformers' convert script for DeepSeek-VL maps one onto the other, qkv split in three).
    /// </summary>
    public static SiglipVisionWeights LoadHuggingFace(WeightLoader vb, SiglipVisionConfig c)
    {
        int d = c.Width, p = c.PatchSize;
        var emb = vb.Prefix("embeddings");
        return new SiglipVisionWeights
        {
            PatchEmbedding = emb.FlattenedMatrix("patch_embedding.weight", d, c.Channels, p, p),
            PatchBias = emb.Vector("patch_embedding.bias", d),
            PositionEmbedding = emb.Floats("position_embedding.weight", c.Patches, d),
            Blocks = ClipEncoderLayerWeights.LoadAll(vb, c.UsedLayers, d, c.MlpDim),
            NormWeight = vb.Vector("post_layernorm.weight", d),
            NormBias = vb.Vector("post_layernorm.bias", d),
        };
    }

    /// <summary>Loads from the tower's root (the prefix holding patch_embed, pos_embed, blocks, norm).</summary>
    public static SiglipVisionWeights Load(WeightLoader vb, SiglipVisionConfig c)
    {
        int d = c.Width, ffn = c.MlpDim, p = c.PatchSize;
        var blocks = new ClipEncoderLayerWeights[c.UsedLayers];
        for (int i = 0; i < blocks.Length; i++)
        {
            var b = vb.Prefix($"blocks.{i}");
            WeightMatrix qkv = b.Matrix("attn.qkv.weight", 3 * d, d);
            float[] qkvBias = b.Vector("attn.qkv.bias", 3 * d);
            blocks[i] = new ClipEncoderLayerWeights
            {
                Norm1Weight = b.Vector("norm1.weight", d),
                Norm1Bias = b.Vector("norm1.bias", d),
                Wq = qkv.Slice(0, d),
                Bq = qkvBias[..d],
                Wk = qkv.Slice(d, d),
                Bk = qkvBias[d..(2 * d)],
                Wv = qkv.Slice(2 * d, d),
                Bv = qkvBias[(2 * d)..],
                Wo = b.Matrix("attn.proj.weight", d, d),
                Bo = b.Vector("attn.proj.bias", d),
                Norm2Weight = b.Vector("norm2.weight", d),
                Norm2Bias = b.Vector("norm2.bias", d),
                Fc1 = b.Matrix("mlp.fc1.weight", ffn, d),
                Fc1Bias = b.Vector("mlp.fc1.bias", ffn),
                Fc2 = b.Matrix("mlp.fc2.weight", d, ffn),
                Fc2Bias = b.Vector("mlp.fc2.bias", d),
            };
        }
        return new SiglipVisionWeights
        {
            PatchEmbedding = vb.FlattenedMatrix("patch_embed.proj.weight", d, c.Channels, p, p),
            PatchBias = vb.Vector("patch_embed.proj.bias", d),
            PositionEmbedding = vb.Floats("pos_embed", 1, c.Patches, d),
            Blocks = blocks,
            NormWeight = vb.Vector("norm.weight", d),
            NormBias = vb.Vector("norm.bias", d),
        };
    }
}
