// Every tensor of a Hugging Face CLIP checkpoint with its shape, in transformers' state-dict names: the inverse of
// the Load methods, for writers of checkpoints (RandomClip). position_ids are the I64 buffers transformers saves.
namespace Furnace.Models.Clip;

public sealed record ClipTensorName(string Name, long[] Shape);

public static class ClipTensorNames
{
    public static IEnumerable<ClipTensorName> All(ClipConfig c)
    {
        ClipVisionConfig v = c.Vision;
        long d = v.HiddenSize;
        yield return new("vision_model.embeddings.class_embedding", [d]);
        yield return new("vision_model.embeddings.patch_embedding.weight", [d, v.NumChannels, v.PatchSize, v.PatchSize]);
        yield return new("vision_model.embeddings.position_embedding.weight", [v.Positions, d]);
        yield return new("vision_model.pre_layrnorm.weight", [d]);
        yield return new("vision_model.pre_layrnorm.bias", [d]);
        foreach (var t in Layers("vision_model", v.Layers, d, v.IntermediateSize)) yield return t;
        yield return new("vision_model.post_layernorm.weight", [d]);
        yield return new("vision_model.post_layernorm.bias", [d]);
        if (c.Architecture != ClipArchitecture.VisionModel) yield return new("visual_projection.weight", [c.ProjectionDim!.Value, d]);
        if (c.Text is not { } t0) yield break;
        long td = t0.HiddenSize;
        yield return new("text_model.embeddings.token_embedding.weight", [t0.VocabSize, td]);
        yield return new("text_model.embeddings.position_embedding.weight", [t0.MaxPositions, td]);
        foreach (var t in Layers("text_model", t0.Layers, td, t0.IntermediateSize)) yield return t;
        yield return new("text_model.final_layer_norm.weight", [td]);
        yield return new("text_model.final_layer_norm.bias", [td]);
        yield return new("text_projection.weight", [c.ProjectionDim!.Value, td]);
        yield return new("logit_scale", []);
    }

    /// <summary>The I64 position_ids buffers (1, positions) transformers keeps in the state dict.</summary>
    public static IEnumerable<ClipTensorName> PositionIds(ClipConfig c)
    {
        yield return new("vision_model.embeddings.position_ids", [1, c.Vision.Positions]);
        if (c.Text is { } t) yield return new("text_model.embeddings.position_ids", [1, t.MaxPositions]);
    }

    private static IEnumerable<ClipTensorName> Layers(string tower, int layers, long d, long ffn)
    {
        for (int i = 0; i < layers; i++)
        {
            string p = $"{tower}.encoder.layers.{i}.";
            foreach (string proj in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
            {
                yield return new(p + $"self_attn.{proj}.weight", [d, d]);
                yield return new(p + $"self_attn.{proj}.bias", [d]);
            }
            yield return new(p + "layer_norm1.weight", [d]);
            yield return new(p + "layer_norm1.bias", [d]);
            yield return new(p + "mlp.fc1.weight", [ffn, d]);
            yield return new(p + "mlp.fc1.bias", [ffn]);
            yield return new(p + "mlp.fc2.weight", [d, ffn]);
            yield return new(p + "mlp.fc2.bias", [d]);
            yield return new(p + "layer_norm2.weight", [d]);
            yield return new(p + "layer_norm2.bias", [d]);
        }
    }
}
