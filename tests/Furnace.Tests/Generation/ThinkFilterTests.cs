// ThinkFilter: R1-style "<think>…</think>" output split into reasoning and answer while streaming, with tags split
// across pieces at every possible point.
using Furnace.Generation;

namespace Furnace.Tests.Generation;

public sealed class ThinkFilterTests
{
    private static (string Shown, string Reasoning) Run(ThinkMode mode, bool opens, IEnumerable<string> pieces)
    {
        var f = new ThinkFilter(mode, opens);
        string shown = string.Concat(pieces.Select(f.Push)) + f.Flush();
        return (shown, f.Reasoning);
    }

    // every split of text into two pieces, and one piece per character
    private static IEnumerable<string[]> Splits(string text) =>
        Enumerable.Range(0, text.Length + 1).Select(i => new[] { text[..i], text[i..] })
            .Append(text.Select(ch => ch.ToString()).ToArray());

    [Fact]
    public void Push_HidePromptOpenedThink_ShowsOnlyTheAnswerForEverySplit()
    {
        const string output = "Let me think. 2 < 3 </thin no.\nDone.</think>\n\nThe answer is 4.";
        foreach (string[] pieces in Splits(output))
        {
            var (shown, reasoning) = Run(ThinkMode.Hide, opens: true, pieces);
            Assert.Equal("The answer is 4.", shown);
            Assert.Equal("Let me think. 2 < 3 </thin no.\nDone.", reasoning);
        }
    }

    [Fact]
    public void Push_HideOutputOpensThinkItself_ShowsOnlyTheAnswerForEverySplit()
    {
        const string output = "\n<think>\nhmm</think> Yes.";
        foreach (string[] pieces in Splits(output))
        {
            var (shown, reasoning) = Run(ThinkMode.Hide, opens: false, pieces);
            Assert.Equal("Yes.", shown);
            Assert.Equal("\nhmm", reasoning);
        }
    }

    [Fact]
    public void Push_HideNoThinkBlock_PassesEverythingThrough()
    {
        foreach (string[] pieces in Splits("<thin> is not a tag; </think> here is text"))
        {
            var (shown, reasoning) = Run(ThinkMode.Hide, opens: false, pieces);
            Assert.Equal("<thin> is not a tag; </think> here is text", shown);
            Assert.Equal("", reasoning);
        }
    }

    [Fact]
    public void Flush_HideUnclosedBlock_ShowsNothingAndKeepsReasoning()
    {
        var (shown, reasoning) = Run(ThinkMode.Hide, opens: true, ["still thinking </thi"]);
        Assert.Equal("", shown);
        Assert.Equal("still thinking </thi", reasoning);
    }

    [Fact]
    public void Push_Show_PassesEverythingThrough()
    {
        var (shown, _) = Run(ThinkMode.Show, opens: true, ["a</think>", "b"]);
        Assert.Equal("a</think>b", shown);
    }

    [Theory]
    [InlineData("<｜User｜>hi<｜Assistant｜><think>\n", true)]
    [InlineData("<｜User｜>hi<｜Assistant｜>", false)]
    public void OpensThink_Prompt_DetectsAnOpenedBlock(string prompt, bool expected) =>
        Assert.Equal(expected, ThinkFilter.OpensThink(prompt));
}
