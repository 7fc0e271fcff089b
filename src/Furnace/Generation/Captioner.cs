// One caption per image from a LLaVA-style model: the code path shared by `furnace caption` and `furnace eval
// --model`. Each image gets its own user turn (CaptionInstruction.UserTurn: "<image>\n" + the instruction, unless the
// instruction places the placeholder itself); greedy unless the options sample; --think hide leaves an R1-style
// reasoning block out of the caption.
using Furnace.Formats.Images;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Generation;

public sealed class Captioner
{
    public Captioner(LlavaModel model, string instruction, GenerationOptions options, ThinkMode think = ThinkMode.Show)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(instruction);
        ArgumentNullException.ThrowIfNull(options);
        Model = model;
        Instruction = CaptionInstruction.UserTurn(instruction, model.ImageTag);
        Options = options.Validated();
        Think = think;
    }

    /// <summary>Hide: an R1-style reasoning block is left out of the caption (kept in the result's Reasoning).</summary>
    public ThinkMode Think { get; }

    public LlavaModel Model { get; }

    /// <summary>The user turn sent with each image, placeholder included.</summary>
    public string Instruction { get; }

    public GenerationOptions Options { get; }

    /// <summary>The caption (trimmed) and the generation details; cancellation stops mid-caption with
    /// OperationCanceledException.</summary>
    public (string Caption, GenerationResult Result) Caption(RgbImage image, KernelContext ctx, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        GenerationResult res = Model.Generate(Instruction, [image], Options, ctx, cancellation: cancellation);
        res = ThinkFilter.Apply(res, Think, Model.RenderChat(Instruction));
        return (res.Text.Trim(), res);
    }
}
