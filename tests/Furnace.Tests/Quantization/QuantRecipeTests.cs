// QuantRecipe's rules where the llama/qwen2 oracle files do not reach: DeepSeek-V2 tensors (stacked experts take their
// layer from the name, attn_kv_b counts as attn_v, the router stays f32), the 8-expert and 70B rules, the loader order,
// and the errors (no fallback type). llama.cpp agreement on llama/qwen2 is in Furnace.Oracle.Tests/QuantizeRecipeOracleTests.
using Furnace.Quantization;
using Furnace.Tensors;

namespace Furnace.Tests.Quantization;

public sealed class QuantRecipeTests
{
    // a deepseek2-style list: layer 0 dense, layers 1..n-1 MoE with `experts` stacked experts and a shared expert
    private static List<QuantTensor> DeepSeek2(int layers, int experts)
    {
        var t = new List<QuantTensor>
        {
            new("token_embd.weight", [512, 1000], DType.F32),
            new("output_norm.weight", [512], DType.F32),
            new("output.weight", [512, 1000], DType.F32),
        };
        for (int l = 0; l < layers; l++)
        {
            string b = $"blk.{l}.";
            t.Add(new(b + "attn_norm.weight", [512], DType.F32));
            t.Add(new(b + "attn_q.weight", [512, 1536], DType.F32));
            t.Add(new(b + "attn_kv_a_mqa.weight", [512, 576], DType.F32));
            t.Add(new(b + "attn_kv_a_norm.weight", [512], DType.F32));
            t.Add(new(b + "attn_kv_b.weight", [512, 4096], DType.F32));
            t.Add(new(b + "attn_output.weight", [2048, 512], DType.F32));
            t.Add(new(b + "ffn_norm.weight", [512], DType.F32));
            if (l == 0)
            {
                t.Add(new(b + "ffn_gate.weight", [512, 1024], DType.F32));
                t.Add(new(b + "ffn_up.weight", [512, 1024], DType.F32));
                t.Add(new(b + "ffn_down.weight", [1024, 512], DType.F32));
                continue;
            }
            t.Add(new(b + "ffn_gate_inp.weight", [512, experts], DType.F32));
            t.Add(new(b + "exp_probs_b.bias", [experts], DType.F32));
            t.Add(new(b + "ffn_gate_exps.weight", [512, 256, experts], DType.F32));
            t.Add(new(b + "ffn_up_exps.weight", [512, 256, experts], DType.F32));
            t.Add(new(b + "ffn_down_exps.weight", [256, 512, experts], DType.F32));
            t.Add(new(b + "ffn_gate_shexp.weight", [512, 512], DType.F32));
            t.Add(new(b + "ffn_up_shexp.weight", [512, 512], DType.F32));
            t.Add(new(b + "ffn_down_shexp.weight", [512, 512], DType.F32));
        }
        return QuantRecipe.OrderOf(t, x => x.Name);
    }

    private static Dictionary<string, DType> Plan(QuantFileType f, QuantModelShape shape, List<QuantTensor> t, bool imatrix = false)
    {
        var types = new QuantRecipe(f, shape, hasImatrix: imatrix).Plan(t);
        return t.Select((x, i) => (x.Name, types[i])).ToDictionary(p => p.Name, p => p.Item2);
    }

    [Fact]
    public void Plan_DeepSeek2Q4_K_M_ExpertsByLayerNameKvBAsAttnVRouterKept()
    {
        var t = DeepSeek2(layers: 16, experts: 64);
        var p = Plan(QuantFileType.Q4_K_M, new QuantModelShape("deepseek2", 16, 16, 16, 64), t);
        // use_more_bits(i, 16): i < 2, i >= 14, (i - 2) % 3 == 2 -> 0, 1, 4, 7, 10, 13, 14, 15
        int[] more = [0, 1, 4, 7, 10, 13, 14, 15];
        for (int l = 1; l < 16; l++)
        {
            DType want = more.Contains(l) ? DType.Q6_K : DType.Q4_K;
            Assert.Equal(want, p[$"blk.{l}.ffn_down_exps.weight"]);
            Assert.Equal(want, p[$"blk.{l}.ffn_down_shexp.weight"]);
            Assert.Equal(want, p[$"blk.{l}.attn_kv_b.weight"]); // the l-th attn_v-like tensor of 16
            Assert.Equal(DType.F32, p[$"blk.{l}.ffn_gate_inp.weight"]);
            Assert.Equal(DType.F32, p[$"blk.{l}.exp_probs_b.bias"]);
            Assert.Equal(DType.Q4_K, p[$"blk.{l}.ffn_up_exps.weight"]);
        }
        Assert.Equal(DType.Q6_K, p["blk.0.ffn_down.weight"]);
        Assert.Equal(DType.F32, p["blk.3.attn_kv_a_norm.weight"]);
        Assert.Equal(DType.Q4_K, p["blk.3.attn_kv_a_mqa.weight"]);
        Assert.Equal(DType.Q6_K, p["output.weight"]);
        Assert.Equal(DType.Q4_K, p["token_embd.weight"]);
    }

