// Opens a model path as an IChatEngine: a LLaVA or DeepSeek-VL directory (config.json model_type llava / multi_modality) as a vision-language
// engine, anything else (GGUF file, HF decoder directory) as a text-only one. `furnace serve` and the samples use it.
using System.Text.Json;
using Furnace.Models;
using Furnace.Models.Vlm;

namespace Furnace.Serving;

public static class ChatEngines
{
    public static IChatEngine Open(string path, ChatEngineOptions options)
    {
        options.Validated();
        if (!File.Exists(path) && !Directory.Exists(path)) throw new FurnaceException($"{path}: no such model file or directory");
        if (IsLlavaDirectory(path))
        {
            LlavaModel llava = LlavaModel.Load(path);
            try
            {
                return Create(llava, options);
            }
            catch
            {
                llava.Dispose();
                throw;
            }
        }
        LanguageModel lm = LanguageModel.Open(path);
        try
        {
            return Create(lm, options);
        }
        catch
        {
            lm.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An engine over an opened vision-language model (owned: disposing the engine disposes it): continuously batched
    /// when options.MaxBatch > 1, sequential otherwise.
    /// </summary>
    public static IChatEngine Create(LlavaModel model, ChatEngineOptions options) =>
        options.MaxBatch > 1 ? new BatchedChatEngine(model, options) : new SequentialChatEngine(model, options);

    /// <summary>An engine over an opened text-only decoder (owned), batched as above.</summary>
    public static IChatEngine Create(LanguageModel model, ChatEngineOptions options) =>
        options.MaxBatch > 1 ? new BatchedChatEngine(model, options) : new SequentialChatEngine(model, options);

    /// <summary>A directory whose config.json says model_type llava or architectures [LlavaForConditionalGeneration].</summary>
    public static bool IsLlavaDirectory(string path)
    {
        string config = Path.Combine(path, "config.json");
        if (!Directory.Exists(path) || !File.Exists(config)) return false;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(config));
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return false;
            // LLaVA, or DeepSeek-VL (multi_modality), which LlavaModel.Load opens too
            if (root.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String && mt.GetString() is "llava" or Models.DeepSeekVl.DeepSeekVlConfig.ModelType) return true;
            return root.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array
                && a.EnumerateArray().Any(x => x.ValueKind == JsonValueKind.String && x.GetString() == "LlavaForConditionalGeneration");
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The id a path is served under: its file or directory name without a .gguf extension.</summary>
    public static string IdFromPath(string path)
    {
        string trimmed = path.TrimEnd('/', '\\');
        string name = Path.GetFileName(trimmed);
        if (name.Length == 0) name = trimmed;
        return name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? name[..^5] : name;
    }
}
