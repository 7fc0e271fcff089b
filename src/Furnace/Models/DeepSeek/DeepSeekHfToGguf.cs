// Hugging Face DeepseekV2ForCausalLM / DeepseekV3ForCausalLM directory -> one deepseek2 GGUF file, as llama.cpp's
// convert_hf_to_gguf.py (DeepseekV2Model.modify_tensors / set_gguf_parameters) writes it for the llama.cpp that
// LLamaSharp 0.30.0 bundles (c0c7e147): kv_b_proj (h·(nope + v), kvLora) split into attn_k_b = per-head W_UKᵀ
// (ggml ne [nope, kvLora, h]) and attn_v_b = per-head W_UV (ne [kvLora, v, h]); head_count_kv 1 with
// key_length_mla / value_length_mla (the MLA keys DeepSeekConfig.WriteGguf writes); routed experts merged into
// ffn_{gate,up,down}_exps stacks (ne [cols, rows, n_expert]); no rope permutation of q_pe / k_pe (llama.cpp's deepseek2
// rotates adjacent pairs, which is what the DeepSeek HF code does after its de-interleave). Tensors stream one at a time.
// Plain-attention directories (DeepseekForCausalLM, use_mla false) become llama.cpp's "deepseek" architecture as its
// DeepseekModel converter writes it: attn_q / attn_k (rows permuted for adjacent-pair rope) / attn_v, deepseek.* keys.
using Furnace.Formats.Gguf;
using Furnace.Formats.HfConfig;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Tokenizers;
using Furnace.Formats.Weights;
using Furnace.Models.Llama;
using Furnace.Tensors;

namespace Furnace.Models.DeepSeek;

public static class DeepSeekHfToGguf
{
    /// <summary>True when the directory's config.json names a DeepSeek-V2/V3 model.</summary>
    public static bool IsDeepSeekDirectory(string hfDir) =>
        File.Exists(Path.Combine(hfDir, "config.json")) && DeepSeekConfig.IsHfDeepSeek(HfConfigFile.Read(Path.Combine(hfDir, "config.json")));

    /// <param name="vocab">GGUF tokenizer metadata; null = from the directory's tokenizer.json.</param>
    /// <param name="progress">Called before each tensor is encoded with (index from 1, count, GGUF name).</param>
    public static void Convert(string hfDir, string ggufPath, DType type, IEnumerable<KeyValuePair<string, GgufValue>>? vocab = null,
        Action<int, int, string>? progress = null)
    {
        if (!DTypes.IsWeightType(type)) throw new FurnaceException($"cannot convert to {DTypes.Name(type)}");
        string configPath = Path.Combine(hfDir, "config.json");
        HfModelConfig raw = HfConfigFile.Read(configPath);
        // the GGUF carries llama.cpp's routing (group score = sum of top two; routed_scaling_factor as written), as its converter
        DeepSeekConfig c = DeepSeekConfig.FromHf(raw, configPath) with
        {
            ExpertWeightsScale = (float)(raw.RoutedScalingFactor ?? 1), ExpertWeightsNorm = raw.NormTopkProb ?? false,
            GroupScore = ExpertGroupScore.SumOfTopTwo,
        };
        if (vocab == null)
        {
            string tokenizerPath = Path.Combine(hfDir, "tokenizer.json");
            if (!File.Exists(tokenizerPath)) throw new FurnaceException($"{hfDir}: no tokenizer.json (a GGUF file carries the vocabulary)");
            vocab = Tokenizer.FromHuggingFace(tokenizerPath).ToGgufMetadata(c.VocabSize);
        }

        using ITensorSource source = SafeTensorsCheckpoint.Open(hfDir);
        int firstMoe = c.LeadingDenseLayers;
        bool bias = firstMoe < c.Layers && source.Find($"model.layers.{firstMoe}.mlp.gate.e_score_correction_bias") != null;
        var specs = RandomDeepSeek.Tensors(c, bias).ToList();

        var w = new GgufWriter();
        if (c.Mla) c.WriteGguf(w, ModelName(hfDir));
        else c.WriteGgufMha(w, ModelName(hfDir)); // plain attention: llama.cpp's "deepseek" (DeepseekModel in its converter)
        w.Add("general.file_type", GgufFileType.OfSingleType(type));
        foreach (var (k, v) in vocab) w.Add(k, v);
        int done = 0;
        foreach (RandomDeepSeek.TensorSpec t in specs)
        {
            var spec = t;
            RandomDeepSeek.AddTensor(w, spec, type, () =>
            {
                progress?.Invoke(++done, specs.Count, spec.Name);
                return Values(source, c, spec);
            });
        }
        w.Write(ggufPath);
    }

