// The decoder shapes the training benchmarks use, with the batch × sequence each is timed at (DESIGN.md's PyTorch
// figures are for dim256 and dim512; tiny is the smoke-test size).
using Furnace.Models.Llama;

internal static class TrainShapes
{
    public static (LlamaConfig Config, int Seq, int Batch) Get(string name) => name switch
    {
        "tiny" => (new LlamaConfig { Architecture = "llama", Dim = 64, Layers = 2, Heads = 4, KvHeads = 4, HeadDim = 16, FfnDim = 176, VocabSize = 512, MaxPositions = 256, RmsEps = 1e-5f }, 32, 2),
        "dim256" => (new LlamaConfig { Architecture = "llama", Dim = 256, Layers = 4, Heads = 8, KvHeads = 8, HeadDim = 32, FfnDim = 704, VocabSize = 4096, MaxPositions = 512, RmsEps = 1e-5f }, 128, 8),
        "dim512" => (new LlamaConfig { Architecture = "llama", Dim = 512, Layers = 8, Heads = 8, KvHeads = 8, HeadDim = 64, FfnDim = 1408, VocabSize = 8192, MaxPositions = 512, RmsEps = 1e-5f }, 256, 4),
        _ => throw new ArgumentException($"unknown shape '{name}' (tiny, dim256, dim512)"),
    };

    /// <summary>The shape as the arguments `furnace bench train` and bench/torch_train_step.py both take.</summary>
    public static string[] Arguments(string name)
    {
        var (c, seq, batch) = Get(name);
        return ["--dim", $"{c.Dim}", "--layers", $"{c.Layers}", "--heads", $"{c.Heads}", "--kv-heads", $"{c.KvHeads}", "--ffn", $"{c.FfnDim}",
            "--vocab", $"{c.VocabSize}", "--batch", $"{batch}", "--seq", $"{seq}"];
    }
}
