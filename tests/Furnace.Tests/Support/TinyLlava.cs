// Test support: a tiny random LLaVA (RandomLlava.TestTiny) in the Hugging Face layout together with its synthetic
// tokenizer (HfTokenizerJson), the model directory most VLM tests load. Shared by Furnace.Tests, Furnace.Cli.Tests
// and Furnace.Server.Tests (linked source).
using Furnace.Models.Vlm;

namespace Furnace.Tests.Support;

public static class TinyLlava
{
    /// <summary>Writes the model into dir and returns its config; change edits it first (e.g. a Qwen2-style decoder).</summary>
    public static LlavaConfig Write(string dir, int seed = 5, Func<LlavaConfig, LlavaConfig>? change = null)
    {
        var (vision, config) = RandomLlava.TestTiny();
        if (change != null) config = change(config);
        RandomLlava.WriteHuggingFace(dir, vision, config, seed);
        HfTokenizerJson.WriteSynthetic(dir, config.Text.VocabSize);
        return config;
    }
}
