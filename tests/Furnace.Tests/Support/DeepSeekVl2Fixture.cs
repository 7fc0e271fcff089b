// Test support for DeepSeek-VL2: a word-level byte-level tokenizer.json (WordTokenizerJson) extended with the special
// tokens DeepSeek-VL2's tokenizer and processor use (BOS/EOS/pad, <image>, the grounding tokens, <|User|> /
// <|Assistant|>) and a tokenizer_config.json naming BOS/EOS with add_bos_token true (the processor encodes with
// add_special_tokens=False, so BOS must still come exactly once); and a tiny random-weight VL2 directory.
using System.Text.Json.Nodes;
using Furnace.Models.DeepSeekVl2;

namespace Furnace.Tests.Support;

public static class DeepSeekVl2Fixture
{
    public const string Bos = "<｜begin▁of▁sentence｜>";
    public const string Eos = "<｜end▁of▁sentence｜>";

    public static readonly string[] Specials =
        [Bos, Eos, "<｜▁pad▁｜>", "<image>", "<|ref|>", "<|/ref|>", "<|det|>", "<|/det|>", "<|grounding|>", "<|User|>", "<|Assistant|>"];

    /// <summary>Writes dir/tokenizer.json + tokenizer_config.json holding the byte-level pieces whole; returns the vocabulary size.</summary>
    public static int WriteTokenizer(string dir, IEnumerable<string> pieces)
    {
        int size = WordTokenizerJson.Write(dir, pieces);
        string path = Path.Combine(dir, "tokenizer.json");
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var vocab = root["model"]!["vocab"]!.AsObject();
        var added = root["added_tokens"]!.AsArray();
        foreach (string s in Specials)
        {
            vocab[s] = size;
            added.Add(new JsonObject { ["id"] = size, ["content"] = s, ["special"] = true });
            size++;
        }
        File.WriteAllText(path, root.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), new JsonObject
        {
            ["add_bos_token"] = true, ["add_eos_token"] = false, ["bos_token"] = Bos, ["eos_token"] = Eos, ["pad_token"] = "<｜▁pad▁｜>",
        }.ToJsonString());
        return size;
    }

    /// <summary>The processor config as the reference script's request reads it.</summary>
    public static JsonObject ProcessorJson(DeepSeekVl2ProcessorConfig p) => new()
    {
        ["candidate_resolutions"] = new JsonArray(p.CandidateResolutions.Select(r => (JsonNode)new JsonArray(r.Width, r.Height)).ToArray()),
        ["patch_size"] = p.PatchSize,
        ["downsample_ratio"] = p.DownsampleRatio,
        ["image_mean"] = new JsonArray(p.ImageMean.Select(x => (JsonNode)x).ToArray()),
        ["image_std"] = new JsonArray(p.ImageStd.Select(x => (JsonNode)x).ToArray()),
        ["normalize"] = p.Normalize,
        ["image_token"] = p.ImageToken,
    };

    /// <summary>DeepSeek-VL2's candidate set (the paper's (m·384, n·384), 1 ≤ m·n ≤ 9) in the order the published
    /// config.json / processor_config.json list it (order matters for ties: the first candidate wins).</summary>
    public static readonly (int Width, int Height)[] PublishedCandidates =
    [
        (384, 384), (384, 768), (768, 384), (384, 1152), (1152, 384), (384, 1536), (1536, 384), (768, 768), (384, 1920), (1920, 384),
        (384, 2304), (2304, 384), (768, 1152), (1152, 768), (384, 2688), (2688, 384), (384, 3072), (3072, 384), (768, 1536), (1536, 768),
        (384, 3456), (3456, 384), (1152, 1152),
    ];

    /// <summary>processor_config.json of the published checkpoints (patch 14, ratio 2, mean/std 0.5).</summary>
    public static DeepSeekVl2ProcessorConfig PublishedProcessor() =>
        new(PublishedCandidates, 14, 2, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], true, "<image>", "<｜▁pad▁｜>", "deepseek");
}
