// Splits R1-style output into reasoning and answer as it streams: DeepSeek-R1's chat template ends the generation
// prompt with "<think>\n" (DeepSeekR1Template), so the model's text starts inside the reasoning block and the answer
// follows the first "</think>"; without that opening (a raw prompt, another template) a block counts only when the
// output itself starts with "<think>". With Hide the caller gets the answer only (leading whitespace after the tag
// dropped, as DeepSeek's API separates reasoning_content from content); Show passes everything through. A tag split
// across pieces is held back until it is clearly a tag or not.
using System.Text;

namespace Furnace.Generation;

public enum ThinkMode
{
    Show,
    Hide,
}

public sealed class ThinkFilter
{
    private const string Open = "<think>", Close = "</think>";

    private readonly bool _hide;
    private readonly StringBuilder _pending = new();
    private readonly StringBuilder _reasoning = new();
    private State _state;

    private enum State
    {
        Start,     // nothing decided yet: the output may still open with "<think>"
        Inside,    // in the reasoning block
        AfterTag,  // just past "</think>": whitespace is dropped
        Answer,    // the rest passes through
    }

    /// <param name="promptOpensThink">The prompt ends inside a reasoning block (the template appended "<think>").</param>
    public ThinkFilter(ThinkMode mode, bool promptOpensThink)
    {
        _hide = mode == ThinkMode.Hide;
        _state = promptOpensThink ? State.Inside : State.Start;
    }

    /// <summary>The prompt ends with an opened reasoning block ("<think>" and optional whitespace).</summary>
    public static bool OpensThink(string prompt) => prompt.TrimEnd().EndsWith(Open, StringComparison.Ordinal);

    /// <summary>
    /// A finished generation seen through the filter: with Hide, Text becomes the answer and Reasoning the block's
    /// content; Show returns it unchanged. prompt is the rendered prompt text (does it open the block?).
    /// </summary>
    public static GenerationResult Apply(GenerationResult result, ThinkMode mode, string prompt)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (mode == ThinkMode.Show) return result;
        var f = new ThinkFilter(mode, OpensThink(prompt));
        string answer = f.Push(result.Text) + f.Flush();
        return result with { Text = answer, Reasoning = f.Reasoning };
    }

    /// <summary>"show" or "hide" (the --think option); anything else is a one-line error.</summary>
    public static ThinkMode Parse(string? value) => value switch
    {
        "show" or null => ThinkMode.Show,
        "hide" => ThinkMode.Hide,
        _ => throw new FurnaceException($"--think '{value}' is not one of show, hide"),
    };

    /// <summary>The reasoning seen so far, without the tags.</summary>
    public string Reasoning => _reasoning.ToString();

    /// <summary>Takes the next piece of generated text; returns what the caller may show now.</summary>
    public string Push(string piece)
    {
        if (!_hide) return piece;
        _pending.Append(piece);
        var shown = new StringBuilder();
        while (_pending.Length > 0)
        {
            string p = _pending.ToString();
            switch (_state)
            {
                case State.Start:
                {
                    string t = p.TrimStart();
                    if (t.StartsWith(Open, StringComparison.Ordinal))
                    {
                        _pending.Remove(0, p.Length - t.Length + Open.Length);
                        _state = State.Inside;
                        continue;
                    }
                    if (Open.StartsWith(t, StringComparison.Ordinal)) return shown.ToString(); // may still become the tag
                    _state = State.Answer;
                    continue;
                }
                case State.Inside:
                {
                    int end = p.IndexOf(Close, StringComparison.Ordinal);
                    if (end >= 0)
                    {
                        _reasoning.Append(p, 0, end);
                        _pending.Remove(0, end + Close.Length);
                        _state = State.AfterTag;
                        continue;
                    }
                    int keep = PartialTagLength(p, Close); // a suffix that may be the start of "</think>"
                    _reasoning.Append(p, 0, p.Length - keep);
                    _pending.Remove(0, p.Length - keep);
                    return shown.ToString();
                }
                case State.AfterTag:
                {
                    string t = p.TrimStart();
                    _pending.Clear().Append(t);
                    if (t.Length == 0) return shown.ToString();
                    _state = State.Answer;
                    continue;
                }
                default:
                    shown.Append(p);
                    _pending.Clear();
                    break;
            }
        }
        return shown.ToString();
    }

    /// <summary>At the end of generation: text still held back (an unclosed block stays reasoning).</summary>
    public string Flush()
    {
        if (!_hide) return "";
        string p = _pending.ToString();
        _pending.Clear();
        if (_state == State.Inside)
        {
            _reasoning.Append(p);
            return "";
        }
        return _state == State.AfterTag ? "" : p;
    }

    // the length of the longest suffix of text that is a proper prefix of tag
    private static int PartialTagLength(string text, string tag)
    {
        for (int n = Math.Min(tag.Length - 1, text.Length); n > 0; n--)
            if (string.CompareOrdinal(text, text.Length - n, tag, 0, n) == 0) return n;
        return 0;
    }
}
