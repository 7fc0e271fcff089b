// How TrainingSet.Load reads a file: where LLaVA image paths start, the instruction captioned images are trained
// with (the same one `furnace caption` / Captioner uses at inference), and how several captions per image are used.
using Furnace.Models.Vlm;

namespace Furnace.Data;

public sealed record TrainingSetOptions
{
    public static TrainingSetOptions Default { get; } = new();

    /// <summary>LLaVA JSON: the folder "image" paths are relative to (LLaVA's --image_folder). Null: the JSON's own
    /// folder, then the folders beside it and beside its parent (as COCO captions are found).</summary>
    public string? ImageFolder { get; init; }

    /// <summary>Caption datasets: the user turn's instruction, without the placeholder (CaptionInstruction.English or
    /// CaptionInstruction.Chinese, or a custom one that may hold "&lt;image&gt;" itself).</summary>
    public string Instruction { get; init; } = CaptionInstruction.English;

    public CaptionSampling Captions { get; init; } = CaptionSampling.EachCaption;

    /// <summary>Fail when an image file is missing (false: keep the sample with its best-guess path; `data info`
    /// counts them).</summary>
    public bool RequireImages { get; init; } = true;

    /// <summary>The options for a captioning language as `furnace caption --lang` takes it ("en", "zh"), or a custom
    /// instruction.</summary>
    public static TrainingSetOptions ForLanguage(string? lang, string? prompt = null) =>
        new() { Instruction = CaptionInstruction.For(lang, prompt) };

    /// <summary>The user turn for a captioned image, exactly as Captioner builds it at inference:
    /// "&lt;image&gt;\n" + instruction, unless the instruction places the placeholder itself.</summary>
    public string CaptionUserTurn() => Instruction.Contains(LlavaModel.ImagePlaceholder, StringComparison.Ordinal)
        ? Instruction
        : LlavaModel.ImagePlaceholder + "\n" + Instruction;
}
