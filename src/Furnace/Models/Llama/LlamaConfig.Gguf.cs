// LlamaConfig from and to GGUF metadata (llama.cpp's LLM_KV names: "{arch}.embedding_length", …).
using Furnace.Formats.Gguf;

namespace Furnace.Models.Llama;

public sealed partial record LlamaConfig
{
    public static LlamaConfig FromGguf(GgufFile f)
    {
        string arch = f.Architecture ?? throw new FurnaceFormatException(f.Path, "missing metadata 'general.architecture'");
        if (arch is not ("llama" or "qwen2"))
            throw new FurnaceFormatException(f.Path, $"architecture '{arch}' is not supported (llama, qwen2)");

        int Int(string key)
        {
            long v = f.GetInt($"{arch}.{key}") ?? throw new FurnaceFormatException(f.Path, $"missing metadata '{arch}.{key}'");
            if (v <= 0 || v > int.MaxValue) throw new FurnaceFormatException(f.Path, $"metadata '{arch}.{key}' = {v} is out of range");
            return (int)v;
        }

        int dim = Int("embedding_length");
        int heads = Int("attention.head_count");
        int headDim = (int)(f.GetInt($"{arch}.attention.key_length") ?? dim / heads);
        int vocab = f.GetArray<string>("tokenizer.ggml.tokens")?.Length
            ?? (int?)f.GetInt($"{arch}.vocab_size")
            ?? (int)(f.FindTensor("token_embd.weight")?.Shape[^1] ?? throw new FurnaceFormatException(f.Path, "cannot tell the vocabulary size"));
        string? scalingType = f.GetString($"{arch}.rope.scaling.type");
        float linear = 1f;
        if (scalingType == "linear") linear = (float)(f.GetFloat($"{arch}.rope.scaling.factor") ?? 1.0);
        else if (scalingType is not (null or "none"))
            throw new FurnaceFormatException(f.Path, $"rope scaling type '{scalingType}' is not supported (none, linear; llama3 through rope_freqs.weight)");
        var tokEmb = f.FindTensor("token_embd.weight");
        if (tokEmb != null && tokEmb.Shape.Length == 2 && tokEmb.Shape[1] != vocab) vocab = (int)tokEmb.Shape[1];
        return new LlamaConfig
        {
            Architecture = arch,
            Dim = dim,
            Layers = Int("block_count"),
            Heads = heads,
            KvHeads = (int)(f.GetInt($"{arch}.attention.head_count_kv") ?? heads),
            HeadDim = headDim,
            FfnDim = Int("feed_forward_length"),
            VocabSize = vocab,
            MaxPositions = Int("context_length"),
            RmsEps = (float)(f.GetFloat($"{arch}.attention.layer_norm_rms_epsilon") ?? 1e-5),
            RopeTheta = (float)(f.GetFloat($"{arch}.rope.freq_base") ?? 10000.0),
            RopeLinearFactor = linear,
            TiedEmbeddings = f.FindTensor("output.weight") == null,
            AttentionBias = f.FindTensor("blk.0.attn_q.bias") != null,
        }.Validated(f.Path);
    }

    /// <summary>Writes the "{arch}.*" hyper-parameters llama.cpp reads.</summary>
    public void WriteGguf(GgufWriter w, string name)
    {
        string a = Architecture;
        w.Add("general.architecture", a)
         .Add("general.name", name)
         .Add($"{a}.context_length", (uint)MaxPositions)
         .Add($"{a}.embedding_length", (uint)Dim)
         .Add($"{a}.block_count", (uint)Layers)
         .Add($"{a}.feed_forward_length", (uint)FfnDim)
         .Add($"{a}.attention.head_count", (uint)Heads)
         .Add($"{a}.attention.head_count_kv", (uint)KvHeads)
         .Add($"{a}.attention.layer_norm_rms_epsilon", RmsEps)
         .Add($"{a}.rope.freq_base", RopeTheta)
         .Add($"{a}.rope.dimension_count", (uint)HeadDim)
         .Add($"{a}.vocab_size", (uint)VocabSize);
        if (RopeLinearFactor != 1f) w.Add($"{a}.rope.scaling.type", "linear").Add($"{a}.rope.scaling.factor", RopeLinearFactor);
        if (HeadDim != Dim / Heads)
        {
            w.Add($"{a}.attention.key_length", (uint)HeadDim).Add($"{a}.attention.value_length", (uint)HeadDim);
        }
    }
}
