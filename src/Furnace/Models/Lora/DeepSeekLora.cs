// LoRA on a DeepSeek-V2/V3 decoder (MLA + DeepSeekMoE): the linears PEFT can adapt in transformers'
// DeepseekV2/V3ForCausalLM (module paths of its state dict) and merging an adapter into DeepSeekWeights at load
// (PEFT's merge_and_unload: W' = W + s·B·A per adapted linear, in the weight's own dtype, as LoraMerge does for Llama).
//   self_attn: q_proj (no q LoRA) or q_a_proj / q_b_proj, kv_a_proj_with_mqa, kv_b_proj, o_proj
//   mlp (dense leading layers): gate_proj, up_proj, down_proj
//   mlp.experts.E / mlp.shared_experts (MoE layers): gate_proj, up_proj, down_proj
// The router (mlp.gate) is a bare parameter in the HF code, not an nn.Linear, so PEFT cannot target it; lm_head is
// left out as PEFT's all-linear does. kv_b_proj (heads·(nope + vHead), kvLora) is held split for the absorbed MLA
// form (DeepSeekWeights: W_UK_h^T (kvLora, nope) and W_UV_h (vHead, kvLora) per head), so its update is split too:
//   ΔW_UV_h = s·B_v,h·A                  (B_v,h: head h's value rows of B)
//   ΔW_UK_h^T = s·(B_k,h·A)^T = s·Aᵀ·B_k,hᵀ   (a rank-r update with factors Aᵀ (kvLora, r) and B_k,hᵀ (r, nope))
// GGUF deepseek2 files keep HF's row order (no rope permutation), so the same factors apply to both formats.
using Furnace.Models.DeepSeek;
using Furnace.Tensors;

namespace Furnace.Models.Lora;

public static class DeepSeekLora
{
    /// <summary>
    /// `lora merge` / `lora export` write Llama-family checkpoints only: a deepseek2 GGUF or DeepseekV2/V3 directory
    /// base fails with one line pointing at the merge at load (--lora) instead.
    /// </summary>
    public static void RefuseCheckpointWrite(string basePath, string verb)
    {
        bool deepSeek;
        if (File.Exists(basePath) && Formats.Gguf.GgufFile.HasMagic(basePath))
        {
            using var f = Formats.Gguf.GgufFile.Open(basePath);
            deepSeek = f.Architecture == DeepSeekConfig.Arch;
        }
        else
        {
            string config = Path.Combine(basePath, "config.json");
            deepSeek = Directory.Exists(basePath) && File.Exists(config) && DeepSeekConfig.IsHfDeepSeek(Formats.HfConfig.HfConfigFile.Read(config));
        }
        if (deepSeek)
            throw new FurnaceException($"{basePath}: lora {verb} does not write DeepSeek ({DeepSeekConfig.Arch}) checkpoints yet; pass --lora to generate, logits, caption, ask, eval or serve to merge the adapter at load");
    }

    /// <summary>Every linear a LoRA adapter may target in this decoder, under prefix ("" or "language_model.").</summary>
    public static IReadOnlyList<LoraModule> Modules(DeepSeekConfig c, string prefix = "")
    {
        if (!c.Mla)
            throw new FurnaceException($"LoRA adapters on {c.Architecture} decoders with plain attention (no MLA) are not supported yet");
        var list = new List<LoraModule>();
        int dim = c.Dim, h = c.Heads, sh = c.ExpertFfnDim * c.SharedExperts;
        for (int i = 0; i < c.Layers; i++)
        {
            string a = $"{prefix}model.layers.{i}.self_attn.", m = $"{prefix}model.layers.{i}.mlp.";
            if (c.QLoraRank == 0) list.Add(new(a + "q_proj", h * c.QkHeadDim, dim));
            else
            {
                list.Add(new(a + "q_a_proj", c.QLoraRank, dim));
                list.Add(new(a + "q_b_proj", h * c.QkHeadDim, c.QLoraRank));
            }
            list.Add(new(a + "kv_a_proj_with_mqa", c.CacheRowDim, dim));
            list.Add(new(a + "kv_b_proj", h * (c.QkNopeDim + c.VHeadDim), c.KvLoraRank));
            list.Add(new(a + "o_proj", dim, h * c.VHeadDim));
            if (!c.IsMoeLayer(i))
            {
                AddMlp(list, m, c.FfnDim, dim);
                continue;
            }
            for (int e = 0; e < c.Experts; e++) AddMlp(list, $"{m}experts.{e}.", c.ExpertFfnDim, dim);
            if (sh > 0) AddMlp(list, m + "shared_experts.", sh, dim);
        }
        return list;

        static void AddMlp(List<LoraModule> list, string p, int ffn, int dim)
        {
            list.Add(new(p + "gate_proj", ffn, dim));
            list.Add(new(p + "up_proj", ffn, dim));
            list.Add(new(p + "down_proj", dim, ffn));
        }
    }

