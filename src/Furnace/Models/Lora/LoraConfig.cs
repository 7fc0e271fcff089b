// The validated configuration of a LoRA adapter (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language
// Models"): W' = W + scale·B·A with A (r, in), B (out, r), scale = alpha/r, or alpha/sqrt(r) with rank-stabilized
// LoRA (Kalajdzievski 2023). Read from and written to PEFT's adapter_config.json (peft/tuners/lora/config.py);
// PEFT features Furnace does not implement (DoRA, bias training, rank/alpha patterns, layers_to_transform,
// modules_to_save, fan_in_fan_out) are refused by name.
using System.Text.Json;

namespace Furnace.Models.Lora;

public sealed record LoraConfig
{
    public const string FileName = "adapter_config.json";

    /// <summary>r: the inner dimension of B·A.</summary>
    public required int Rank { get; init; }

    /// <summary>lora_alpha (PEFT's default 8).</summary>
    public float Alpha { get; init; } = 8f;

    /// <summary>lora_dropout: dropout on the adapter's input during training (0 at inference).</summary>
    public float Dropout { get; init; }

    public required LoraTargets Targets { get; init; }

    /// <summary>use_rslora: scale = alpha/sqrt(r) instead of alpha/r.</summary>
    public bool UseRsLora { get; init; }

    /// <summary>bias: only "none" (no bias trained) is supported.</summary>
    public string Bias { get; init; } = "none";

    /// <summary>base_model_name_or_path, as the trainer recorded it (informational; may be a hub id).</summary>
    public string? BaseModel { get; init; }

    /// <summary>task_type: "CAUSAL_LM" for a decoder, null when unset.</summary>
    public string? TaskType { get; init; } = "CAUSAL_LM";

    /// <summary>The factor B·A is multiplied by.</summary>
    public float Scale => UseRsLora ? Alpha / MathF.Sqrt(Rank) : Alpha / Rank;

    public LoraConfig Validated(string source)
    {
        void Need(bool ok, string what)
        {
            if (!ok) throw new FurnaceException($"{source}: {what}");
        }

        Need(Rank > 0 && Rank <= 65536, $"r {Rank} must be a positive rank");
        Need(float.IsFinite(Alpha) && Alpha != 0, $"lora_alpha {Alpha} must be finite and non-zero");
        Need(Dropout >= 0 && Dropout < 1, $"lora_dropout {Dropout} must be in [0, 1)");
        Need(Bias == "none", $"bias '{Bias}' is not supported (only \"none\")");
        return this;
    }

    /// <summary>Reads dir/adapter_config.json (or the file itself when given a .json path).</summary>
    public static LoraConfig Read(string path)
    {
        string file = Directory.Exists(path) ? System.IO.Path.Combine(path, FileName) : path;
        byte[] json;
        try
        {
            json = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FurnaceException($"{file}: file not found (a PEFT LoRA adapter directory holds {FileName} and adapter_model.safetensors)");
        }
        return Parse(json, file);
    }

    public static LoraConfig Parse(ReadOnlySpan<byte> json, string source)
    {
        PeftAdapterConfigJson raw;
        try
        {
            raw = JsonSerializer.Deserialize(json, LoraJsonContext.Default.PeftAdapterConfigJson)
                ?? throw new FurnaceFormatException(source, "is 'null', not a JSON object");
        }
        catch (JsonException e)
        {
            string where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path[2..]}";
            int dot = e.Message.IndexOf(". ", StringComparison.Ordinal);
            throw new FurnaceFormatException(source, $"not a valid adapter config{where} ({(dot > 0 ? e.Message[..dot] : e.Message.TrimEnd('.'))})");
        }
        return FromJson(raw, source);
    }

    public static LoraConfig FromJson(PeftAdapterConfigJson raw, string source)
    {
        void Unsupported(bool bad, string what)
        {
            if (bad) throw new FurnaceException($"{source}: {what} is not supported");
        }

        if (raw.PeftType is { } t && t != "LORA") throw new FurnaceException($"{source}: peft_type '{t}' is not a LoRA adapter (LORA)");
        Unsupported(raw.UseDora == true, "use_dora true (DoRA)");
        Unsupported(raw.FanInFanOut == true, "fan_in_fan_out true (Conv1D / GPT-2 style weights)");
        Unsupported(raw.RankPattern is { Count: > 0 }, "a non-empty rank_pattern");
        Unsupported(raw.AlphaPattern is { Count: > 0 }, "a non-empty alpha_pattern");
        Unsupported(raw.ModulesToSave is { Length: > 0 }, "modules_to_save (fully trained extra modules)");
        Unsupported(raw.LayersToTransform is { ValueKind: not JsonValueKind.Null }, "layers_to_transform");

        LoraTargets targets = raw.TargetModules switch
        {
            null or { ValueKind: JsonValueKind.Null } => throw new FurnaceException($"{source}: missing field 'target_modules'"),
            { ValueKind: JsonValueKind.String } s => LoraTargets.Pattern(s.GetString()!),
            { ValueKind: JsonValueKind.Array } a => LoraTargets.List(a.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String
                ? e.GetString()!
                : throw new FurnaceException($"{source}: target_modules must hold strings")).ToArray()),
            _ => throw new FurnaceException($"{source}: target_modules must be a list of module names or a regex string"),
        };
        return new LoraConfig
        {
            Rank = raw.R ?? throw new FurnaceException($"{source}: missing field 'r'"),
            Alpha = (float)(raw.LoraAlpha ?? 8.0),
            Dropout = (float)(raw.LoraDropout ?? 0.0),
            Targets = targets,
            UseRsLora = raw.UseRsLora ?? false,
            Bias = raw.Bias ?? "none",
            BaseModel = raw.BaseModelNameOrPath,
            TaskType = raw.TaskType,
        }.Validated(source);
    }

    /// <summary>adapter_config.json as PEFT's save_pretrained writes it (indented, the keys PEFT readers require).</summary>
    public byte[] ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartObject("alpha_pattern");
            w.WriteEndObject();
            if (BaseModel != null) w.WriteString("base_model_name_or_path", BaseModel);
            else w.WriteNull("base_model_name_or_path");
            w.WriteString("bias", Bias);
            w.WriteBoolean("fan_in_fan_out", false);
            w.WriteBoolean("inference_mode", true);
            w.WriteBoolean("init_lora_weights", true);
            w.WriteNull("layers_to_transform");
            w.WriteNumber("lora_alpha", Alpha);
            w.WriteNumber("lora_dropout", Dropout);
            w.WriteNull("modules_to_save");
            w.WriteString("peft_type", "LORA");
            w.WriteNumber("r", Rank);
            w.WriteStartObject("rank_pattern");
            w.WriteEndObject();
            if (Targets.Kind == LoraTargetKind.Names)
            {
                w.WriteStartArray("target_modules");
                foreach (string n in Targets.Names) w.WriteStringValue(n);
                w.WriteEndArray();
            }
            else
            {
                w.WriteString("target_modules", Targets.Names[0]);
            }
            if (TaskType != null) w.WriteString("task_type", TaskType);
            else w.WriteNull("task_type");
            w.WriteBoolean("use_dora", false);
            w.WriteBoolean("use_rslora", UseRsLora);
            w.WriteEndObject();
        }
        return ms.ToArray();
    }
}
