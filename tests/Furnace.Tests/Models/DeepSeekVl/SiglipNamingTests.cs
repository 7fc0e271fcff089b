// The SigLIP tower loads transformers' naming (embeddings.*, encoder.layers.*, post_layernorm) to the same numbers as
// timm's (patch_embed, pos_embed, blocks.*.attn.qkv, norm), the latter checked against the PyTorch reference in
// DeepSeekVlOracleTests: the tiny DeepSeek-VL tower rewritten under HF names (qkv split in three, pos_embed squeezed,
// as transformers' DeepSeek-VL converter maps them) encodes identically; FinalNorm false skips the norm.
using System.Text.Json;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models.Clip;
using Furnace.Models.DeepSeekVl;
using Furnace.Models.Siglip;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeekVl;

public sealed class SiglipNamingTests
{
    [Fact]
    public void LoadHuggingFace_SameTensorsAsTimm_EncodesIdentically()
    {
        using var dir = new TempDir();
        string model = DeepSeekVlOracleTests.WriteTiny(dir);
        SiglipVisionConfig c = RandomDeepSeekVl.TestTiny().Vision;
        int d = c.Width, ffn = c.MlpDim, p = c.PatchSize;
        string hf = dir.File("siglip-hf.safetensors");
        using (var source = SafeTensorsCheckpoint.Open(model))
        {
            var t = new WeightLoader(source).Prefix("vision_model.vision_tower");
            var w = new SafeTensorsWriter();
            const string v = "vision_model.";
            w.Add(v + "embeddings.patch_embedding.weight", [d, 3, p, p], t.Floats("patch_embed.proj.weight", d, 3, p, p));
            w.Add(v + "embeddings.patch_embedding.bias", [d], t.Floats("patch_embed.proj.bias", d));
            w.Add(v + "embeddings.position_embedding.weight", [c.Patches, d], t.Floats("pos_embed", 1, c.Patches, d));
            for (int i = 0; i < c.Layers; i++)
            {
                string b = $"blocks.{i}.", h = $"{v}encoder.layers.{i}.";
                float[] qkv = t.Floats(b + "attn.qkv.weight", 3 * d, d), qkvBias = t.Floats(b + "attn.qkv.bias", 3 * d);
                string[] names = ["q_proj", "k_proj", "v_proj"];
                for (int k = 0; k < 3; k++)
                {
                    w.Add(h + $"self_attn.{names[k]}.weight", [d, d], qkv[(k * d * d)..((k + 1) * d * d)]);
                    w.Add(h + $"self_attn.{names[k]}.bias", [d], qkvBias[(k * d)..((k + 1) * d)]);
                }
                foreach (var (from, to, shape) in new (string, string, long[])[]
                {
                    ("attn.proj.weight", "self_attn.out_proj.weight", [d, d]), ("attn.proj.bias", "self_attn.out_proj.bias", [d]),
                    ("norm1.weight", "layer_norm1.weight", [d]), ("norm1.bias", "layer_norm1.bias", [d]),
                    ("norm2.weight", "layer_norm2.weight", [d]), ("norm2.bias", "layer_norm2.bias", [d]),
                    ("mlp.fc1.weight", "mlp.fc1.weight", [ffn, d]), ("mlp.fc1.bias", "mlp.fc1.bias", [ffn]),
                    ("mlp.fc2.weight", "mlp.fc2.weight", [d, ffn]), ("mlp.fc2.bias", "mlp.fc2.bias", [d]),
                })
                    w.Add(h + to, shape, t.Floats(b + from, shape));
            }
            w.Add(v + "post_layernorm.weight", [d], t.Floats("norm.weight", d));
            w.Add(v + "post_layernorm.bias", [d], t.Floats("norm.bias", d));
            w.Write(hf);
        }
        string json = $$"""{"hidden_size": {{d}}, "intermediate_size": {{ffn}}, "num_hidden_layers": {{c.Layers}}, "num_attention_heads": {{c.Heads}}, "image_size": {{c.ImageSize}}, "patch_size": {{p}}, "hidden_act": "gelu"}""";
        SiglipVisionConfig hfConfig = SiglipVisionConfig.FromHuggingFace(JsonDocument.Parse(json).RootElement, "test");
        Assert.Equal(ClipActivation.GeluErf, hfConfig.Activation);

        using var timmSource = SafeTensorsCheckpoint.Open(model);
        using var hfSource = SafeTensorsCheckpoint.Open(hf);
        using var timm = SiglipVisionTower.Load(new WeightLoader(timmSource).Prefix("vision_model.vision_tower"), c);
        using var hfTower = new SiglipVisionTower(hfConfig, SiglipVisionWeights.LoadHuggingFace(new WeightLoader(hfSource).Prefix("vision_model"), hfConfig));
        using var raw = new SiglipVisionTower(c with { FinalNorm = false }, timm.Weights);
        using var ctx = new KernelContext(1);
        float[] pixels = SeededUniformPixels(2 * 3 * c.ImageSize * c.ImageSize);
        float[] a = timm.Encode(pixels, 2, ctx);
        Assert.Equal(a, hfTower.Encode(pixels, 2, ctx));
        Assert.NotEqual(a, raw.Encode(pixels, 2, ctx));
    }

    [Fact]
    public void FromHuggingFace_NoHiddenAct_IsSiglipsTanhGelu()
    {
        string json = """{"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "image_size": 32, "patch_size": 8}""";
        var c = SiglipVisionConfig.FromHuggingFace(JsonDocument.Parse(json).RootElement, "test");
        Assert.Equal(ClipActivation.GeluTanh, c.Activation);
        Assert.Equal(16, c.Patches);
    }

    private static float[] SeededUniformPixels(int n) => Furnace.Models.SeededUniform.Values(n, 3, "pixels", 0, 1);
}
