// `furnace info PATH`: metadata and tensor table of a checkpoint.
using System.CommandLine;
using Furnace.Formats.Gguf;
using Furnace.Formats.HfConfig;
using Furnace.Formats.SafeTensors;
using Furnace.Models.Clip;
using Furnace.Models.DeepSeek;
using Furnace.Models.Llama;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class InfoCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "A .gguf file, a .safetensors file, or a Hugging Face model directory" };
        var all = new Option<bool>("--all") { Description = "Print every metadata array in full and every tensor" };
        var cmd = new Command("info", "Show metadata and the tensor table of a GGUF/safetensors file or HF directory.\n\nExamples:\n  furnace info model.gguf\n  furnace info ./deepseek-llm-7b-chat --all")
        {
            path,
            all,
        };
        cmd.SetAction(r => Cli.Run(() => Run(r.GetValue(path)!, r.GetValue(all))));
        return cmd;
    }

    private static int Run(string path, bool all)
    {
        if (File.Exists(path) && GgufFile.HasMagic(path))
        {
            using var f = GgufFile.Open(path);
            PrintGguf(f, all);
            return 0;
        }
        if (Directory.Exists(path))
        {
            PrintDirectory(path, all);
            return 0;
        }
        if (!File.Exists(path)) throw new FurnaceException($"{path}: no such file or directory");
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            using var f = SafeTensorsFile.Open(path);
            Console.WriteLine($"file:      {f.Path}");
            Console.WriteLine($"format:    safetensors, header {f.HeaderLength:N0} bytes, {f.Tensors.Count} tensors");
            foreach (var (k, v) in f.Metadata) Console.WriteLine($"  {k,-44} {v}");
            PrintSafeTensors(f.Tensors, all);
            return 0;
        }
        throw new FurnaceException($"{path}: not a GGUF file, safetensors file or model directory");
    }

    private static void PrintDirectory(string dir, bool all)
    {
        Console.WriteLine($"directory: {dir}");
        string config = Path.Combine(dir, "config.json");
        if (File.Exists(config))
        {
            var raw = HfConfigFile.Read(config);
            string arch = raw.Architectures?.FirstOrDefault() ?? raw.ModelType ?? "?";
            if (arch is "LlamaForCausalLM" or "Qwen2ForCausalLM") PrintDecoder(LlamaConfig.FromHuggingFace(config));
            else if (DeepSeekConfig.IsHfDeepSeek(raw)) PrintDeepSeek(DeepSeekConfig.FromHf(raw, config));
            else if (arch is "LlavaForConditionalGeneration" || raw.ModelType == "llava")
            {
                LlavaConfig l = LlavaConfig.FromHuggingFace(dir);
                if (l.Vision is { } lv) PrintVision("vision:   ", lv);
                else Console.WriteLine($"vision:    {l.OnnxVision!.ToJson()["model_type"]} (frozen, ONNX, from models/resnet18 next to the binary), {l.OnnxVision.Feature} features, {l.OnnxVision.Tokens} x {l.OnnxVision.HiddenSize}");
                Console.WriteLine($"projector: {l.Projector}, feature layer {l.VisionFeatureLayer} ({l.FeatureStrategy}), image token {l.ImageTokenIndex}, {l.ImageSeqLength} positions per image");
                PrintDecoder(l.Text);
            }
            else if (arch.StartsWith("CLIP", StringComparison.Ordinal) || raw.ModelType == "clip")
            {
                ClipConfig c = ClipConfig.FromHuggingFace(dir);
                Console.WriteLine($"model:     {c.Architecture}, projection dim {c.ProjectionDim?.ToString() ?? "-"}");
                PrintVision("vision:   ", c.Vision);
                if (c.Text is { } t) Console.WriteLine($"text:      {t.HiddenSize}-d, {t.Layers} layers, vocab {t.VocabSize}, context {t.MaxPositions}");
            }
            else Console.WriteLine($"model:     {arch} (not an architecture Furnace runs)");
        }
        foreach (string name in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json", "preprocessor_config.json" })
            Console.WriteLine($"  {name,-28} {(File.Exists(Path.Combine(dir, name)) ? "present" : "-")}");
        using var src = SafeTensorsCheckpoint.Open(dir);
        IEnumerable<SafeTensorInfo> tensors = src switch
        {
            SafeTensorsFile f => f.Tensors,
            ShardedSafeTensors s => s.Tensors,
            _ => [],
        };
        if (src is ShardedSafeTensors sh) Console.WriteLine($"shards:    {sh.Shards.Count}");
        PrintSafeTensors(tensors.ToList(), all);
    }

    private static void PrintDecoder(LlamaConfig c)
    {
        Console.WriteLine($"model:     {c.Architecture}, dim {c.Dim}, {c.Layers} layers, {c.Heads} heads ({c.KvHeads} kv, head dim {c.HeadDim}), ffn {c.FfnDim}, vocab {c.VocabSize}, context {c.MaxPositions}");
        Console.WriteLine($"           rope theta {c.RopeTheta}, rms eps {c.RmsEps}, tied embeddings {c.TiedEmbeddings}, attention bias {c.AttentionBias}, ~{c.ParameterCount / 1e6:F0}M parameters");
    }

    private static void PrintDeepSeek(DeepSeekConfig c)
    {
        var (mla, mha) = c.KvBytesPerToken;
        if (c.Mla)
            Console.WriteLine($"model:     {DeepSeekConfig.Arch} (MLA + DeepSeekMoE), dim {c.Dim}, {c.Layers} layers, {c.Heads} heads, q_lora {c.QLoraRank}, kv_lora {c.KvLoraRank}, "
                + $"head qk {c.QkNopeDim}+{c.QkRopeDim} v {c.VHeadDim}, vocab {c.VocabSize}, context {c.MaxPositions}");
        else
            Console.WriteLine($"model:     {DeepSeekConfig.MhaArch} (multi-head attention + DeepSeekMoE), dim {c.Dim}, {c.Layers} layers, {c.Heads} heads ({c.KvHeads} kv, head dim {c.QkHeadDim}), "
                + $"vocab {c.VocabSize}, context {c.MaxPositions}");
        Console.WriteLine($"           {c.LeadingDenseLayers} dense (ffn {c.FfnDim}), then {c.Experts} experts (top {c.ExpertsUsed}, {c.SharedExperts} shared, ffn {c.ExpertFfnDim}), "
            + $"{c.Gating.ToString().ToLowerInvariant()} routing{(c.ExpertGroups > 1 ? $" in {c.ExpertGroupsUsed}/{c.ExpertGroups} groups" : "")}, "
            + $"norm {c.ExpertWeightsNorm}, scale {c.ExpertWeightsScale}, ~{c.ParameterCount / 1e6:F0}M parameters");
        Console.WriteLine($"           rope theta {c.RopeTheta}{(c.Yarn is { } y ? $", yarn x{y.Factor} from {y.OriginalContext}, mscale_all_dim {y.LogMultiplier}" : "")}; "
            + $"KV cache {mla:N0} bytes/token f32{(c.Mla ? $" (plain MHA: {mha:N0})" : "")}");
    }

    private static void PrintVision(string label, ClipVisionConfig v) =>
        Console.WriteLine($"{label} CLIP ViT, {v.ImageSize}px, patch {v.PatchSize}, {v.HiddenSize}-d, {v.Layers} layers, {v.Heads} heads");

    private static void PrintSafeTensors(IReadOnlyList<SafeTensorInfo> tensors, bool all)
    {
        Console.WriteLine();
        Console.WriteLine($"  {"tensor",-56} {"dtype",-5} {"shape",-20} {"bytes",14}");
        long total = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            total += t.ByteLength;
            if (all || i < 40) Console.WriteLine($"  {t.Name,-56} {t.DTypeName,-5} {t.ShapeText,-20} {t.ByteLength,14:N0}");
        }
        if (!all && tensors.Count > 40) Console.WriteLine($"  … {tensors.Count - 40} more (use --all)");
        Console.WriteLine($"  total tensor bytes: {total:N0}");
    }

    private static void PrintGguf(GgufFile f, bool all)
    {
        Console.WriteLine($"file:      {f.Path}");
        Console.WriteLine($"format:    GGUF v{f.Version}, alignment {f.Alignment}, {f.Metadata.Count} metadata keys, {f.Tensors.Count} tensors");
        if (f.Architecture is DeepSeekConfig.Arch or DeepSeekConfig.MhaArch) PrintDeepSeek(DeepSeekConfig.FromGguf(f));
        Console.WriteLine();
        foreach (string key in f.MetadataKeys)
        {
            GgufValue v = f.Metadata[key];
            string text = v.IsArray && !all ? $"[{v.ElementType} x {v.ArrayLength}]" + Preview(v) : Full(v);
            Console.WriteLine($"  {key,-44} {text}");
        }
        Console.WriteLine();
        Console.WriteLine($"  {"tensor",-40} {"type",-6} {"shape (ggml order)",-24} {"bytes",14}");
        long total = 0;
        int shown = 0;
        foreach (var t in f.Tensors)
        {
            total += t.ByteLength;
            if (!all && shown++ >= 40) continue;
            Console.WriteLine($"  {t.Name,-40} {DTypes.Name(t.Type),-6} {t.ShapeText,-24} {t.ByteLength,14:N0}");
        }
        if (!all && f.Tensors.Count > 40) Console.WriteLine($"  … {f.Tensors.Count - 40} more (use --all)");
        Console.WriteLine($"  total tensor bytes: {total:N0}");
    }

    private static string Preview(GgufValue v) => v.Value is Array a && a.Length > 0
        ? " " + string.Join(", ", a.Cast<object>().Take(5).Select(x => x is string s ? $"\"{s}\"" : x?.ToString())) + (a.Length > 5 ? ", …" : "")
        : "";

    private static string Full(GgufValue v) => v.Value is Array a
        ? "[" + string.Join(", ", a.Cast<object>().Select(x => x is string s ? $"\"{s}\"" : x?.ToString())) + "]"
        : v.Value is string str ? (str.Length > 200 && !str.Contains('\n') ? str[..200] + "…" : str.ReplaceLineEndings("\\n")) : v.ToString();
}
