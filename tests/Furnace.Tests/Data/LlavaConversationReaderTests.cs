// LLaVA conversation JSON: the LLaVA-Pretrain / LLaVA-Instruct layout read into training examples, every rule
// violation reported with the file, the sample index and the field, and a seeded fuzz that never gets anything
// but FurnaceException out of the reader.
using System.Text;
using Furnace.Data;
using Furnace.Models.Vlm;
using Furnace.Tests.Support;

namespace Furnace.Tests.Data;

public sealed class LlavaConversationReaderTests
{
    private const string Valid = """
        [
          {"id": "000000033471", "image": "coco/train2017/000000033471.jpg",
           "conversations": [{"from": "human", "value": "<image>\nWhat are the colors of the bus in the image?"},
                             {"from": "gpt", "value": "The bus in the image is white and red."},
                             {"from": "human", "value": "What feature can be seen on the back of the bus?"},
                             {"from": "gpt", "value": "The back of the bus features an advertisement."}]},
          {"id": 42, "conversations": [{"from": "user", "value": "Say hi."}, {"from": "assistant", "value": "Hi."}]},
          {"id": "000000033471", "image": "coco/train2017/000000033471.jpg",
           "conversations": [{"from": "human", "value": "Describe it.\n<image>"}, {"from": "gpt", "value": "A bus."}]},
        ]
        """;