    private static string ModelName(string dir) =>
        Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir))) is { Length: > 0 } n ? n : "model";

    // a checkpoint tensor as float, checked against the shape the config implies (row-major, HF order)
    private static float[] Read(ITensorSource source, string name, params long[] shape)
    {
        TensorEntry e = source.Find(name) ?? throw new FurnaceFormatException(source.Path, $"missing tensor '{name}'");
        if (!e.Shape.SequenceEqual(shape))
            throw new FurnaceFormatException(source.Path, $"tensor '{name}' has shape {e.ShapeText}, expected [{string.Join(", ", shape)}]");
        if (e.Type is not (DType.F32 or DType.F16 or DType.BF16))
            throw new FurnaceFormatException(source.Path, $"tensor '{name}' is {DTypes.Name(e.Type)}; conversion reads F32, F16 and BF16");
        return e.File.ReadFloats(e.Offset, checked((int)e.ElementCount), e.Type);
    }

    // the values of one GGUF tensor (row-major in ggml order: ne0 fastest) from the HF checkpoint
    private static float[] Values(ITensorSource src, DeepSeekConfig c, RandomDeepSeek.TensorSpec t)
    {
        long[] shape = t.Ne.Reverse().ToArray();
        string n = t.Name;
        switch (n)
        {
            case "token_embd.weight": return Read(src, "model.embed_tokens.weight", shape);
            case "output_norm.weight": return Read(src, "model.norm.weight", shape);
            case "output.weight": return Read(src, "lm_head.weight", shape);
        }
        int dot = n.IndexOf('.', 4);
        string p = $"model.layers.{n[4..dot]}.", rest = n[(dot + 1)..];
        int h = c.Heads, nope = c.QkNopeDim, v = c.VHeadDim, kvLora = c.KvLoraRank;
        switch (rest)
        {
            case "attn_q.weight" or "attn_k.weight" when !c.Mla:
            {
                // llama.cpp's DeepseekModel permutes q/k rows for its adjacent-pair rope (as for llama)
                float[] hf = Read(src, p + DeepSeekTensorNames.HfLayerName(rest), shape);
                return LlamaTensorNames.PermuteRows(hf, (int)shape[0], rest == "attn_q.weight" ? c.Heads : c.KvHeads);
            }
            case "attn_k_b.weight" or "attn_v_b.weight":
            {
                // kv_b_proj rows per head: nope rows of W_UK, then v rows of W_UV, each kvLora wide
                float[] kv = Read(src, p + "self_attn.kv_b_proj.weight", h * (nope + v), kvLora);
                bool key = rest == "attn_k_b.weight";
                var o = new float[(long)h * (key ? nope : v) * kvLora];
                for (int hd = 0; hd < h; hd++)
                {
                    long head = (long)hd * (nope + v) * kvLora;
                    if (key) // (h, kvLora, nope): W_UK transposed
                        for (int i = 0; i < nope; i++)
                            for (int r = 0; r < kvLora; r++) o[((long)hd * kvLora + r) * nope + i] = kv[head + (long)i * kvLora + r];
                    else // (h, v, kvLora): W_UV as is
                        Array.Copy(kv, head + (long)nope * kvLora, o, (long)hd * v * kvLora, (long)v * kvLora);
                }
                return o;
            }
            case "ffn_gate_exps.weight" or "ffn_up_exps.weight" or "ffn_down_exps.weight":
            {
                string proj = rest[4..rest.IndexOf('_', 4)] + "_proj";
                long rows = shape[1], cols = shape[2], each = rows * cols;
                var o = new float[c.Experts * each];
                for (int e = 0; e < c.Experts; e++)
                    Read(src, $"{p}mlp.experts.{e}.{proj}.weight", rows, cols).CopyTo(o, e * each);
                return o;
            }
        }
        string name = DeepSeekTensorNames.HfLayerName(rest) ?? throw new InvalidOperationException(n);
        return Read(src, p + name, shape);
    }
}
