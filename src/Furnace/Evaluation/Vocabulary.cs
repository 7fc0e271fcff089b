// Interns words to dense ids so the metrics compare ints, and splits sentences the two ways coco-caption does:
// Python's str.split() (any whitespace run; Bleu, CIDEr) and str.split(" ") (single spaces, empty words kept;
// ROUGE-L).
namespace Furnace.Evaluation;

internal sealed class Vocabulary
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    public int Id(string word)
    {
        if (!_ids.TryGetValue(word, out int id))
        {
            id = _ids.Count;
            _ids.Add(word, id);
        }
        return id;
    }

    /// <summary>str.split(): words separated by runs of whitespace, none empty.</summary>
    public int[] SplitWhitespace(string sentence)
    {
        var ids = new List<int>();
        int i = 0;
        while (i < sentence.Length)
        {
            while (i < sentence.Length && char.IsWhiteSpace(sentence[i])) i++;
            int start = i;
            while (i < sentence.Length && !char.IsWhiteSpace(sentence[i])) i++;
            if (i > start) ids.Add(Id(sentence[start..i]));
        }
        return [.. ids];
    }

    /// <summary>str.split(" "): every single space separates, so "" words appear for doubled spaces and "" itself is one word.</summary>
    public int[] SplitSpace(string sentence)
    {
        var parts = sentence.Split(' ');
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++) ids[i] = Id(parts[i]);
        return ids;
    }
}
