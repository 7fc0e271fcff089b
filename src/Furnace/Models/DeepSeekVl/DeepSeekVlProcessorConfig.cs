// DeepSeek-VL's processor_config.json (VLChatProcessor's arguments, deepseek_vl/models/processing_vlm.py): image_tag
// (the placeholder token), num_image_tokens (image slots each placeholder expands into), sft_format (the conversation
// template, "deepseek"), add_special_token (false: the placeholder itself is replaced by the slots).
using System.Text.Json;

namespace Furnace.Models.DeepSeekVl;

public sealed record DeepSeekVlProcessorConfig
{
    public const string FileName = "processor_config.json";

    public string ImageTag { get; init; } = "<image_placeholder>";

    public required int NumImageTokens { get; init; }

    public string SftFormat { get; init; } = "deepseek";

    /// <summary>The file (a directory's processor_config.json); an error naming the file or key when it is missing or unsupported.</summary>
    public static DeepSeekVlProcessorConfig Load(string dir)
    {
        string file = Directory.Exists(dir) ? Path.Combine(dir, FileName) : dir;
        if (!File.Exists(file)) throw new FurnaceException($"{file}: file not found (DeepSeek-VL's processor config: image_tag, num_image_tokens, sft_format)");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            JsonElement r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object) throw new FurnaceFormatException(file, "not a JSON object");
            if (!r.TryGetProperty("num_image_tokens", out var n) || n.ValueKind != JsonValueKind.Number || !n.TryGetInt32(out int tokens) || tokens <= 0)
                throw new FurnaceException($"{file}: 'num_image_tokens' must be a positive integer");
            string tag = r.TryGetProperty("image_tag", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "<image_placeholder>";
            string format = r.TryGetProperty("sft_format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "deepseek";
            if (format != "deepseek") throw new FurnaceException($"{file}: sft_format '{format}' is not supported (deepseek)");
            if (r.TryGetProperty("add_special_token", out var a) && a.ValueKind == JsonValueKind.True)
                throw new FurnaceException($"{file}: add_special_token true is not supported (false: the placeholder is replaced by the image slots)");
            if (tag.Length == 0) throw new FurnaceException($"{file}: 'image_tag' is empty");
            return new DeepSeekVlProcessorConfig { ImageTag = tag, NumImageTokens = tokens, SftFormat = format };
        }
        catch (JsonException e)
        {
            throw new FurnaceFormatException(file, $"not valid JSON ({e.Message})");
        }
    }
}
