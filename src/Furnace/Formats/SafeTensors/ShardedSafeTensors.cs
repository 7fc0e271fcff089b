// A checkpoint split over several safetensors files, as transformers' save_pretrained writes it:
// model.safetensors.index.json = {"metadata": {"total_size": N}, "weight_map": {tensor name: shard file name}}.
// Each shard is opened (memory-mapped) once; every tensor of the weight map is checked to exist in its shard at open.
using System.Text.Json;
using Furnace.Formats.Weights;

namespace Furnace.Formats.SafeTensors;

public sealed class ShardedSafeTensors : ITensorSource, IRawTensorSource
{
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, SafeTensorsFile> _shardOf;
    private readonly List<string> _names;

    private ShardedSafeTensors(string path, List<SafeTensorsFile> shards, Dictionary<string, SafeTensorsFile> shardOf, List<string> names, long? totalSize)
    {
        Path = path;
        Shards = shards;
        _shardOf = shardOf;
        _names = names;
        TotalSize = totalSize;
    }

    /// <summary>The index file.</summary>
    public string Path { get; }

    /// <summary>The shard files, in order of first mention in the weight map.</summary>
    public IReadOnlyList<SafeTensorsFile> Shards { get; }

    /// <summary>metadata.total_size of the index (bytes of tensor data), when present.</summary>
    public long? TotalSize { get; }

    /// <summary>Every tensor of the weight map, supported dtype or not, in weight-map order.</summary>
    public IEnumerable<SafeTensorInfo> Tensors => _names.Select(n => _shardOf[n].FindInfo(n)!);

    public IEnumerable<TensorEntry> Entries => _names.Where(n => _shardOf[n].FindInfo(n)!.Type != null).Select(n => _shardOf[n].Find(n)!);

    public TensorEntry? Find(string name) => _shardOf.TryGetValue(name, out var shard) ? shard.Find(name) : null;

    public RawTensorEntry? FindRaw(string name) => _shardOf.TryGetValue(name, out var shard) ? shard.FindRaw(name) : null;

    /// <summary>The shard holding a tensor, or null.</summary>
    public SafeTensorsFile? ShardOf(string name) => _shardOf.GetValueOrDefault(name);

    public static ShardedSafeTensors Open(string indexPath)
    {
        if (!File.Exists(indexPath)) throw new FurnaceException($"{indexPath}: file not found");
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath))!;
        var (weightMap, totalSize) = ReadIndex(indexPath);

        var opened = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        var shards = new List<SafeTensorsFile>();
        var shardOf = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, file) in weightMap)
            {
                if (!opened.TryGetValue(file, out var shard))
                {
                    string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, file));
                    if (System.IO.Path.IsPathRooted(file) || !full.StartsWith(dir + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        throw new FurnaceFormatException(indexPath, $"weight_map names shard '{file}' (for tensor '{name}') outside the checkpoint directory");
                    if (!File.Exists(full)) throw new FurnaceFormatException(indexPath, $"shard '{file}' (holding tensor '{name}') does not exist");
                    shard = SafeTensorsFile.Open(full);
                    opened.Add(file, shard);
                    shards.Add(shard);
                }
                if (shard.FindInfo(name) == null) throw new FurnaceFormatException(indexPath, $"weight_map puts tensor '{name}' in shard '{file}', which does not contain it");
                shardOf.Add(name, shard);
            }
        }
        catch
        {
            foreach (var s in shards) s.Dispose();
            throw;
        }
        return new ShardedSafeTensors(indexPath, shards, shardOf, weightMap.Select(p => p.Name).ToList(), totalSize);
    }

    private static (List<(string Name, string File)> WeightMap, long? TotalSize) ReadIndex(string indexPath)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
        }
        catch (JsonException e)
        {
            throw new FurnaceFormatException(indexPath, $"not valid JSON ({e.Message})");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new FurnaceFormatException(indexPath, "not a JSON object");
            long? totalSize = null;
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object
                && meta.TryGetProperty("total_size", out var ts) && ts.ValueKind == JsonValueKind.Number && ts.TryGetInt64(out long t))
                totalSize = t;
            if (!root.TryGetProperty("weight_map", out var map)) throw new FurnaceFormatException(indexPath, "has no weight_map");
            if (map.ValueKind != JsonValueKind.Object) throw new FurnaceFormatException(indexPath, "weight_map is not a JSON object");
            var list = new List<(string, string)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String) throw new FurnaceFormatException(indexPath, $"weight_map entry '{p.Name}' is not a file name");
                if (!seen.Add(p.Name)) throw new FurnaceFormatException(indexPath, $"weight_map names tensor '{p.Name}' twice");
                list.Add((p.Name, p.Value.GetString()!));
            }
            return (list, totalSize);
        }
    }

    public void Dispose()
    {
        foreach (var s in Shards) s.Dispose();
    }
}
