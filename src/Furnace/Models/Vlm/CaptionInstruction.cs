// The captioning instruction of a LLaVA-style model, shared by inference (Furnace.Generation's Captioner, `furnace
// caption`, `furnace eval --model`), caption perplexity and the training sets that teach it: English by default,
// Chinese for "zh", or a custom one; the user turn is "<image>\n" + the instruction unless it places the placeholder itself.
namespace Furnace.Models.Vlm;

public static class CaptionInstruction
{
    public const string English = "Describe this image in one sentence.";
    public const string Chinese = "请用简洁优美的语言描述这张图片的内容";

    /// <summary>The instruction for a language ("en", "zh"), unless a custom prompt is given.</summary>
    public static string For(string? lang, string? prompt = null) => prompt ?? (lang ?? "en") switch
    {
        "en" => English,
        "zh" => Chinese,
        var l => throw new FurnaceException($"--lang '{l}' is not supported (en, zh)"),
    };

    /// <summary>
    /// The user turn sent with one image: the instruction, "&lt;image&gt;\n" in front unless it holds the placeholder
    /// (or modelTag, the model's own placeholder such as DeepSeek-VL's &lt;image_placeholder&gt;).
    /// </summary>
    public static string UserTurn(string instruction, string? modelTag = null)
    {
        ArgumentNullException.ThrowIfNull(instruction);
        return instruction.Contains(LlavaModel.ImagePlaceholder, StringComparison.Ordinal)
            || (!string.IsNullOrEmpty(modelTag) && instruction.Contains(modelTag, StringComparison.Ordinal))
            ? instruction
            : LlavaModel.ImagePlaceholder + "\n" + instruction;
    }
}
