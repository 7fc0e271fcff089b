// A complete tiny CLIPModel directory for metric tests: RandomClip's "test-tiny" weights with a 77-token text
// context (CLIP's), a letter-level CLIP tokenizer (vocab.json + merges.txt: a..z and a</w>..z</w>, start 98, end 99)
// and a 32-pixel CLIPImageProcessor config. Shared with Furnace.Cli.Tests.
using System.Text.Json;
using Furnace.Models.Clip;

namespace Furnace.Tests.Support;

public static class TinyClipCheckpoint
{
    public static void Write(string dir, int seed = 3)
    {
        var tiny = ClipConfig.Preset("test-tiny");
        var config = tiny with { Text = tiny.Text! with { MaxPositions = 77 } };
        RandomClip.WriteHuggingFace(dir, config, seed);

        var vocab = new Dictionary<string, int>();
        foreach (char c in "abcdefghijklmnopqrstuvwxyz") vocab[c.ToString()] = vocab.Count;
        foreach (char c in "abcdefghijklmnopqrstuvwxyz") vocab[c + "</w>"] = vocab.Count;
        while (vocab.Count < 98) vocab[$"<unused{vocab.Count}>"] = vocab.Count;
        vocab["<|startoftext|>"] = 98;
        vocab["<|endoftext|>"] = 99;
        File.WriteAllText(Path.Combine(dir, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllText(Path.Combine(dir, "merges.txt"), "#version: 0.2\n");
        File.WriteAllText(Path.Combine(dir, "preprocessor_config.json"),
            """{"image_processor_type": "CLIPImageProcessor", "size": {"shortest_edge": 32}, "crop_size": {"height": 32, "width": 32}, "resample": 3}""");
    }
}
