// OUT/<stage>/stage.json, written when a stage finishes: a rerun with --resume skips finished stages and starts the
// next one from the outputs named here.
namespace Furnace.Training;

public sealed record TrainStageSummaryJson
{
    public string Name { get; init; } = "";
    public int Steps { get; init; }
    public double? FinalLoss { get; init; }
    public double? FinalValLoss { get; init; }
    public double ElapsedSeconds { get; init; }

    /// <summary>The trained model as an HF LLaVA directory (when the base was one).</summary>
    public string? Model { get; init; }

    /// <summary>The trained projector alone (multi_modal_projector.* keys), for --projector composition.</summary>
    public string? Projector { get; init; }

    /// <summary>The trained LoRA adapter in PEFT's layout, when the stage trained one.</summary>
    public string? Adapter { get; init; }
}