    private static void Touch(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [0xFF, 0xD8, 0xFF]);
    }

    private static string Write(TempDir dir, string json, string name = "llava.json")
    {
        string path = dir.File(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void LoadLlava_InstructSample_TurnsImagesAndTextOnlySamples()
    {
        using var dir = new TempDir();
        Touch(dir.File("coco/train2017/000000033471.jpg"));
        var set = TrainingSet.Load(Write(dir, Valid));
        Assert.Equal(TrainingDataFormat.Llava, set.Format);
        Assert.Equal(3, set.Count);
        Assert.Equal(1, set.ImageCount);
        Assert.Equal(0, set.MissingImageCount);

        var first = set.Example(0);
        Assert.Equal("000000033471", first.Id);
        Assert.Equal(dir.File("coco/train2017/000000033471.jpg"), first.ImagePath);
        Assert.Equal(4, first.Turns.Count);
        Assert.Equal(new TrainingTurn(TrainingRole.User, "<image>\nWhat are the colors of the bus in the image?"), first.Turns[0]);
        Assert.Equal(new TrainingTurn(TrainingRole.Assistant, "The back of the bus features an advertisement."), first.Turns[3]);
        Assert.Equal(["user", "assistant", "user", "assistant"], first.ToChatMessages().Select(m => m.Role));

        var textOnly = set.Example(1);
        Assert.Equal("42", textOnly.Id);
        Assert.False(textOnly.HasImage);
        Assert.Equal("id:42", set.ImageKeyOf(1));
        Assert.Equal("coco/train2017/000000033471.jpg", set.ImageKeyOf(2));
    }

    [Fact]
    public void LoadLlava_ImageFolderOption_ResolvesAgainstIt()
    {
        using var dir = new TempDir();
        Touch(dir.File("images/coco/train2017/000000033471.jpg"));
        string json = Write(dir, Valid, "data/llava.json");
        var set = TrainingSet.Load(json, new TrainingSetOptions { ImageFolder = dir.File("images") });
        Assert.Equal(dir.File("images/coco/train2017/000000033471.jpg"), set.ImagePathOf(0));

        var e = Assert.ThrowsAny<FurnaceException>(() => TrainingSet.Load(json, new TrainingSetOptions { ImageFolder = dir.File("data") }));
        Assert.Equal($"{json}: [0] (id 000000033471).image: file 'coco/train2017/000000033471.jpg' not found in {dir.File("data")}", e.Message);
    }

    [Fact]
    public void LoadLlava_MissingImagesAllowed_CountsThem()
    {
        using var dir = new TempDir();
        var set = TrainingSet.Load(Write(dir, Valid), new TrainingSetOptions { RequireImages = false });
        Assert.Equal(2, set.MissingImageCount);
        Assert.Equal(dir.File("coco/train2017/000000033471.jpg"), set.ImagePathOf(0));
    }

    [Theory]
    [InlineData("""{"id": 1}""", "not a LLaVA conversation file (expected a JSON array")]
    [InlineData("""[]""", "no samples")]
    [InlineData("""[5]""", "[0]: expected an object, got a number")]
    [InlineData("""[{"id": true, "conversations": []}]""", "[0].id: expected a string or a number, got a boolean")]
    [InlineData("""[{"id": "a"}]""", "[0] (id a): missing \"conversations\"")]
    [InlineData("""[{"id": "a", "conversations": {}}]""", "[0] (id a).conversations: expected an array")]
    [InlineData("""[{"id": "a", "conversations": []}]""", "[0] (id a).conversations is empty")]
    [InlineData("""[{"id": "a", "conversations": [{"from": "human", "value": "q"}, {"from": "bot", "value": "x"}]}]""", "[0] (id a).conversations[1].from: 'bot' is not a speaker (human or gpt)")]
    [InlineData("""[{"id": "a", "conversations": [{"from": "gpt", "value": "x"}, {"from": "human", "value": "q"}]}]""", "[0] (id a).conversations[0].from: 'gpt' out of turn")]
    [InlineData("""[{"id": "a", "conversations": [{"from": "human", "value": "q"}]}]""", "[0] (id a).conversations: ends with a human turn")]
    [InlineData("""[{"id": "a", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt"}]}]""", "[0] (id a).conversations[1]: missing \"value\"")]
    [InlineData("""[{"id": "a", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": 3}]}]""", "[0] (id a).conversations[1].value: expected a string, got a number")]
    [InlineData("""[{"id": "a", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": " "}]}]""", "[0] (id a).conversations[1].value is empty")]
    [InlineData("""[{"id": "a", "conversations": [{"value": "q"}]}]""", "[0] (id a).conversations[0]: missing \"from\"")]
    [InlineData("""[{"id": "a", "image": "x.jpg", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}]""", "[0] (id a).conversations: a sample with an image needs the <image> placeholder exactly once (found 0)")]
    [InlineData("""[{"id": "a", "image": "x.jpg", "conversations": [{"from": "human", "value": "<image><image>"}, {"from": "gpt", "value": "a"}]}]""", "(found 2)")]
    [InlineData("""[{"id": "a", "conversations": [{"from": "human", "value": "<image>\nq"}, {"from": "gpt", "value": "a"}]}]""", "[0] (id a).conversations: <image> in a sample without \"image\"")]
    [InlineData("""[{"id": "a", "image": "x.jpg", "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "<image>"}]}]""", "[0] (id a).conversations[1].value: the <image> placeholder is in a gpt turn")]
    [InlineData("""[{"id": "a", "image": ["x.jpg", "y.jpg"], "conversations": []}]""", "[0] (id a).image: multi-image samples are not supported")]
    [InlineData("""[{"id": "a", "image": 7, "conversations": []}]""", "[0] (id a).image: expected a path string, got a number")]
    [InlineData("""[{"id": "a", "image": "", "conversations": []}]""", "[0] (id a).image is empty")]
    [InlineData("""[{"id": "a", "image": "nope.jpg", "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "a"}]}]""", "[0] (id a).image: file 'nope.jpg' not found in")]
    [InlineData("[{\"id\": \"a\",\n \"conversations\": [}]", "malformed JSON at line 2")]
    public void LoadLlava_Errors_NameFileIndexAndField(string json, string expected)
    {
        using var dir = new TempDir();
        Touch(dir.File("x.jpg"));
        string path = Write(dir, json);
        var e = Assert.ThrowsAny<FurnaceException>(() => TrainingSet.LoadLlava(path));
        Assert.StartsWith($"{path}: ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void LoadLlava_LaterSampleBad_GivesItsIndex()
    {
        using var dir = new TempDir();
        string path = Write(dir, """[{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}, {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": ""}]}]""");
        var e = Assert.ThrowsAny<FurnaceException>(() => TrainingSet.LoadLlava(path));
        Assert.Equal($"{path}: [1] (id 1).conversations[1].value is empty", e.Message);
    }

    [Fact]
    public void Load_JsonObjectIsCoco_JsonArrayIsLlava()
    {
        using var dir = new TempDir();
        Touch(dir.File("a.jpg"));
        string coco = Write(dir, """{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"image_id": 1, "caption": "A cat."}]}""", "c.json");
        Assert.Equal(TrainingDataFormat.Coco, TrainingSet.Load(coco).Format);
        string llava = Write(dir, "\uFEFF  \n" + """[{"image": "a.jpg", "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "A cat."}]}]""", "l.json");
        Assert.Equal(TrainingDataFormat.Llava, TrainingSet.Load(llava).Format);
        Assert.Equal("0", TrainingSet.Load(llava).IdOf(0));
    }

    [Fact]
    public void LoadLlava_SeededMutations_OnlyFurnaceExceptions()
    {
        using var dir = new TempDir();
        Touch(dir.File("coco/train2017/000000033471.jpg"));
        byte[] valid = Encoding.UTF8.GetBytes(Valid);
        byte[] alphabet = Encoding.UTF8.GetBytes("{}[]\",:0-1.9eE\\u \n\ttrfalsenul<image>humangptfromvalueconversationsid左\uD83D\uDE00");
        string[] fragments = ["null", "[]", "{}", "\"\"", "1e999", "-0", "\"\\ud800\"", "\"<image>\"", "\"human\"", "\"gpt\"", "[[[[[[", "\"\\u0000\"", "true"];
        var rng = new DataRandom(20261129);
        int ok = 0, rejected = 0;
        for (int round = 0; round < 400; round++)
        {
            var bytes = new List<byte>(valid);
            int edits = 1 + rng.NextInt(4);
            for (int k = 0; k < edits && bytes.Count > 0; k++)
            {
                int at = rng.NextInt(bytes.Count);
                switch (rng.NextInt(6))
                {
                    case 0: bytes.RemoveAt(at); break;
                    case 1: bytes.Insert(at, alphabet[rng.NextInt(alphabet.Length)]); break;
                    case 2: bytes[at] = (byte)rng.NextInt(256); break;
                    case 3: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + rng.NextInt(30))); break;
                    case 4: bytes.InsertRange(at, Encoding.UTF8.GetBytes(fragments[rng.NextInt(fragments.Length)])); break;
                    default: bytes.RemoveRange(at, bytes.Count - at); break;
                }
            }
            string path = dir.File($"fuzz{round % 4}.json");
            File.WriteAllBytes(path, [.. bytes]);
            bool require = round % 2 == 0;
            try
            {
                var set = TrainingSet.LoadLlava(path, new TrainingSetOptions { RequireImages = require });
                for (int i = 0; i < set.Count; i++) Assert.NotEmpty(set.Example(i).Turns);
                ok++;
            }
            catch (FurnaceException e)
            {
                Assert.StartsWith(path, e.Message);
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"round {round}: {e.GetType().Name}: {e.Message}\n{Encoding.UTF8.GetString([.. bytes])}");
            }
        }
        Assert.True(rejected > 200, $"{rejected} of 400 mutations rejected");
        Assert.True(ok > 0, "no mutation survived (the mutations are too coarse to exercise the happy path)");
    }

    [Fact]
    public void CaptionUserTurn_IsWhatCaptionerSends()
    {
        Assert.Equal(LlavaModel.ImagePlaceholder + "\n" + CaptionInstruction.English, TrainingSetOptions.Default.CaptionUserTurn());
        Assert.Equal("<image>\n" + CaptionInstruction.Chinese, TrainingSetOptions.ForLanguage("zh").CaptionUserTurn());
        Assert.Equal("Caption: <image>", TrainingSetOptions.ForLanguage("en", "Caption: <image>").CaptionUserTurn());
        Assert.ThrowsAny<FurnaceException>(() => TrainingSetOptions.ForLanguage("fr"));
    }
}
