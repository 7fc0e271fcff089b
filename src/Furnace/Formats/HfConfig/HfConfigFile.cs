// config.json of a Hugging Face model -> its raw record (HfModelConfig), with errors naming the file and the JSON path.
// Turning the record into a model's validated config is the model's business (LlamaConfig.FromHuggingFace).
using System.Text.Json;

namespace Furnace.Formats.HfConfig;

public static class HfConfigFile
{
    /// <summary>The raw record of a config.json file.</summary>
    public static HfModelConfig Read(string configPath)
    {
        byte[] json;
        try
        {
            json = File.ReadAllBytes(configPath);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FurnaceException($"{configPath}: file not found");
        }
        return Parse(json, configPath);
    }

    public static HfModelConfig Parse(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize(json, HfConfigJsonContext.Default.HfModelConfig)
                ?? throw new FurnaceFormatException(source, "is 'null', not a JSON object");
        }
        catch (JsonException e)
        {
            string where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path[2..]}";
            throw new FurnaceFormatException(source, $"not a valid config{where} ({FirstSentence(e.Message)})");
        }
    }

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(". ", StringComparison.Ordinal);
        return i > 0 ? message[..i] : message.TrimEnd('.');
    }
}
