// DeepSeekVl2Prompt against DeepSeek-VL2's format_messages_v2 + tokenize_with_images ("deepseek" template, inference
// mode) transcribed in Oracles/deepseek_vl2_reference.py, with a word-level byte-level tokenizer.json holding
// DeepSeek-VL2's special tokens: input_ids, images_seq_mask and num_image_tokens identical, English and Chinese.
using System.Text.Json;
using System.Text.Json.Nodes;
using Furnace.Formats.ChatTemplates;
using Furnace.Formats.Tokenizers;
using Furnace.Models.DeepSeekVl2;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeekVl2;

public sealed class DeepSeekVl2PromptTests
{
    public static readonly TheoryData<string, ChatMessage[], (int, int)[]> Conversations = new()
    {
        { "english", [new("<|User|>", "<image>\nDescribe this image in one sentence."), new("<|Assistant|>", "")], [(640, 480)] },
        { "chinese", [new("user", "<image>\n请用简洁优美的语言描述这张图片的内容")], [(300, 900)] },
        { "two images", [new("<|User|>", "This is image_1: <image>\nThis is image_2: <image>\n Which one is bigger, 1 or 2?"), new("<|Assistant|>", "")], [(1000, 200), (384, 384)] },
        { "three images, system", [new("system", "You are a helpful assistant."), new("user", "<image><image><image> Compare them."), new("assistant", "")], [(500, 400), (200, 800), (640, 427)] },
        { "multi-turn", [new("user", "<image>\nWhat is it?"), new("assistant", " A cat. "), new("user", "你觉得它是什么颜色？")], [(427, 640)] },
        { "grounding", [new("<|User|>", "<image>\n<|ref|>The giraffe at the back.<|/ref|>."), new("<|Assistant|>", "")], [(800, 600)] },
    };

    [Theory]
    [MemberData(nameof(Conversations))]
    public void Build_Conversation_MatchesReferenceIds(string name, ChatMessage[] conversation, (int, int)[] imageSizes)
    {
        using var dir = new TempDir();
        var processor = DeepSeekVl2Fixture.PublishedProcessor();
        // DeepSeek's processor needs the closing empty assistant turn spelled out; Build adds it after a user turn
        var spelled = conversation[^1].Role is "user" or "<|User|>" ? [.. conversation, new ChatMessage("assistant", "")] : conversation;
        var req = new JsonObject
        {
            ["conversation"] = new JsonArray(spelled.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToArray()),
            ["image_sizes"] = new JsonArray(imageSizes.Select(s => (JsonNode)new JsonArray(s.Item1, s.Item2)).ToArray()),
            ["processor"] = DeepSeekVl2Fixture.ProcessorJson(processor),
            ["added_tokens"] = new JsonArray(DeepSeekVl2Fixture.Specials.Select(s => (JsonNode)s).ToArray()),
        };
        JsonDocument Run(string op)
        {
            req["op"] = op;
            File.WriteAllText(dir.File($"{op}.json"), req.ToJsonString());
            PyTorchOracle.Run("deepseek_vl2_reference.py", dir.File($"{op}.json"), dir.File($"{op}-res.json"));
            return JsonDocument.Parse(File.ReadAllBytes(dir.File($"{op}-res.json")));
        }
        using (var pieces = Run("pieces"))
            DeepSeekVl2Fixture.WriteTokenizer(dir.Path, pieces.RootElement.GetProperty("pieces").EnumerateArray().Select(p => p.GetString()!));
        req["tokenizer"] = dir.File("tokenizer.json");
        using var res = Run("prompt");
        var tokenizer = Tokenizer.FromHuggingFace(dir.File("tokenizer.json"));

        var prompt = DeepSeekVl2Prompt.Build(conversation, imageSizes, tokenizer, processor);

        int[] ids = res.RootElement.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        bool[] mask = res.RootElement.GetProperty("images_seq_mask").EnumerateArray().Select(x => x.GetBoolean()).ToArray();
        int[] counts = res.RootElement.GetProperty("num_image_tokens").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        Assert.Equal(ids, prompt.InputIds);
        Assert.Equal(mask, prompt.ImageMask);
        Assert.Equal(counts, prompt.ImageTokenCounts);
        int bos = tokenizer.BosId!.Value;
        Assert.True(tokenizer.AddBos, $"{name}: the fixture should ask for BOS, so doubling it would show");
        Assert.Equal(bos, prompt.InputIds[0]);
        Assert.Single(prompt.InputIds, id => id == bos);
    }

    private static (Tokenizer Tokenizer, DeepSeekVl2ProcessorConfig Processor) Fixture(TempDir dir)
    {
        DeepSeekVl2Fixture.WriteTokenizer(dir.Path, ["Hi", "Ġthere", ":", "Ġ", "ĊĊ", "Ċ"]);
        return (Tokenizer.FromHuggingFace(dir.File("tokenizer.json")), DeepSeekVl2Fixture.PublishedProcessor());
    }

    [Fact]
    public void Build_MoreImagesThanPlaceholders_FailsNamingBothCounts()
    {
        using var dir = new TempDir();
        var (tok, p) = Fixture(dir);
        var e = Assert.Throws<FurnaceException>(() => DeepSeekVl2Prompt.Build([new("user", "<image> Hi")], [(10, 10), (20, 20)], tok, p));
        Assert.Equal("the prompt has 1 <image> placeholder(s) but 2 image(s) were given", e.Message);
    }

    [Fact]
    public void Build_PlaceholderInAssistantTurn_Fails()
    {
        using var dir = new TempDir();
        var (tok, p) = Fixture(dir);
        var e = Assert.Throws<FurnaceException>(() => DeepSeekVl2Prompt.Build([new("user", "Hi"), new("assistant", "<image>"), new("user", "Hi")], [], tok, p));
        Assert.Contains("only user messages may hold the image placeholder", e.Message);
    }

    [Fact]
    public void Build_UnknownRole_FailsNamingIt()
    {
        using var dir = new TempDir();
        var (tok, p) = Fixture(dir);
        var e = Assert.Throws<FurnaceException>(() => DeepSeekVl2Prompt.Build([new("tool", "Hi")], [], tok, p));
        Assert.Contains("role 'tool'", e.Message);
    }

    [Theory]
    [InlineData("Describe it.", 1, "<image>\nDescribe it.")]
    [InlineData("Compare.", 2, "<image>\n<image>\nCompare.")]
    [InlineData("Look: <image> here", 1, "Look: <image> here")]
    [InlineData("No image.", 0, "No image.")]
    public void Question_WithoutPlaceholder_PrefixesOnePerImage(string text, int images, string expected) =>
        Assert.Equal(expected, DeepSeekVl2Prompt.Question(text, images));
}
