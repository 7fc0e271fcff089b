// BpeTrainer: the byte-level BPE it learns loads through Tokenizer.Open (our HF tokenizer.json reader) and
// round-trips English, Chinese and unseen text; merges follow pair frequency; the result is deterministic.
using Furnace.Formats.Tokenizers;
using Furnace.Tests.Support;

namespace Furnace.Tests.Tokenizers;

public sealed class BpeTrainerTests
{
    private static readonly string[] Captions =
    [
        "two red apples to the left of a dog, on a plain blue background",
        "a dog to the right of two red apples",
        "three high-speed trains above a ticket, against a cloudy sky",
        "a grinning face emoji",
        "the flag of France",
        "在纯蓝色的背景上，两个红苹果在一只狗的左边",
        "一只狗在两个红苹果的右边",
        "法国的旗帜",
    ];

    private static BpeTrainer Trained(IEnumerable<string> texts, int vocab = 400)
    {
        var t = new BpeTrainer { VocabSize = vocab };
        foreach (string s in texts) t.Add(s, 3);
        return t;
    }

    [Fact]
    public void Write_EnglishAndChinese_RoundTripsThroughTokenizerOpen()
    {
        using var dir = new TempDir();
        int size = Trained(Captions).Write(dir.Path, 128);
        var tok = Tokenizer.Open(dir.Path);
        Assert.Equal(size, tok.VocabSize);
        foreach (string s in Captions.Append("an unseen zebra 🦓 with ümlauts, 123 and 斑马"))
        {
            int[] ids = tok.Encode(s, addSpecial: false);
            Assert.Equal(s, tok.Decode(ids));
        }
        Assert.True(tok.Encode("two red apples to the left of a dog", addSpecial: false).Length < "two red apples to the left of a dog".Length / 2);
    }

    [Fact]
    public void Write_SpecialTokens_HaveFixedIdsAndBosIsAdded()
    {
        using var dir = new TempDir();
        Trained(Captions).Write(dir.Path, 128);
        var tok = Tokenizer.Open(dir.Path);
        Assert.Equal((0, 1, 2), (tok.PadId!.Value, tok.BosId!.Value, tok.EosId!.Value));
        Assert.Equal(3, tok.TokenId(BpeTrainer.Image));
        int[] ids = tok.Encode("USER: <image>\nDescribe ASSISTANT:", addSpecial: true, parseSpecial: true);
        Assert.Equal(1, ids[0]);
        Assert.Contains(3, ids);
        Assert.True(tok.IsEndOfGeneration(2));
    }

    [Fact]
    public void Train_MostFrequentPair_IsTheFirstMerge()
    {
        var t = new BpeTrainer { VocabSize = 4 + 256 + 1 };
        t.Add("xyxyxy", 5);
        t.Add("ab", 1);
        var (vocab, merges) = t.Train();
        Assert.Equal(("x", "y"), merges[0]);
        Assert.Equal("xy", vocab[^1]);
    }

    [Fact]
    public void Train_InsertionOrder_DoesNotChangeTheResult()
    {
        var a = Trained(Captions).Train();
        var b = Trained(Captions.Reverse()).Train();
        Assert.Equal(a.Vocab, b.Vocab);
        Assert.Equal(a.Merges, b.Merges);
    }

    [Fact]
    public void Train_RarePairs_StopBeforeTheTargetSize()
    {
        var t = new BpeTrainer { VocabSize = 5000, MinFrequency = 2 };
        t.Add("abc");
        var (vocab, merges) = t.Train();
        Assert.Empty(merges);
        Assert.Equal(4 + 256, vocab.Count);
    }

    [Fact]
    public void Train_VocabBelowBase_Throws()
    {
        var t = new BpeTrainer { VocabSize = 100 };
        Assert.Throws<FurnaceException>(() => t.Train());
    }
}
