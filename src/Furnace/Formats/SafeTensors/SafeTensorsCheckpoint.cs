// Opens the weights of a Hugging Face model directory the way transformers looks for them: model.safetensors
// first, then the sharded model.safetensors.index.json. A path to either file works too.
using Furnace.Formats.Weights;

namespace Furnace.Formats.SafeTensors;

public static class SafeTensorsCheckpoint
{
    public const string SingleFileName = "model.safetensors";

    public static ITensorSource Open(string path)
    {
        if (File.Exists(path))
            return path.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase) ? ShardedSafeTensors.Open(path) : SafeTensorsFile.Open(path);
        if (!Directory.Exists(path)) throw new FurnaceException($"{path}: no such file or directory");
        string single = Path.Combine(path, SingleFileName);
        if (File.Exists(single)) return SafeTensorsFile.Open(single);
        string index = Path.Combine(path, ShardedSafeTensors.IndexFileName);
        if (File.Exists(index)) return ShardedSafeTensors.Open(index);
        throw new FurnaceException($"{path}: neither {SingleFileName} nor {ShardedSafeTensors.IndexFileName} is there");
    }
}
