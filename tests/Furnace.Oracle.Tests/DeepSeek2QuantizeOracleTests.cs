// The recipe rules for DeepSeek-V2 files (stacked experts ffn_*_exps whose layer comes from the name, shared experts,
// attn_kv_b counted as attn_v, the router ffn_gate_inp and exp_probs_b kept, expert-by-expert encoding of 3-D tensors)
// against llama.cpp's llama_model_quantize on a random F32 deepseek2 GGUF written here. llama.cpp's quantizer reads only
// the hyperparameters and the tensor list (no graph), so the file holds the deepseek2 keys and tensor names and shapes
// of a small MLA + MoE model (8 blocks, the first dense; 4 or 8 routed experts + 1 shared; dense ffn 1408 forces fallbacks).
using Furnace.Formats.Gguf;
using Furnace.Oracle.Tests.Support;
using Furnace.Quantization;
using Furnace.Tensors;
using LLama.Native;

namespace Furnace.Oracle.Tests;

public sealed class DeepSeek2QuantizeOracleTests
{
    private const int Dim = 256, Layers = 8, Heads = 4, KvLora = 256, Rope = 64, Nope = 128, VHead = 128, ExpFfn = 256, DenseFfn = 1408, Vocab = 320;

    private static void WriteRandomDeepSeek2(string path, int seed, int experts)
    {
        var rng = new Random(seed);
        float[] Rand(long n) => Enumerable.Range(0, (int)n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * 0.05f).ToArray();
        var w = new GgufWriter()
            .Add("general.architecture", "deepseek2")
            .Add("general.name", "random-deepseek2")
            .Add("deepseek2.context_length", 256u)
            .Add("deepseek2.embedding_length", (uint)Dim)
            .Add("deepseek2.block_count", (uint)Layers)
            .Add("deepseek2.feed_forward_length", (uint)DenseFfn)
            .Add("deepseek2.attention.head_count", (uint)Heads)
            .Add("deepseek2.attention.head_count_kv", (uint)Heads)
            .Add("deepseek2.attention.layer_norm_rms_epsilon", 1e-6f)
            .Add("deepseek2.attention.q_lora_rank", 0u)
            .Add("deepseek2.attention.kv_lora_rank", (uint)KvLora)
            .Add("deepseek2.attention.key_length", (uint)(Nope + Rope))
            .Add("deepseek2.attention.value_length", (uint)VHead)
            .Add("deepseek2.rope.dimension_count", (uint)Rope)
            .Add("deepseek2.rope.freq_base", 10000f)
            .Add("deepseek2.leading_dense_block_count", 1u)
            .Add("deepseek2.expert_feed_forward_length", (uint)ExpFfn)
            .Add("deepseek2.expert_count", (uint)experts)
            .Add("deepseek2.expert_used_count", 2u)
            .Add("deepseek2.expert_shared_count", 1u)
            .Add("deepseek2.expert_weights_scale", 1f)
            .Add("deepseek2.vocab_size", (uint)Vocab);
        void T(string name, params long[] shape) => w.AddTensor(name, DType.F32, shape, Rand(shape.Aggregate(1L, (a, b) => a * b)));
        T("token_embd.weight", Dim, Vocab);
        T("output_norm.weight", Dim);
        T("output.weight", Dim, Vocab);
        for (int l = 0; l < Layers; l++)
        {
            string b = $"blk.{l}.";
            T(b + "attn_norm.weight", Dim);
            T(b + "attn_q.weight", Dim, Heads * (Nope + Rope));
            T(b + "attn_kv_a_mqa.weight", Dim, KvLora + Rope);
            T(b + "attn_kv_a_norm.weight", KvLora);
            T(b + "attn_kv_b.weight", KvLora, Heads * (Nope + VHead));
            T(b + "attn_output.weight", Heads * VHead, Dim);
            T(b + "ffn_norm.weight", Dim);
            if (l == 0)
            {
                T(b + "ffn_gate.weight", Dim, DenseFfn);
                T(b + "ffn_up.weight", Dim, DenseFfn);
                T(b + "ffn_down.weight", DenseFfn, Dim);
                continue;
            }
            T(b + "ffn_gate_inp.weight", Dim, experts);
            T(b + "ffn_gate_exps.weight", Dim, ExpFfn, experts);
            T(b + "ffn_up_exps.weight", Dim, ExpFfn, experts);
            T(b + "ffn_down_exps.weight", ExpFfn, Dim, experts);
            T(b + "ffn_gate_shexp.weight", Dim, ExpFfn);
            T(b + "ffn_up_shexp.weight", Dim, ExpFfn);
            T(b + "ffn_down_shexp.weight", ExpFfn, Dim);
        }
        w.Write(path);
    }

    // 8 routed experts switch on llama.cpp's n_expert == 8 rules (attn_v-like -> Q8_0, attn_output -> Q5_K)
    [Theory]
    [InlineData(QuantFileType.Q4_K_M, 4)]
    [InlineData(QuantFileType.Q2_K, 4)]
    [InlineData(QuantFileType.Q3_K_M, 4)]
    [InlineData(QuantFileType.IQ4_XS, 4)]
    [InlineData(QuantFileType.Q4_K_M, 8)]
    [InlineData(QuantFileType.Q3_K_S, 8)]
    public void Quantize_RandomDeepSeek2_SameTypesAndIdenticalBlocksAsLlamaCpp(QuantFileType f, int experts)
    {
        using var dir = new TempDir();
        string src = dir.File("ds2-f32.gguf"), theirsPath = dir.File("theirs.gguf"), oursPath = dir.File("ours.gguf");
        WriteRandomDeepSeek2(src, seed: 31, experts);
        NativeApi.llama_empty_call();
        var p = LLamaModelQuantizeParams.Default();
        p.ftype = (LLamaFtype)(int)f;
        p.nthread = 2;
        p.quantize_output_tensor = true;
        Assert.True(NativeApi.llama_model_quantize(src, theirsPath, ref p) == 0, $"llama.cpp could not quantize to {f}");
        GgufQuantizer.Quantize(src, oursPath, new QuantizeOptions(f) { Threads = 2 });

        using var theirs = GgufFile.Open(theirsPath);
        using var ours = GgufFile.Open(oursPath);
        Assert.Equal(theirs.Tensors.Select(t => t.Name), ours.Tensors.Select(t => t.Name));
        var wrong = theirs.Tensors.Zip(ours.Tensors).Where(q => q.First.Type != q.Second.Type)
            .Select(q => $"{q.First.Name}: {DTypes.Name(q.Second.Type)} vs llama.cpp {DTypes.Name(q.First.Type)}").ToList();
        Assert.True(wrong.Count == 0, $"{f} deepseek2: {string.Join("; ", wrong)}");
        foreach (var (t, o) in theirs.Tensors.Zip(ours.Tensors))
            Assert.True(theirs.Map.Span(t.Offset, (int)t.ByteLength).SequenceEqual(ours.Map.Span(o.Offset, (int)o.ByteLength)), $"{f}: '{t.Name}' ({DTypes.Name(t.Type)}) bytes differ from llama.cpp's");
        Console.WriteLine($"{f} deepseek2 {experts} experts: " + string.Join(", ", ours.Tensors.GroupBy(t => t.Type).Select(g => $"{DTypes.Name(g.Key)} {g.Count()}")));
        Assert.Contains(ours.Tensors, t => t.Name == "blk.1.ffn_down_exps.weight" && t.Shape.Length == 3);
    }
}
