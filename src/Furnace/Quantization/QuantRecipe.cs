// The per-tensor type choice of llama.cpp's quantizer (src/llama-quant.cpp, as bundled by LLamaSharp 0.30.0 / ggml 050fc7f):
// tensor_allows_quantization (which tensors are touched at all), llama_tensor_get_type (the recipe rules per file type:
// output/token_embd, attn_v/attn_qkv/attn_kv_b with use_more_bits, ffn_down per layer, attn_output, the n_gqa, n_expert
// and 70B conditions, Falcon's exceptions) and the fallback for rows that are not a multiple of the block size.
// The rules are order-dependent (attn_v and ffn_down count the tensors seen so far), so Plan takes the tensors in
// llama.cpp's processing order (OrderOf: the loader's weights_map, sorted by block number, then by name).
using Furnace.Tensors;

namespace Furnace.Quantization;

/// <summary>What the rules read of a model's hyperparameters (llama_hparams): arch name, blocks, heads, experts.</summary>
public sealed record QuantModelShape(string Architecture, int Layers, int Heads, int KvHeads, int Experts)
{
    // llama_hparams::n_gqa(0): query heads per key/value head
    public int Gqa => KvHeads > 0 ? Heads / KvHeads : 0;

    // llm_type 70B: an 80-block llama (with grouped KV; 65B shares n_head == n_head_kv) or qwen2
    public bool Is70B => Layers == 80 && (Architecture == "qwen2" || (Architecture == "llama" && Heads != KvHeads));
}

/// <summary>A tensor as the recipe sees it: name, ggml shape (ne[0] first) and stored type.</summary>
public sealed record QuantTensor(string Name, long[] Shape, DType Type);

public sealed class QuantRecipe
{
    private readonly QuantFileType _ftype;
    private readonly QuantModelShape _model;
    private readonly bool _pure, _hasImatrix, _quantizeOutput;
    private int _nAttnV, _iAttnV, _iFfnDown, _iFfnGate, _iFfnUp;
    private bool _hasOutput;

    public QuantRecipe(QuantFileType ftype, QuantModelShape model, bool pure = false, bool hasImatrix = false, bool quantizeOutput = true)
    {
        _ftype = ftype;
        _model = model;
        _pure = pure;
        _hasImatrix = hasImatrix;
        _quantizeOutput = quantizeOutput;
    }

    /// <summary>
    /// llama.cpp's tensor order: ggml's weights_map comparer (llama-model-loader.h weight_name_comparer) sorts by the block
    /// number of "blk.N." (-1 for the others) and then by name (byte order).
    /// </summary>
    public static List<T> OrderOf<T>(IEnumerable<T> tensors, Func<T, string> name) =>
        tensors.OrderBy(t => BlockOf(name(t))).ThenBy(name, StringComparer.Ordinal).ToList();

    private static int BlockOf(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return -1;
        int end = name.IndexOf('.', 4);
        return end > 4 && int.TryParse(name.AsSpan(4, end - 4), out int b) ? b : -1;
    }

