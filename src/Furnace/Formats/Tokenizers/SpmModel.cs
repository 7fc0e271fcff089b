// SentencePiece BPE by token scores, as llama.cpp's llm_tokenizer_spm_session (src/llama-vocab.cpp, after the
// original in commit 074bea2): start from single codepoints, repeatedly merge the adjacent pair whose concatenation
// is the highest-scoring vocabulary token (leftmost on ties), and spell leftovers with byte-fallback tokens.
// The caller has already put the ▁ escape and the optional leading space in place.
namespace Furnace.Formats.Tokenizers;

internal sealed class SpmModel
{
    private readonly SpanStringMap _ids;
    private readonly float[] _scores;
    private readonly int[] _byteTokens;

    public SpmModel(SpanStringMap ids, float[] scores, int unk)
    {
        _ids = ids;
        _scores = scores;
        _byteTokens = new int[256];
        for (int b = 0; b < 256; b++)
        {
            int id = ids.Get($"<0x{b:X2}>");
            // llama_vocab::byte_to_token falls back to the byte as a one-char token
            if (id < 0 && b < 0x80) id = ids.Get(((char)b).ToString());
            _byteTokens[b] = id >= 0 ? id : unk;
        }
    }

    private struct Symbol
    {
        public int Start;
        public int Length;
        public int Prev;
        public int Next;
    }

    private readonly record struct Bigram(int Left, int Right, int Size);

    private sealed class ByScoreThenPosition : IComparer<(float Score, int Left)>
    {
        public static readonly ByScoreThenPosition Instance = new();

        // higher score first, then the leftmost pair
        public int Compare((float Score, int Left) a, (float Score, int Left) b) =>
            a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Left.CompareTo(b.Left);
    }

    public void Encode(string text, List<int> output)
    {
        if (text.Length == 0) return;
        var symbols = new Symbol[text.Length];
        int n = 0;
        for (int i = 0; i < text.Length;)
        {
            int len = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            symbols[n] = new Symbol { Start = i, Length = len, Prev = n - 1, Next = i + len < text.Length ? n + 1 : -1 };
            n++;
            i += len;
        }

        var queue = new PriorityQueue<Bigram, (float, int)>(ByScoreThenPosition.Instance);
        void TryAdd(int left, int right)
        {
            if (left < 0 || right < 0) return;
            int size = symbols[left].Length + symbols[right].Length;
            int id = _ids.Get(text.AsSpan(symbols[left].Start, size));
            if (id < 0 || id >= _scores.Length) return;
            queue.Enqueue(new Bigram(left, right, size), (_scores[id], left));
        }
        for (int i = 1; i < n; i++) TryAdd(i - 1, i);

        while (queue.TryDequeue(out var bg, out _))
        {
            ref var l = ref symbols[bg.Left];
            ref var r = ref symbols[bg.Right];
            if (l.Length == 0 || r.Length == 0 || l.Length + r.Length != bg.Size) continue;
            l.Length += r.Length;
            r.Length = 0;
            l.Next = r.Next;
            if (r.Next >= 0) symbols[r.Next].Prev = bg.Left;
            TryAdd(l.Prev, bg.Left);
            TryAdd(bg.Left, l.Next);
        }

        for (int i = 0; i >= 0; i = symbols[i].Next)
        {
            var s = symbols[i];
            int id = _ids.Get(text.AsSpan(s.Start, s.Length));
            if (id >= 0)
            {
                output.Add(id);
                continue;
            }
            foreach (byte b in System.Text.Encoding.UTF8.GetBytes(text.Substring(s.Start, s.Length)))
            {
                if (_byteTokens[b] >= 0) output.Add(_byteTokens[b]);
            }
        }
    }
}
