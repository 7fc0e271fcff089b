// Merging a LoRA adapter into a decoder's weights (PEFT's merge_and_unload): for every adapted linear,
// W' = W + s·B·A with s = adapter scale × a user multiplier (--lora-scale). The base stays untouched (it is memory-
// mapped read-only); each merged matrix is a new buffer owned by the model's PackedWeights, in the base matrix's own
// dtype: F32 exactly (one float rounding of W + ΔW), F16/BF16 by rounding W + ΔW once to the 16-bit type,
// Q8_0/Q4_0 by dequantize → add → requantize with ggml's quantizers (a second quantization error on the adapted
// matrices; see docs/lora.md), then repacked to Interleaved8 when the model uses packed weights.
// GGUF llama-arch checkpoints store Q/K rows in llama.cpp's permuted order: B's rows are permuted the same way
// (P·B·A = P·(B·A)), so ΔW lands on the right rows.
using Furnace.Models.Llama;
using Furnace.Tensors;

namespace Furnace.Models.Lora;

public static class LoraMerge
{
    /// <summary>
    /// A new LlamaWeights equal to <paramref name="weights"/> with the adapter merged. New buffers go to
    /// <paramref name="owner"/> (dispose it with the model). ggufRowOrder: Q/K rows are in llama.cpp's permuted order
    /// (a GGUF llama-arch file). pack: also repack every Q8_0/Q4_0 matrix except the token embedding to Interleaved8,
    /// as LlamaWeights.Load does with a PackedWeights (give unpacked weights then).
    /// </summary>
    public static LlamaWeights Apply(LlamaWeights weights, LlamaConfig c, LoraAdapter adapter, PackedWeights owner,
        bool ggufRowOrder, float scaleMultiplier = 1f, bool pack = false, KernelContext? ctx = null, string source = "LoRA adapter")
    {
        if (!float.IsFinite(scaleMultiplier)) throw new FurnaceException($"LoRA scale {scaleMultiplier} must be finite");
        adapter.CheckAgainst(c, source);
        float scale = adapter.Config.Scale * scaleMultiplier;
        // loaders have no kernel context yet: a temporary one spreads the merge over the cores for the load
        using var own = ctx == null ? new KernelContext(Environment.ProcessorCount) : null;
        ctx ??= own;
        var byLayer = new Dictionary<(int, string), LoraModuleWeights>();
        foreach (var (path, m) in adapter.Modules)
        {
            var p = LoraModules.Parse(path)!.Value;
            if (!byLayer.TryAdd((p.Layer, p.Name), m))
                throw new FurnaceException($"{source}: two LoRA modules adapt layer {p.Layer} {p.Name} (under different prefixes)");
        }

        WeightMatrix Merge(WeightMatrix w, int layer, string name, int permuteHeads)
        {
            if (!byLayer.TryGetValue((layer, name), out var m))
                return pack ? owner.Add(w) : w;
            float[] b = ggufRowOrder && permuteHeads > 0 ? LlamaTensorNames.PermuteRows(m.B, m.OutFeatures, permuteHeads) : m.B;
            NativeBuffer buf = LowRank.AddLowRank(w, m.A, b, m.Rank, scale, w.Type, ctx, out WeightMatrix merged);
            if ((pack || w.IsPacked) && PackedWeights.Packs(merged.Type))
            {
                using (buf) return owner.Add(merged);
            }
            owner.Adopt(buf);
            return merged;
        }

        var layers = new LlamaLayerWeights[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            var l = weights.Layers[i];
            layers[i] = new LlamaLayerWeights
            {
                AttnNorm = l.AttnNorm,
                Wq = Merge(l.Wq, i, "q_proj", c.Heads),
                Wk = Merge(l.Wk, i, "k_proj", c.KvHeads),
                Wv = Merge(l.Wv, i, "v_proj", 0),
                Wo = Merge(l.Wo, i, "o_proj", 0),
                Bq = l.Bq,
                Bk = l.Bk,
                Bv = l.Bv,
                FfnNorm = l.FfnNorm,
                WGate = Merge(l.WGate, i, "gate_proj", 0),
                WUp = Merge(l.WUp, i, "up_proj", 0),
                WDown = Merge(l.WDown, i, "down_proj", 0),
            };
        }
        return new LlamaWeights
        {
            TokenEmbedding = weights.TokenEmbedding,
            Layers = layers,
            OutputNorm = weights.OutputNorm,
            Output = pack ? owner.Add(weights.Output) : weights.Output,
            RopeFreqFactors = weights.RopeFreqFactors,
        };
    }
}
