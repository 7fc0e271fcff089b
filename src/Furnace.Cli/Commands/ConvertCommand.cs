// `furnace convert`: Hugging Face checkpoint -> GGUF that llama.cpp loads, or a seeded random-weight model of a
// named shape (for benchmarks) with `--from random:PRESET`.
using System.CommandLine;
using Furnace.Models.DeepSeek;
using Furnace.Models.Llama;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class ConvertCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "Source: a Hugging Face model directory, or random:PRESET (bench-768, tinyllama-1.1b, …; deepseek2: test-v2-lite, test-v3, deepseek-v2-lite; deepseek: test-mha, deepseek-moe-16b)", Required = true };
        var to = new Option<string>("--to") { Description = "Output .gguf file (written atomically)", Required = true };
        var type = new Option<string?>("--type") { Description = "Weight type of 2-D tensors, every row in that type: f32, f16, bf16, q8_0, q4_0 … q6_K, iq4_nl, iq4_xs (default f16; `furnace quantize` applies llama.cpp's per-tensor recipes instead; GPTQ/AWQ linears: their lossless q4_0/q8_0/q4_1 where exact, else f16)" };
        var seed = new Option<int>("--seed") { Description = "Seed for random:PRESET weights", DefaultValueFactory = _ => 1 };
        var cmd = new Command("convert", "Convert a checkpoint to GGUF (llama.cpp-compatible, with its Q/K row permutation).\n\nExamples:\n  furnace convert --from ./deepseek-llm-7b-chat --to deepseek-7b-q8_0.gguf --type q8_0\n  furnace convert --from ./Llama-3-8B-GPTQ --to llama3-8b-gptq.gguf\n  furnace convert --from random:bench-768 --to bench-q4_0.gguf --type q4_0")
        {
            from,
            to,
            type,
            seed,
        };
        cmd.SetAction(r => Cli.Run(() => Run(r.GetValue(from)!, r.GetValue(to)!, r.GetValue(type), r.GetValue(seed))));
        return cmd;
    }

    private static int Run(string from, string to, string? typeName, int seed)
    {
        DType? requested = null;
        if (typeName != null)
        {
            if (!DTypes.TryParse(typeName, out DType t)) throw new FurnaceException($"--type '{typeName}' is not one of {DTypes.WeightTypeNames}");
            requested = t;
        }
        DType type = requested ?? DType.F16;
        if (from.StartsWith("random:", StringComparison.Ordinal))
        {
            string preset = from["random:".Length..];
            if (DeepSeekConfig.PresetNames.Contains(preset))
            {
                DeepSeekConfig d = DeepSeekConfig.Preset(preset);
                Console.Error.WriteLine($"writing random {preset} ({d.ParameterCount / 1e6:F0}M parameters, {DTypes.Name(type)}) to {to}");
                RandomDeepSeek.WriteGguf(to, d, type, seed, selectionBias: d.Gating == ExpertGating.Sigmoid);
                return 0;
            }
            LlamaConfig c = LlamaConfig.Preset(preset);
            Console.Error.WriteLine($"writing random {from[7..]} ({c.ParameterCount / 1e6:F0}M parameters, {DTypes.Name(type)}) to {to}");
            RandomLlama.WriteGguf(to, c, type, seed);
            return 0;
        }
        // a progress bar over the tensors on a terminal; otherwise a line per tensor
        ProgressLine? bar = null;
        void Progress(int i, int n, string name)
        {
            if (ProgressBars.Terminal) (bar ??= new ProgressLine(n, 0, "tensors", "convert")).Report(i, name);
            else Console.Error.WriteLine($"tensor {i}/{n} {name}");
        }
        if (Directory.Exists(from) && DeepSeekHfToGguf.IsDeepSeekDirectory(from)) DeepSeekHfToGguf.Convert(from, to, type, progress: Progress);
        else HfToGgufConverter.Convert(from, to, requested, Progress);
        bar?.Break();
        Console.Error.WriteLine($"wrote {to} ({(requested is { } r ? DTypes.Name(r) : "default types")}, {new FileInfo(to).Length / 1e6:F1} MB)");
        return 0;
    }
}