    /// <summary>
    /// A fresh adapter over the modules the targets select (PEFT's initialisation: B = 0), or with both factors random
    /// when <paramref name="randomB"/> (for tests).
    /// </summary>
    public static LoraAdapter Create(LoraConfig config, DeepSeekConfig decoder, int seed, string prefix = "", bool randomB = false)
    {
        IReadOnlyList<LoraModule> all = Modules(decoder, prefix);
        // all-linear: every linear above (LoraTargets' own all-linear test knows the Llama names only)
        bool every = config.Targets.Kind == LoraTargetKind.AllLinear;
        var selected = every ? all.ToList() : all.Where(m => config.Targets.Matches(m.Path)).ToList();
        var unmatched = every ? [] : config.Targets.Unmatched(all.Select(m => m.Path).ToList()).ToList();
        if (unmatched.Count > 0 || selected.Count == 0)
            throw new FurnaceException($"LoRA target modules {string.Join(", ", unmatched.Count > 0 ? unmatched : config.Targets.Names)} match no linear layer of the DeepSeek model");
        return new LoraAdapter(config, selected.Select(m => KeyValuePair.Create(m.Path,
            randomB ? LoraModuleWeights.Random(m, config.Rank, seed) : LoraModuleWeights.Initial(m, config.Rank, seed))));
    }

    /// <summary>
    /// A new DeepSeekWeights equal to <paramref name="weights"/> with the adapter merged; new buffers go to owner.
    /// pack: also repack every other Q8_0/Q4_0 matrix (but the embedding and router) to Interleaved8, as
    /// DeepSeekWeights.Load does with a PackedWeights (give unpacked weights then). Module paths may carry the
    /// "language_model." prefix of a LLaVA-style adapter; any other path, or factors that do not fit the weight, fail
    /// naming the tensor and both shapes.
    /// </summary>
    public static DeepSeekWeights Apply(DeepSeekWeights weights, DeepSeekConfig c, LoraAdapter adapter, PackedWeights owner,
        float scaleMultiplier = 1f, bool pack = false, KernelContext? ctx = null, string source = "LoRA adapter")
    {
        if (!float.IsFinite(scaleMultiplier)) throw new FurnaceException($"LoRA scale {scaleMultiplier} must be finite");
        float scale = adapter.Config.Scale * scaleMultiplier;
        var known = Modules(c).ToDictionary(m => m.Path, StringComparer.Ordinal);
        var byPath = new Dictionary<string, LoraModuleWeights>(StringComparer.Ordinal);
        foreach (var (path, w) in adapter.Modules.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            string bare = path.StartsWith(LoraModules.LlavaPrefix, StringComparison.Ordinal) ? path[LoraModules.LlavaPrefix.Length..] : path;
            if (!known.TryGetValue(bare, out LoraModule? m))
            {
                string hint = bare.EndsWith(".mlp.gate", StringComparison.Ordinal) ? " (the MoE router is not an nn.Linear; LoRA cannot target it)"
                    : bare.EndsWith("lm_head", StringComparison.Ordinal) ? " (LoRA on lm_head is not supported)"
                    : $" (its linears: q_proj or q_a_proj/q_b_proj, kv_a_proj_with_mqa, kv_b_proj, o_proj, mlp[.experts.E|.shared_experts].gate_proj/up_proj/down_proj; {c.Layers} layers)";
                throw new FurnaceException($"{source}: LoRA module '{path}' is not a linear layer of the DeepSeek model{hint}");
            }
            if (w.InFeatures != m.InFeatures || w.OutFeatures != m.OutFeatures)
                throw new FurnaceException($"{source}: tensors '{LoraAdapter.KeyA(path)}' [{w.Rank}, {w.InFeatures}] / '{LoraAdapter.KeyB(path)}' [{w.OutFeatures}, {w.Rank}] do not fit the base weight '{bare}.weight' [{m.OutFeatures}, {m.InFeatures}]");
            if (!byPath.TryAdd(bare, w)) throw new FurnaceException($"{source}: two LoRA modules adapt '{bare}' (with and without the '{LoraModules.LlavaPrefix}' prefix)");
        }
        using var own = ctx == null ? new KernelContext(Environment.ProcessorCount) : null;
        ctx ??= own;

        WeightMatrix Packed(WeightMatrix w) => pack ? owner.Add(w) : w;

        // W + scale·B·A in W's dtype (repacked when the model packs)
        WeightMatrix AddLowRank(WeightMatrix w, float[] a, float[] b, int rank)
        {
            NativeBuffer buf = LowRank.AddLowRank(w, a, b, rank, scale, w.Type, ctx, out WeightMatrix merged);
            if ((pack || w.IsInterleaved8) && Repack.Supports(merged.Type))
            {
                using (buf) return owner.Add(merged);
            }
            owner.Adopt(buf);
            return merged;
        }

        WeightMatrix Merge(WeightMatrix w, string path) =>
            byPath.TryGetValue(path, out var m) ? AddLowRank(w, m.A, m.B, m.Rank) : Packed(w);

        WeightMatrix? MergeOpt(WeightMatrix? w, string path) => w is { } x ? Merge(x, path) : null;

        WeightMatrix[]? Experts(WeightMatrix[]? w, string mlp, string proj) =>
            w?.Select((x, e) => Merge(x, $"{mlp}experts.{e}.{proj}")).ToArray();

        var layers = new DeepSeekLayerWeights[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            DeepSeekLayerWeights l = weights.Layers[i];
            string a = $"model.layers.{i}.self_attn.", mlp = $"model.layers.{i}.mlp.";
            (WeightMatrix[] kB, WeightMatrix[] vB) = byPath.TryGetValue(a + "kv_b_proj", out var kvb)
                ? SplitKvB(l, c, kvb, AddLowRank)
                : (l.WkB.Select(Packed).ToArray(), l.WvB.Select(Packed).ToArray());
            layers[i] = new DeepSeekLayerWeights
            {
                AttnNorm = l.AttnNorm,
                Wq = MergeOpt(l.Wq, a + "q_proj"),
                WqA = MergeOpt(l.WqA, a + "q_a_proj"),
                QANorm = l.QANorm,
                WqB = MergeOpt(l.WqB, a + "q_b_proj"),
                WkvA = Merge(l.WkvA, a + "kv_a_proj_with_mqa"),
                KvANorm = l.KvANorm,
                WkB = kB,
                WvB = vB,
                Wo = Merge(l.Wo, a + "o_proj"),
                FfnNorm = l.FfnNorm,
                WGate = MergeOpt(l.WGate, mlp + "gate_proj"),
                WUp = MergeOpt(l.WUp, mlp + "up_proj"),
                WDown = MergeOpt(l.WDown, mlp + "down_proj"),
                Router = l.Router,
                ExpProbsBias = l.ExpProbsBias,
                GateExps = Experts(l.GateExps, mlp, "gate_proj"),
                UpExps = Experts(l.UpExps, mlp, "up_proj"),
                DownExps = Experts(l.DownExps, mlp, "down_proj"),
                GateShexp = MergeOpt(l.GateShexp, mlp + "shared_experts.gate_proj"),
                UpShexp = MergeOpt(l.UpShexp, mlp + "shared_experts.up_proj"),
                DownShexp = MergeOpt(l.DownShexp, mlp + "shared_experts.down_proj"),
            };
        }
        return new DeepSeekWeights
        {
            TokenEmbedding = weights.TokenEmbedding,
            Layers = layers,
            OutputNorm = weights.OutputNorm,
            Output = Packed(weights.Output),
            Owned = weights.Owned,
        };
    }