    [Fact]
    public void Plan_EightExperts_AttnVAndKQ8_0AttnOutputQ5_K()
    {
        var t = DeepSeek2(layers: 4, experts: 8);
        var p = Plan(QuantFileType.Q3_K_M, new QuantModelShape("deepseek2", 4, 16, 16, 8), t);
        Assert.Equal(DType.Q8_0, p["blk.2.attn_kv_b.weight"]);
        Assert.Equal(DType.Q5_K, p["blk.2.attn_output.weight"]);
    }

    [Fact]
    public void Plan_70BLlama_AttnVRaisedToQ5_K()
    {
        var t = QuantRecipe.OrderOf(Enumerable.Range(0, 80).Select(l => new QuantTensor($"blk.{l}.attn_v.weight", [8192, 1024], DType.F16)), x => x.Name);
        var p = Plan(QuantFileType.Q3_K_S, new QuantModelShape("llama", 80, 64, 8, 0), t);
        Assert.All(p.Values, v => Assert.Equal(DType.Q5_K, v));
    }

    [Fact]
    public void Plan_TiedEmbeddings_TokenEmbdTakesTheOutputType()
    {
        var t = QuantRecipe.OrderOf(new[] { new QuantTensor("token_embd.weight", [256, 100], DType.F32), new QuantTensor("blk.0.attn_q.weight", [256, 256], DType.F32) }, x => x.Name);
        var p = Plan(QuantFileType.Q4_0, new QuantModelShape("llama", 1, 4, 4, 0), t);
        Assert.Equal(DType.Q6_K, p["token_embd.weight"]);
        Assert.Equal(DType.Q4_0, p["blk.0.attn_q.weight"]);
    }

    [Fact]
    public void Plan_ImatrixQ4_0_FirstEighthOfFfnDownIsQ4_1()
    {
        var t = QuantRecipe.OrderOf(Enumerable.Range(0, 16).Select(l => new QuantTensor($"blk.{l}.ffn_down.weight", [512, 256], DType.F32)), x => x.Name);
        var with = Plan(QuantFileType.Q4_0, new QuantModelShape("llama", 16, 4, 4, 0), t, imatrix: true);
        var without = Plan(QuantFileType.Q4_0, new QuantModelShape("llama", 16, 4, 4, 0), t);
        Assert.Equal([DType.Q4_1, DType.Q4_1], Enumerable.Range(0, 2).Select(l => with[$"blk.{l}.ffn_down.weight"]));
        Assert.Equal(DType.Q4_0, with["blk.2.ffn_down.weight"]);
        Assert.All(without.Values, v => Assert.Equal(DType.Q4_0, v));
    }

    [Fact]
    public void OrderOf_BlocksNumericallyOthersFirst()
    {
        string[] names = ["blk.10.attn_q.weight", "output.weight", "blk.2.attn_q.weight", "blk.2.attn_k.weight", "token_embd.weight"];
        Assert.Equal(["output.weight", "token_embd.weight", "blk.2.attn_k.weight", "blk.2.attn_q.weight", "blk.10.attn_q.weight"], QuantRecipe.OrderOf(names, n => n));
    }

    [Fact]
    public void Fallback_RowNotMultipleOf32ForQ4_0_ErrorNamesTheTensor()
    {
        var t = new List<QuantTensor> { new("blk.0.attn_q.weight", [100, 64], DType.F32) };
        var ex = Assert.Throws<FurnaceException>(() => new QuantRecipe(QuantFileType.Q4_0, new QuantModelShape("llama", 1, 1, 1, 0)).Plan(t));
        Assert.Equal("tensor 'blk.0.attn_q.weight': row length 100 is not a multiple of the q4_0 block size 32, and q4_0 has no fallback type", ex.Message);
    }

    [Theory]
    [InlineData(DType.Q2_K, 1408, DType.Q4_0)]
    [InlineData(DType.Q3_K, 1408, DType.Q4_0)]
    [InlineData(DType.IQ4_XS, 1408, DType.IQ4_NL)]
    [InlineData(DType.Q4_K, 1408, DType.Q5_0)]
    [InlineData(DType.Q5_K, 1408, DType.Q5_1)]
    [InlineData(DType.Q6_K, 1408, DType.Q8_0)]
    [InlineData(DType.Q4_K, 1400, DType.F16)]
    [InlineData(DType.Q4_K, 1536, DType.Q4_K)]
    public void Fallback_RowLength_LlamaCppsType(DType chosen, long n, DType expected) =>
        Assert.Equal(expected, QuantRecipe.Fallback(new QuantTensor("t.weight", [n, 8], DType.F32), chosen));

    [Theory]
    [InlineData("q4_k_m", QuantFileType.Q4_K_M)]
    [InlineData("Q4_K", QuantFileType.Q4_K_M)]
    [InlineData("iq4_xs", QuantFileType.IQ4_XS)]
    [InlineData("bf16", QuantFileType.BF16)]
    public void TryParse_Names_LlamaQuantizeSpelling(string name, QuantFileType expected)
    {
        Assert.True(QuantFileTypes.TryParse(name, out var f));
        Assert.Equal(expected, f);
    }
}
