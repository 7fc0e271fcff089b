// GPT-2's reversible byte <-> printable-character mapping (bytes_to_unicode in OpenAI's encoder.py, the HF ByteLevel
// pre-tokenizer and decoder, llama.cpp's unicode_byte_to_utf8). Printable Latin-1 bytes map to themselves; the other
// 68 bytes map, in order, to U+0100 upwards. Byte-level vocabularies spell every token in these characters.
namespace Furnace.Formats.Tokenizers;

internal static class ByteLevel
{
    public static readonly char[] ByteToChar = BuildByteToChar();

    // Indexed by char (all mapped chars are below U+0144); -1 where the char is not part of the mapping.
    private static readonly short[] CharToByteTable = BuildCharToByte();

    public static int CharToByte(char c) => c < CharToByteTable.Length ? CharToByteTable[c] : -1;

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var assigned = new bool[256];
        for (int b = 0; b < 256; b++)
        {
            if (b is (>= 0x21 and <= 0x7E) or (>= 0xA1 and <= 0xAC) or (>= 0xAE and <= 0xFF))
            {
                map[b] = (char)b;
                assigned[b] = true;
            }
        }
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            if (!assigned[b]) map[b] = (char)(256 + n++);
        }
        return map;
    }

    private static short[] BuildCharToByte()
    {
        var t = new short[256 + 68];
        Array.Fill(t, (short)-1);
        for (int b = 0; b < 256; b++) t[ByteToChar[b]] = (short)b;
        return t;
    }

    /// <summary>Appends the byte-level spelling of the UTF-8 encoding of <paramref name="cps"/>.</summary>
    public static void Encode(ReadOnlySpan<int> cps, System.Text.StringBuilder sb)
    {
        Span<byte> buf = stackalloc byte[4];
        foreach (int cp in cps)
        {
            int n = new System.Text.Rune(cp).EncodeToUtf8(buf);
            for (int i = 0; i < n; i++) sb.Append(ByteToChar[buf[i]]);
        }
    }
}