    // kv_b_proj's update split per head into the absorbed form's W_UK_h^T and W_UV_h (see the file header)
    private static (WeightMatrix[] KB, WeightMatrix[] VB) SplitKvB(DeepSeekLayerWeights l, DeepSeekConfig c, LoraModuleWeights m,
        Func<WeightMatrix, float[], float[], int, WeightMatrix> addLowRank)
    {
        int h = c.Heads, nope = c.QkNopeDim, vHead = c.VHeadDim, kvLora = c.KvLoraRank, r = m.Rank, stride = nope + vHead;
        // Aᵀ (kvLora, r): the "B" factor of every head's W_UK^T update
        var aT = new float[(long)kvLora * r];
        for (int k = 0; k < r; k++)
            for (int j = 0; j < kvLora; j++) aT[(long)j * r + k] = m.A[(long)k * kvLora + j];
        var kB = new WeightMatrix[h];
        var vB = new WeightMatrix[h];
        for (int hd = 0; hd < h; hd++)
        {
            // B_k,hᵀ (r, nope) and B_v,h (vHead, r) from B's rows of head hd
            var bkT = new float[(long)r * nope];
            for (int i = 0; i < nope; i++)
                for (int k = 0; k < r; k++) bkT[(long)k * nope + i] = m.B[(long)(hd * stride + i) * r + k];
            float[] bv = m.B.AsSpan((hd * stride + nope) * r, vHead * r).ToArray();
            kB[hd] = addLowRank(l.WkB[hd], bkT, aT, r);
            vB[hd] = addLowRank(l.WvB[hd], m.A, bv, r);
        }
        return (kB, vB);
    }
}
