// The read-only weights of one CLIP encoder layer (transformers modeling_clip.py CLIPEncoderLayer: layer_norm1,
// self_attn.{q,k,v,out}_proj with biases, layer_norm2, mlp.fc1/fc2 with biases), shared by both towers.
// Matrices stay in the memory-mapped checkpoint in their stored dtype; norms and biases are decoded to float.
// The mmproj names are llama.cpp's (v.blk.{i}.ln1, attn_q/k/v/out, ln2, ffn_up = fc1, ffn_down = fc2); files from
// llama.cpp's legacy convert_image_encoder_to_gguf.py carry fc1 as ffn_down and fc2 as ffn_up, told apart by shape as
// clip.cpp does.
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Models.Clip;

public sealed class ClipEncoderLayerWeights
{
    public required float[] Norm1Weight { get; init; } // (d,)
    public required float[] Norm1Bias { get; init; }   // (d,)
    public required WeightMatrix Wq { get; init; }     // (d, d)
    public required float[] Bq { get; init; }          // (d,)
    public required WeightMatrix Wk { get; init; }     // (d, d)
    public required float[] Bk { get; init; }          // (d,)
    public required WeightMatrix Wv { get; init; }     // (d, d)
    public required float[] Bv { get; init; }          // (d,)
    public required WeightMatrix Wo { get; init; }     // (d, d)
    public required float[] Bo { get; init; }          // (d,)
    public required float[] Norm2Weight { get; init; } // (d,)
    public required float[] Norm2Bias { get; init; }   // (d,)
    public required WeightMatrix Fc1 { get; init; }    // (ffn, d)
    public required float[] Fc1Bias { get; init; }     // (ffn,)
    public required WeightMatrix Fc2 { get; init; }    // (d, ffn)
    public required float[] Fc2Bias { get; init; }     // (d,)

    /// <summary>Layers 0..layers-1 at `encoder.layers.{i}` under tower (vision_model or text_model).</summary>
    public static ClipEncoderLayerWeights[] LoadAll(WeightLoader tower, int layers, int d, int ffn)
    {
        var all = new ClipEncoderLayerWeights[layers];
        for (int i = 0; i < layers; i++)
        {
            var b = tower.Prefix($"encoder.layers.{i}");
            var attn = b.Prefix("self_attn");
            var mlp = b.Prefix("mlp");
            all[i] = new ClipEncoderLayerWeights
            {
                Norm1Weight = b.Vector("layer_norm1.weight", d),
                Norm1Bias = b.Vector("layer_norm1.bias", d),
                Wq = attn.Matrix("q_proj.weight", d, d),
                Bq = attn.Vector("q_proj.bias", d),
                Wk = attn.Matrix("k_proj.weight", d, d),
                Bk = attn.Vector("k_proj.bias", d),
                Wv = attn.Matrix("v_proj.weight", d, d),
                Bv = attn.Vector("v_proj.bias", d),
                Wo = attn.Matrix("out_proj.weight", d, d),
                Bo = attn.Vector("out_proj.bias", d),
                Norm2Weight = b.Vector("layer_norm2.weight", d),
                Norm2Bias = b.Vector("layer_norm2.bias", d),
                Fc1 = mlp.Matrix("fc1.weight", ffn, d),
                Fc1Bias = mlp.Vector("fc1.bias", ffn),
                Fc2 = mlp.Matrix("fc2.weight", d, ffn),
                Fc2Bias = mlp.Vector("fc2.bias", d),
            };
        }
        return all;
    }

    /// <summary>Layers 0..layers-1 at `blk.{i}` under v (an mmproj GGUF's vision prefix).</summary>
    public static ClipEncoderLayerWeights[] LoadAllMmproj(WeightLoader v, int layers, int d, int ffn)
    {
        var all = new ClipEncoderLayerWeights[layers];
        for (int i = 0; i < layers; i++)
        {
            var b = v.Prefix($"blk.{i}");
            // legacy files: ffn_up.weight holds fc2 (d, ffn) and ffn_down.weight fc1 (ffn, d)
            bool swapped = d != ffn && b.Find("ffn_up.weight") is { } up && up.Shape.Length == 2 && up.Shape[0] == d && up.Shape[1] == ffn;
            string fc1 = swapped ? "ffn_down" : "ffn_up", fc2 = swapped ? "ffn_up" : "ffn_down";
            all[i] = new ClipEncoderLayerWeights
            {
                Norm1Weight = b.Vector("ln1.weight", d),
                Norm1Bias = b.Vector("ln1.bias", d),
                Wq = b.Matrix("attn_q.weight", d, d),
                Bq = b.Vector("attn_q.bias", d),
                Wk = b.Matrix("attn_k.weight", d, d),
                Bk = b.Vector("attn_k.bias", d),
                Wv = b.Matrix("attn_v.weight", d, d),
                Bv = b.Vector("attn_v.bias", d),
                Wo = b.Matrix("attn_out.weight", d, d),
                Bo = b.Vector("attn_out.bias", d),
                Norm2Weight = b.Vector("ln2.weight", d),
                Norm2Bias = b.Vector("ln2.bias", d),
                Fc1 = b.Matrix($"{fc1}.weight", ffn, d),
                Fc1Bias = b.Vector($"{fc1}.bias", ffn),
                Fc2 = b.Matrix($"{fc2}.weight", d, ffn),
                Fc2Bias = b.Vector($"{fc2}.bias", d),
            };
        }
        return all;
    }
}