    /// <summary>The stored type of each tensor, in the order given (which must be OrderOf's for the counters to agree).</summary>
    public DType[] Plan(IReadOnlyList<QuantTensor> tensors)
    {
        // the preliminary pass of llama_model_quantize_impl: attn_v-like tensors are counted, output.weight noticed
        _nAttnV = tensors.Count(t => IsAttnV(t.Name));
        _hasOutput = tensors.Any(t => t.Name == "output.weight");
        _iAttnV = _iFfnDown = _iFfnGate = _iFfnUp = 0;
        var types = new DType[tensors.Count];
        DType def = QuantFileTypes.DefaultType(_ftype);
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (!AllowsQuantization(t)) { types[i] = t.Type; continue; }
            DType type = def;
            if (DTypes.IsQuantized(def))
            {
                if (!_pure) type = RuleType(t, def);
                type = Fallback(t, type);
            }
            types[i] = type;
        }
        return types;
    }

    /// <summary>
    /// tensor_allows_quantization: 2-D and 3-D (stacked experts) tensors whose name ends in "weight", except norms, the
    /// router (ffn_gate_inp), output.weight when the output is kept, and the small special tensors of other families.
    /// </summary>
    public bool AllowsQuantization(QuantTensor t)
    {
        int dims = t.Shape.Length;
        while (dims > 1 && t.Shape[dims - 1] == 1) dims--; // ggml_n_dims ignores trailing 1s
        if (dims < 2) return false;
        string n = t.Name;
        if (!n.EndsWith("weight", StringComparison.Ordinal)) return false;
        if (n.Contains("_norm.weight", StringComparison.Ordinal)) return false;
        if (!_quantizeOutput && n == "output.weight") return false;
        if (n == "position_embd.weight" || n == "token_types.weight") return false;
        foreach (string s in NeverQuantized)
            if (n.Contains(s, StringComparison.Ordinal)) return false;
        return true;
    }

    private static readonly string[] NeverQuantized =
    [
        "ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj", "ssm_conv1d.weight", "shortconv.conv.weight",
        "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight",
        "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
        "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
        "time_mix_lerp_fused.weight", "attn_rel_b.weight",
    ];

    // attn_v-like: the value projection alone, fused (attn_qkv) or inside MLA's kv_b (deepseek2)
    private static bool IsAttnV(string n) =>
        n.Contains("attn_v.weight", StringComparison.Ordinal) || n.Contains("attn_qkv.weight", StringComparison.Ordinal)
        || n.Contains("attn_kv_b.weight", StringComparison.Ordinal);

    // use_more_bits: the first and last eighth of the layers, and every third one between
    private static bool UseMoreBits(int i, int n) => i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;

    // the layer index a per-layer rule uses: the running count, or (MoE: expert tensors are not consecutive) blk.N
    private (int I, int N) LayerInfo(int counter, string name)
    {
        int n = _model.Layers;
        if (Math.Max(1, _model.Experts) <= 1) return (counter, n);
        int layer = BlockOf(name);
        if (!name.StartsWith("blk.", StringComparison.Ordinal) || layer < 0)
            throw new FurnaceException($"cannot determine the layer of tensor '{name}'");
        if (layer >= n) throw new FurnaceException($"tensor '{name}': layer {layer} is not below the block count {n}");
        return (layer, n);
    }

    // llama_tensor_get_type without the fallback: the recipe's rules for one tensor
    private DType RuleType(QuantTensor t, DType type)
    {
        var f = _ftype;
        string name = t.Name, arch = _model.Architecture;
        bool falcon = arch == "falcon";
        if (name == "output.weight" || (!_hasOutput && name == "token_embd.weight"))
        {
            // the output (or the tied embedding) keeps more bits: Q6_K for every quantized recipe but Q8_0
            if (falcon || t.Shape[0] % DTypes.BlockSize(type) != 0) return DType.Q8_0;
            return type != DType.Q8_0 ? DType.Q6_K : type;
        }
        if (name == "token_embd.weight") return type; // only the IQ1/IQ2/IQ3 recipes change it
        if (IsAttnV(name))
        {
            if (f == QuantFileType.Q2_K) type = _model.Gqa >= 4 ? DType.Q4_K : DType.Q3_K;
            else if (f == QuantFileType.Q3_K_M) type = _iAttnV < 2 ? DType.Q5_K : DType.Q4_K;
            else if (f == QuantFileType.Q3_K_L) type = DType.Q5_K;
            else if (f is QuantFileType.IQ4_NL or QuantFileType.IQ4_XS && _model.Gqa >= 4) type = DType.Q5_K;
            else if (f is QuantFileType.Q4_K_M or QuantFileType.Q5_K_M && UseMoreBits(_iAttnV, _nAttnV)) type = DType.Q6_K;
            else if (f == QuantFileType.Q4_K_S && _iAttnV < 4) type = DType.Q5_K;
            // a 70B's attn_v is 8x smaller than attn_q (8 heads share it): more bits cost little
            if (_model.Is70B && type is DType.Q3_K or DType.Q4_K) type = DType.Q5_K;
            if (_model.Experts == 8) type = DType.Q8_0;
            _iAttnV++;
        }
        else if (name.Contains("attn_k.weight", StringComparison.Ordinal))
        {
            if (_model.Experts == 8) type = DType.Q8_0;
        }
        else if (name.Contains("ffn_down", StringComparison.Ordinal))
        {
            var (i, n) = LayerInfo(_iFfnDown, name);
            if (f == QuantFileType.Q2_K) type = DType.Q3_K;
            else if (f == QuantFileType.Q3_K_M)
                type = i < n / 16 ? DType.Q5_K : !falcon || UseMoreBits(i, n) ? DType.Q4_K : DType.Q3_K;
            else if (f == QuantFileType.Q3_K_L) type = falcon ? DType.Q4_K : DType.Q5_K;
            else if (f == QuantFileType.Q4_K_M)
            {
                if (falcon) type = i < n / 16 ? DType.Q6_K : UseMoreBits(i, n) ? DType.Q5_K : DType.Q4_K;
                else if (UseMoreBits(i, n)) type = DType.Q6_K;
            }
            else if (i < n / 8 && f is QuantFileType.IQ4_NL or QuantFileType.IQ4_XS && !_hasImatrix) type = DType.Q5_K;
            else if (f == QuantFileType.Q5_K_M && UseMoreBits(i, n)) type = DType.Q6_K;
            else if (f == QuantFileType.Q4_K_S && !falcon && i < n / 8) type = DType.Q5_K;
            else if (f is QuantFileType.Q4_0 or QuantFileType.Q5_0 && _hasImatrix && i < n / 8)
                type = f == QuantFileType.Q4_0 ? DType.Q4_1 : DType.Q5_1; // guards the first ffn_down layers (imatrix only)
            _iFfnDown++;
        }
        else if (name.Contains("attn_output.weight", StringComparison.Ordinal))
        {
            if (!falcon)
            {
                if (_model.Experts == 8)
                {
                    if (f is QuantFileType.Q2_K or QuantFileType.Q3_K_S or QuantFileType.Q3_K_M or QuantFileType.IQ4_NL
                        or QuantFileType.Q4_K_S or QuantFileType.Q4_K_M or QuantFileType.IQ4_XS)
                        type = DType.Q5_K;
                }
                else if (f == QuantFileType.Q2_K) type = DType.Q3_K;
                else if (f == QuantFileType.Q3_K_M) type = DType.Q4_K;
                else if (f == QuantFileType.Q3_K_L) type = DType.Q5_K;
            }
            else if (f == QuantFileType.Q3_K_L) type = DType.Q4_K;
        }
        else if (name.Contains("attn_qkv.weight", StringComparison.Ordinal))
        {
            // unreachable for attn_qkv (IsAttnV takes it first), kept as llama.cpp has it
            if (f is QuantFileType.Q3_K_M or QuantFileType.Q3_K_L) type = DType.Q4_K;
            else if (f == QuantFileType.Q4_K_M) type = DType.Q5_K;
            else if (f == QuantFileType.Q5_K_M) type = DType.Q6_K;
        }
        else if (name.Contains("ffn_gate", StringComparison.Ordinal))
        {
            LayerInfo(_iFfnGate, name); // only the IQ3_XS recipe uses the layer
            _iFfnGate++;
        }
        else if (name.Contains("ffn_up", StringComparison.Ordinal))
        {
            LayerInfo(_iFfnUp, name);
            _iFfnUp++;
        }
        return type;
    }

    /// <summary>
    /// tensor_type_fallback, for a row length (ne[0]) that is not a multiple of the chosen type's block (applied with --pure
    /// too): IQ4_XS to IQ4_NL, Q2_K/Q3_K to Q4_0, Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, and F16 when even that block
    /// does not divide the row. (Older llama.cpp sent Q2_K/Q3_K to IQ4_NL; this one's output says Q4_0.)
    /// </summary>
    public static DType Fallback(QuantTensor t, DType type)
    {
        long n = t.Shape[0];
        if (n % DTypes.BlockSize(type) == 0) return type;
        DType f = type switch
        {
            DType.IQ4_XS => DType.IQ4_NL,
            DType.Q2_K or DType.Q3_K => DType.Q4_0,
            DType.Q4_K => DType.Q5_0,
            DType.Q5_K => DType.Q5_1,
            DType.Q6_K => DType.Q8_0,
            _ => throw new FurnaceException($"tensor '{t.Name}': row length {n} is not a multiple of the {DTypes.Name(type)} block size {DTypes.BlockSize(type)}, and {DTypes.Name(type)} has no fallback type"),
        };
        return n % DTypes.BlockSize(f) == 0 ? f : DType.F16;
    }
}
