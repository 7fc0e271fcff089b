// One checkpoint directory, read back whole:
//   model.safetensors      every parameter of the trainer's groups, keyed by Tensor.Name (F32)
//   optimizer.safetensors  "<name>.exp_avg" and "<name>.exp_avg_sq" per parameter (F32)
//   trainer_state.json     CheckpointStateJson: step, random state, data position, optimiser step counts
//   config.json            the run's configuration, as the caller gave it (optional)
// plus whatever files the caller adds (e.g. an adapter_config.json so the directory also loads as an adapter).
using System.Text.Json;
using Furnace.Data;
using Furnace.Formats.SafeTensors;
using Furnace.IO;

namespace Furnace.Training;

public sealed class TrainingCheckpoint
{
    public const string WeightsFile = "model.safetensors";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string StateFile = "trainer_state.json";
    public const string ConfigFile = "config.json";
    public const string ExpAvgSuffix = ".exp_avg";
    public const string ExpAvgSqSuffix = ".exp_avg_sq";

    private TrainingCheckpoint(string directory, CheckpointStateJson state, Dictionary<string, (long[] Shape, float[] Values)> weights,
        Dictionary<string, (long[] Shape, float[] Values)> optimizer)
    {
        Directory = directory;
        State = state;
        Weights = weights;
        Optimizer = optimizer;
    }

    public string Directory { get; }

    public CheckpointStateJson State { get; }

    public IReadOnlyDictionary<string, (long[] Shape, float[] Values)> Weights { get; }

    public IReadOnlyDictionary<string, (long[] Shape, float[] Values)> Optimizer { get; }

    public DataPosition Data => State.Data ?? throw new FurnaceException($"{System.IO.Path.Combine(Directory, StateFile)}: no data position");

    public string? ConfigJson => File.Exists(Path.Combine(Directory, ConfigFile)) ? File.ReadAllText(Path.Combine(Directory, ConfigFile)) : null;

    public static TrainingCheckpoint Load(string directory)
    {
        string statePath = Path.Combine(directory, StateFile);
        if (!File.Exists(statePath)) throw new FurnaceException($"{directory}: not a training checkpoint ({StateFile} is missing)");
        var state = JsonInput.Read(statePath, TrainingJsonContext.Default.CheckpointStateJson);
        if (state.Format != 1) throw new FurnaceException($"{statePath}: checkpoint format {state.Format} is not supported (this Furnace reads format 1)");
        return new TrainingCheckpoint(directory, state, ReadAll(Path.Combine(directory, WeightsFile)), ReadAll(Path.Combine(directory, OptimizerFile)));
    }

    /// <summary>Writes the trainer's files into an existing (empty) directory; each file is flushed to disk.</summary>
    internal static void Write(string directory, CheckpointStateJson state, AdamW optimizer, string? configJson)
    {
        var weights = new SafeTensorsWriter().AddMetadata("format", "pt");
        var moments = new SafeTensorsWriter().AddMetadata("format", "pt");
        foreach (var s in optimizer.States)
        {
            string name = s.Parameter.Name!;
            long[] shape = s.Parameter.Shape.Select(d => (long)d).ToArray();
            weights.Add(name, shape, s.Parameter.Data);
            moments.Add(name + ExpAvgSuffix, shape, s.ExpAvg);
            moments.Add(name + ExpAvgSqSuffix, shape, s.ExpAvgSq);
        }
        WriteDurable(Path.Combine(directory, WeightsFile), weights.WriteTo);
        WriteDurable(Path.Combine(directory, OptimizerFile), moments.WriteTo);
        WriteDurable(Path.Combine(directory, StateFile), st => JsonSerializer.Serialize(st, state, TrainingJsonContext.Default.CheckpointStateJson));
        if (configJson != null) WriteDurable(Path.Combine(directory, ConfigFile), st => st.Write(System.Text.Encoding.UTF8.GetBytes(configJson)));
    }

    /// <summary>A new file written and flushed to disk (checkpoint files are made inside a temporary directory).</summary>
    public static void WriteDurable(string path, Action<Stream> write)
    {
        using var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        write(fs);
        fs.Flush(flushToDisk: true);
    }

    private static Dictionary<string, (long[], float[])> ReadAll(string path)
    {
        if (!File.Exists(path)) throw new FurnaceException($"{path}: missing (incomplete checkpoint)");
        using var file = SafeTensorsFile.Open(path);
        var all = new Dictionary<string, (long[], float[])>(StringComparer.Ordinal);
        foreach (var e in file.Entries)
        {
            if (e.ElementCount > int.MaxValue) throw new FurnaceException($"{path}: tensor '{e.Name}' {e.ShapeText} is too large");
            all[e.Name] = (e.Shape, e.File.ReadFloats(e.Offset, (int)e.ElementCount, e.Type));
        }
        return all;
    }
}
