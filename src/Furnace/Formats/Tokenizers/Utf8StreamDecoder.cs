// Turns generated token ids into text as they arrive. A token may end in the middle of a UTF-8 character (byte
// fallback tokens <0xE4><0xBD><0xA0>, or byte-level BPE tokens that split an emoji), so bytes are held back until the
// character is whole; only complete characters are returned. Decoding the same ids at once with Tokenizer.Decode
// gives the same text (without llama.cpp's clean-up of spaces before punctuation, which streaming cannot undo).
using System.Text;

namespace Furnace.Formats.Tokenizers;

public sealed class Utf8StreamDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecial;
    private readonly bool _stripFirstSpace;
    private byte[] _bytes = new byte[64];
    private int _count;
    private bool _first = true;

    /// <param name="skipSpecial">leave control tokens (BOS, EOS, end-of-turn...) out of the text</param>
    public Utf8StreamDecoder(Tokenizer tokenizer, bool skipSpecial = true)
    {
        _tokenizer = tokenizer;
        _skipSpecial = skipSpecial;
        _stripFirstSpace = tokenizer.StripsFirstSpace;
    }

    /// <summary>Adds one token; returns the text it completed (often empty, sometimes several characters).</summary>
    public string Push(int id)
    {
        ReadOnlySpan<byte> piece = _tokenizer.PieceSpan(id);
        if (_skipSpecial && _tokenizer.IsControl(id)) piece = [];
        if (_first)
        {
            if (_stripFirstSpace && piece.Length > 0 && piece[0] == (byte)' ') piece = piece[1..];
            _first = false;
        }
        if (piece.IsEmpty) return string.Empty;
        if (_count + piece.Length > _bytes.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _count + piece.Length));
        piece.CopyTo(_bytes.AsSpan(_count));
        _count += piece.Length;

        int complete = _count - IncompleteTail(_bytes.AsSpan(0, _count));
        if (complete == 0) return string.Empty;
        string text = Encoding.UTF8.GetString(_bytes, 0, complete);
        _bytes.AsSpan(complete, _count - complete).CopyTo(_bytes);
        _count -= complete;
        return text;
    }

    /// <summary>Whatever is still held back, with U+FFFD for a character that never completed.</summary>
    public string Flush()
    {
        string text = _count == 0 ? string.Empty : Encoding.UTF8.GetString(_bytes, 0, _count);
        _count = 0;
        return text;
    }

    /// <summary>Starts a new text (the next token counts as the first again).</summary>
    public void Reset()
    {
        _count = 0;
        _first = true;
    }

    // Bytes at the end that start a multi-byte character still missing continuation bytes.
    private static int IncompleteTail(ReadOnlySpan<byte> b)
    {
        for (int back = 1; back <= 3 && back <= b.Length; back++)
        {
            byte x = b[^back];
            if (x < 0x80) return 0;
            if (x < 0xC0) continue; // continuation byte: keep looking for its lead
            int need = x >= 0xF0 ? (x <= 0xF4 ? 4 : 1) : x >= 0xE0 ? 3 : x >= 0xC2 ? 2 : 1;
            return back < need ? back : 0;
        }
        return 0;
    }
}
