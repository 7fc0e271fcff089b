// The --lora / --lora-scale options of the verbs that load a decoder (generate, caption, ask, eval --model): a PEFT
// LoRA adapter directory merged into the decoder's weights at load.
using System.CommandLine;
using Furnace.Models.Lora;

namespace Furnace.Cli.Commands;

internal sealed class LoraOptions
{
    public Option<string?> Lora { get; } = new("--lora")
    {
        Description = "A PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors), merged into the decoder at load",
    };

    public Option<float> Scale { get; } = new("--lora-scale")
    {
        Description = "Multiplier of the adapter's scale (lora_alpha/r); 0 disables it, 1 applies it as trained",
        DefaultValueFactory = _ => 1f,
    };

    public IEnumerable<Option> All => [Lora, Scale];

    /// <summary>The adapter named by --lora (null without it); notes on stderr what is merged.</summary>
    public LoraAdapter? Load(ParseResult r)
    {
        string? path = r.GetValue(Lora);
        float scale = r.GetValue(Scale);
        if (path == null)
        {
            if (r.GetResult(Scale) is { Implicit: false }) throw new FurnaceException("--lora-scale needs --lora");
            return null;
        }
        if (!float.IsFinite(scale)) throw new FurnaceException($"--lora-scale {scale} must be a finite number");
        var adapter = LoraAdapter.Load(path);
        var c = adapter.Config;
        Console.Error.WriteLine($"lora: {path}: {adapter.Modules.Count} modules, r {c.Rank}, scale {c.Scale * scale:G4}");
        return adapter;
    }

    public float ScaleOf(ParseResult r) => r.GetValue(Scale);
}
