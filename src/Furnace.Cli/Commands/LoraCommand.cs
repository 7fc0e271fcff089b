// `furnace lora info PATH` and `furnace lora merge --base MODEL --lora ADAPTER --out OUT`: inspect a PEFT LoRA adapter,
// and write a base model with an adapter merged in (a Hugging Face directory, or a GGUF file when OUT ends in .gguf).
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Furnace.Models.Lora;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class LoraCommand
{
    public static Command Create()
    {
        var cmd = new Command("lora", "Inspect LoRA adapters (PEFT format) and merge them into base models.\n\nExamples:\n  furnace lora info ./my-adapter\n  furnace lora merge --base ./deepseek-llm-7b-base --lora ./my-adapter --out ./deepseek-7b-merged\n  furnace lora merge --base deepseek-llm-7b-base-q8_0.gguf --lora ./my-adapter --out merged-q8_0.gguf\n  furnace lora export --base deepseek-llm-7b-base-q8_0.gguf --lora ./my-adapter --out my-adapter.gguf\n\nTo apply an adapter without writing a merged copy, pass --lora to generate, caption, ask or eval.")
        {
            Info(),
            Merge(),
            Export(),
        };
        return cmd;
    }

    private static Command Info()
    {
        var path = new Argument<string>("adapter") { Description = "A PEFT LoRA directory (adapter_config.json + adapter_model.safetensors)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var cmd = new Command("info", "Rank, alpha, scale, target modules, adapted modules and parameter count of a LoRA adapter.\n\nExample:\n  furnace lora info ./my-adapter --json") { path, json };
        cmd.SetAction(r => Cli.Run(() =>
        {
            string dir = r.GetValue(path)!;
            var a = LoraAdapter.Load(dir);
            var c = a.Config;
            var linears = a.ModulePaths.Select(p => LoraModules.Parse(p)?.Name ?? p[(p.LastIndexOf('.') + 1)..]).Distinct().Order(StringComparer.Ordinal).ToList();
            var layers = a.ModulePaths.Select(p => LoraModules.Parse(p)?.Layer).OfType<int>().Distinct().Order().ToList();
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["path"] = Path.GetFullPath(dir),
                    ["base_model"] = c.BaseModel,
                    ["task_type"] = c.TaskType,
                    ["rank"] = c.Rank,
                    ["alpha"] = c.Alpha,
                    ["use_rslora"] = c.UseRsLora,
                    ["scale"] = c.Scale,
                    ["dropout"] = c.Dropout,
                    ["target_modules"] = c.Targets.Names,
                    ["target_kind"] = c.Targets.Kind switch { LoraTargetKind.AllLinear => "all-linear", LoraTargetKind.Regex => "regex", _ => "names" },
                    ["modules"] = a.Modules.Count,
                    ["linears"] = linears,
                    ["layers"] = layers.Count,
                    ["parameters"] = a.ParameterCount,
                }, Cli.Json));
                return 0;
            }
            string F(float v) => v.ToString("G6", CultureInfo.InvariantCulture);
            Console.WriteLine($"adapter     {Path.GetFullPath(dir)}");
            Console.WriteLine($"base model  {c.BaseModel ?? "(not recorded)"}");
            Console.WriteLine($"task        {c.TaskType ?? "(not recorded)"}");
            Console.WriteLine($"rank        {c.Rank}");
            Console.WriteLine($"alpha       {F(c.Alpha)}");
            Console.WriteLine($"scale       {F(c.Scale)} ({(c.UseRsLora ? "alpha/sqrt(r), rsLoRA" : "alpha/r")})");
            Console.WriteLine($"dropout     {F(c.Dropout)}");
            Console.WriteLine($"targets     {c.Targets}");
            Console.WriteLine($"modules     {a.Modules.Count} ({string.Join(", ", linears)} in {layers.Count} layers)");
            Console.WriteLine($"parameters  {a.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)}");
            return 0;
        }));
        return cmd;
    }

    private static Command Merge()
    {
        var baseModel = new Option<string>("--base") { Description = "Base model: a Hugging Face directory (decoder or LLaVA) or a .gguf file", Required = true };
        var lora = new Option<string>("--lora") { Description = "The PEFT LoRA adapter directory", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output: a new directory (Hugging Face safetensors + config + tokenizer files), or a .gguf file", Required = true };
        var scale = new Option<float>("--lora-scale") { Description = "Multiplier of the adapter's scale (lora_alpha/r)", DefaultValueFactory = _ => 1f };
        var type = new Option<string?>("--type") { Description = "GGUF output from a Hugging Face base: weight type f32, f16, bf16, q8_0, q4_0 (default: the base's dtype)" };
        var threads = Cli.ThreadsOption();
        var cmd = new Command("merge", "Write the base model with the adapter merged in: W' = W + scale·B·A on every adapted weight, in the weight's own dtype (Q8_0/Q4_0 are dequantized, merged and requantized). Written atomically: nothing is left on error.\n\nExamples:\n  furnace lora merge --base ./llava-1.5-7b-hf --lora ./my-adapter --out ./llava-merged\n  furnace lora merge --base ./deepseek-llm-7b-base --lora ./my-adapter --out merged-q8_0.gguf --type q8_0")
        {
            baseModel, lora, output, scale, type, threads,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            string? typeName = r.GetValue(type);
            DType? t = null;
            if (typeName != null)
            {
                // merging requantizes into the base's layout, which the merge knows for these types only
                if (!DTypes.TryParse(typeName, out DType parsed) || parsed is not (DType.F32 or DType.F16 or DType.BF16 or DType.Q8_0 or DType.Q4_0))
                    throw new FurnaceException($"--type '{typeName}' is not one of f32, f16, bf16, q8_0, q4_0");
                t = parsed;
            }
            float s = r.GetValue(scale);
            if (!float.IsFinite(s)) throw new FurnaceException($"--lora-scale {s} must be a finite number");
            string outPath = r.GetValue(output)!;
            var adapter = LoraAdapter.Load(r.GetValue(lora)!);
            using var ctx = new KernelContext(Cli.CheckThreads(r.GetValue(threads)));
            bool tty = !Console.IsErrorRedirected;
            int n = LoraCheckpointMerge.Merge(r.GetValue(baseModel)!, adapter, outPath, s, t, ctx, line =>
            {
                if (tty) Console.Error.Write($"\r{line}\u001b[K");
                else Console.Error.WriteLine(line);
            });
            if (tty) Console.Error.WriteLine();
            Console.Error.WriteLine($"merged {n} weights (r {adapter.Config.Rank}, scale {adapter.Config.Scale * s:G4}) into {outPath}");
            return 0;
        }));
        return cmd;
    }

    private static Command Export()
    {
        var baseModel = new Option<string>("--base") { Description = "The base model the adapter is for (a .gguf file or a Hugging Face directory): gives the architecture and head counts", Required = true };
        var lora = new Option<string>("--lora") { Description = "The PEFT LoRA adapter directory", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output .gguf adapter file (written atomically)", Required = true };
        var scale = new Option<float>("--lora-scale") { Description = "Multiplier of the adapter's scale, folded into adapter.lora.alpha", DefaultValueFactory = _ => 1f };
        var cmd = new Command("export", "Write the adapter as a llama.cpp GGUF LoRA file (llama-cli --lora FILE), F32 factors, Q/K rows in llama.cpp's order.\n\nExample:\n  furnace lora export --base deepseek-llm-7b-chat-q4_0.gguf --lora ./my-adapter --out my-adapter.gguf")
        {
            baseModel, lora, output, scale,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            string outPath = r.GetValue(output)!;
            if (!outPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) throw new FurnaceException($"{outPath}: the adapter file name must end in .gguf");
            float s = r.GetValue(scale);
            if (!float.IsFinite(s)) throw new FurnaceException($"--lora-scale {s} must be a finite number");
            var adapter = LoraAdapter.Load(r.GetValue(lora)!);
            LoraGgufExport.Write(outPath, adapter, LoraGgufExport.DecoderConfigOf(r.GetValue(baseModel)!), s);
            Console.Error.WriteLine($"wrote {outPath} ({adapter.Modules.Count} modules, r {adapter.Config.Rank}, scale {adapter.Config.Scale * s:G4})");
            return 0;
        }));
        return cmd;
    }
}
