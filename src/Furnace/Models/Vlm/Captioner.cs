// One caption per image from a LLaVA-style model: the code path shared by `furnace caption` and `furnace eval
// --model`. Each image gets its own user turn "<image>\n" + the instruction (English by default, Chinese for "zh",
// or a custom one that may place the <image> placeholder itself); greedy unless the options sample.
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Tensors;

namespace Furnace.Models.Vlm;

public sealed class Captioner
{
    public const string English = "Describe this image in one sentence.";
    public const string Chinese = "请用简洁优美的语言描述这张图片的内容";

    public Captioner(LlavaModel model, string instruction, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(instruction);
        ArgumentNullException.ThrowIfNull(options);
        Model = model;
        Instruction = instruction.Contains(LlavaModel.ImagePlaceholder, StringComparison.Ordinal)
            ? instruction
            : LlavaModel.ImagePlaceholder + "\n" + instruction;
        Options = options.Validated();
    }

    public LlavaModel Model { get; }

    /// <summary>The user turn sent with each image, placeholder included.</summary>
    public string Instruction { get; }

    public GenerationOptions Options { get; }

    /// <summary>The instruction for a language ("en", "zh"), unless a custom prompt is given.</summary>
    public static string InstructionFor(string? lang, string? prompt = null) => prompt ?? (lang ?? "en") switch
    {
        "en" => English,
        "zh" => Chinese,
        var l => throw new FurnaceException($"--lang '{l}' is not supported (en, zh)"),
    };

    /// <summary>The caption (trimmed) and the generation details; cancellation stops mid-caption with
    /// OperationCanceledException.</summary>
    public (string Caption, GenerationResult Result) Caption(RgbImage image, KernelContext ctx, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        GenerationResult res = Model.Generate(Instruction, [image], Options, ctx, cancellation: cancellation);
        return (res.Text.Trim(), res);
    }
}
