// Rank-ordered BPE merging of one pre-tokenized word (GPT-2 byte-level BPE, and HF's SentencePiece-style BPE with byte
// fallback). Mirrors llm_tokenizer_bpe_session::tokenize in llama.cpp (src/llama-vocab.cpp) and the word merge of HF
// tokenizers' BPE model: symbols form a linked list, candidate pairs sit in a priority queue ordered by merge rank then
// by position, and stale candidates are skipped when popped — O(n log n) per word instead of rescanning all pairs.
namespace Furnace.Formats.Tokenizers;

internal enum BpeFallback
{
    // llama.cpp: a leftover symbol that is not a token is emitted as the tokens of its single ASCII chars, if any.
    AsciiChars,

    // SentencePiece byte fallback: the <0xXX> tokens of its UTF-8 bytes, or unk when one is missing.
    ByteTokens,

    // the unk token (HF BPE without byte fallback).
    Unknown,
}

internal sealed class BpeModel
{
    // Every string that can be a symbol: vocabulary tokens have their token id; merge parts and results that are not
    // tokens get ids from vocabSize upwards, so a merge can be looked up by the ids of its two sides.
    private readonly SpanStringMap _pieces;
    private readonly Dictionary<long, (int Rank, int Result)> _merges;
    private readonly int _vocabSize;
    private readonly int[] _byteTokens;
    private readonly int _unk;
    private readonly List<(string Left, string Right)> _mergeList;

    public BpeModel(IReadOnlyList<string> vocab, SpanStringMap vocabIds, IEnumerable<(string Left, string Right)> merges,
        bool byteEncoded, bool ignoreMerges, BpeFallback fallback, int unk, bool fuseUnk = false)
    {
        _vocabSize = vocab.Count;
        _pieces = new SpanStringMap(vocab.Count * 2);
        for (int i = 0; i < vocab.Count; i++) _pieces.TryAdd(vocab[i], vocabIds.Get(vocab[i]) == i ? i : -1);
        int nextId = _vocabSize;
        int PieceId(string s)
        {
            int id = _pieces.Get(s);
            if (id >= 0) return id;
            _pieces.TryAdd(s, nextId);
            return nextId++;
        }
        _merges = [];
        _mergeList = [.. merges];
        int rank = 0;
        foreach (var (l, r) in _mergeList)
        {
            long key = ((long)PieceId(l) << 32) | (uint)PieceId(r);
            // the first occurrence of a pair wins, as in a map filled with emplace
            _merges.TryAdd(key, (rank, PieceId(l + r)));
            rank++;
        }
        ByteEncoded = byteEncoded;
        IgnoreMerges = ignoreMerges;
        Fallback = fallback;
        FuseUnk = fuseUnk;
        _unk = unk;
        _byteTokens = new int[256];
        for (int b = 0; b < 256; b++) _byteTokens[b] = vocabIds.Get($"<0x{b:X2}>");
    }

    public bool ByteEncoded { get; }

    public bool IgnoreMerges { get; }

    public BpeFallback Fallback { get; }

    public bool FuseUnk { get; }

    public int MergeCount => _merges.Count;

    /// <summary>The merges in rank order, as given (for writing the vocabulary back out).</summary>
    public IReadOnlyList<(string Left, string Right)> Merges => _mergeList;

    private struct Symbol
    {
        public int Start;
        public int Length;
        public int Prev;
        public int Next;
        public int Piece;
    }

    private readonly record struct Bigram(int Left, int Right, int LeftPiece, int RightPiece);

    private sealed class ByRankThenPosition : IComparer<(int Rank, int Left)>
    {
        public static readonly ByRankThenPosition Instance = new();

        public int Compare((int Rank, int Left) a, (int Rank, int Left) b) =>
            a.Rank != b.Rank ? a.Rank.CompareTo(b.Rank) : a.Left.CompareTo(b.Left);
    }

    /// <summary>Appends the tokens of one word (already in the model's alphabet: byte-level chars, or raw text).</summary>
    public void EncodeWord(string word, List<int> output)
    {
        if (word.Length == 0) return;
        if (IgnoreMerges)
        {
            int whole = _pieces.Get(word);
            if (whole >= 0 && whole < _vocabSize)
            {
                output.Add(whole);
                return;
            }
        }

        var symbols = new Symbol[word.Length];
        int n = 0;
        for (int i = 0; i < word.Length;)
        {
            int len = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            symbols[n] = new Symbol { Start = i, Length = len, Prev = n - 1, Next = i + len < word.Length ? n + 1 : -1, Piece = _pieces.Get(word.AsSpan(i, len)) };
            n++;
            i += len;
        }

        var queue = new PriorityQueue<Bigram, (int, int)>(ByRankThenPosition.Instance);
        void TryAdd(int left, int right)
        {
            if (left < 0 || right < 0) return;
            int lp = symbols[left].Piece, rp = symbols[right].Piece;
            if (lp < 0 || rp < 0) return;
            if (_merges.TryGetValue(((long)lp << 32) | (uint)rp, out var m)) queue.Enqueue(new Bigram(left, right, lp, rp), (m.Rank, left));
        }
        for (int i = 1; i < n; i++) TryAdd(i - 1, i);

        while (queue.TryDequeue(out var bg, out _))
        {
            ref var l = ref symbols[bg.Left];
            ref var r = ref symbols[bg.Right];
            if (l.Length == 0 || r.Length == 0 || l.Next != bg.Right || l.Piece != bg.LeftPiece || r.Piece != bg.RightPiece) continue;
            l.Piece = _merges[((long)bg.LeftPiece << 32) | (uint)bg.RightPiece].Result;
            l.Length += r.Length;
            r.Length = 0;
            l.Next = r.Next;
            if (r.Next >= 0) symbols[r.Next].Prev = bg.Left;
            TryAdd(l.Prev, bg.Left);
            TryAdd(bg.Left, l.Next);
        }

        bool prevUnk = false;
        for (int i = 0; i >= 0 && n > 0; i = symbols[i].Next)
        {
            var s = symbols[i];
            if (s.Piece >= 0 && s.Piece < _vocabSize)
            {
                output.Add(s.Piece);
                prevUnk = false;
                continue;
            }
            var text = word.AsSpan(s.Start, s.Length);
            switch (Fallback)
            {
                case BpeFallback.AsciiChars:
                    foreach (char c in text)
                    {
                        int id = c < 0x80 ? _pieces.Get(new ReadOnlySpan<char>(in c)) : -1;
                        if (id >= 0 && id < _vocabSize) output.Add(id);
                    }
                    break;
                case BpeFallback.ByteTokens:
                {
                    // rare path: a piece no token covers
                    byte[] buf = System.Text.Encoding.UTF8.GetBytes(text.ToString());
                    int nb = buf.Length;
                    bool all = true;
                    for (int k = 0; k < nb; k++) all &= _byteTokens[buf[k]] >= 0;
                    if (all)
                    {
                        for (int k = 0; k < nb; k++) output.Add(_byteTokens[buf[k]]);
                        prevUnk = false;
                    }
                    else AddUnk(output, ref prevUnk);
                    break;
                }
                default:
                    AddUnk(output, ref prevUnk);
                    break;
            }
        }
    }

    private void AddUnk(List<int> output, ref bool prevUnk)
    {
        if (_unk < 0) return;
        if (!(FuseUnk && prevUnk)) output.Add(_unk);
        prevUnk = true;
    }
}
