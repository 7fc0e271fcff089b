// trainer_state.json of a checkpoint: everything besides tensors that a resume restores (step counters, the random
// generator's state, the data position, per-parameter optimiser step counts and hyper-parameters).
using Furnace.Data;

namespace Furnace.Training;

public sealed record CheckpointStateJson
{
    /// <summary>Layout version of this file.</summary>
    public int Format { get; init; } = 1;

    public int Step { get; init; }

    public double ElapsedSeconds { get; init; }

    public long Samples { get; init; }

    public long Tokens { get; init; }

    /// <summary>TrainingRandom's four state words.</summary>
    public ulong[] Random { get; init; } = [];

    /// <summary>Where the training batches continue.</summary>
    public DataPosition? Data { get; init; }

    public double Beta1 { get; init; }

    public double Beta2 { get; init; }

    public double Eps { get; init; }

    /// <summary>AdamW updates per parameter name (torch's state[p]["step"]).</summary>
    public Dictionary<string, long> OptimizerSteps { get; init; } = new();

    public string[] FrozenGroups { get; init; } = [];
}
