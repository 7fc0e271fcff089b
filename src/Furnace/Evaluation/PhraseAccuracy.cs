// Exact-match accuracy of the count, colour and position phrases of a caption, for compositional captions such as
// the scenes dataset's ("two red apples to the left of a dog, on a plain blue background"): per image, the phrases
// of one kind are read from the prediction and from each reference, and the image counts as correct for that kind
// when the prediction's phrases equal those of a reference that has any (count: the sequence of object counts
// before the first comma, "a"/"an" = one; colour: the set of colour words, against the references with the most
// colour words, so leaving the background out is wrong; position: the set of relation and place phrases, each with
// the word before it, so the relation must hold between the right objects in the right order). Images
// whose references have no phrase of a kind are not scored for it. Lowercased; words matched whole.
using System.Text.RegularExpressions;

namespace Furnace.Evaluation;

public sealed record PhraseAccuracy(double? Count, int CountImages, double? Colour, int ColourImages, double? Position, int PositionImages)
{
    private static readonly Dictionary<string, int> Numbers = new(StringComparer.Ordinal)
    {
        ["a"] = 1, ["an"] = 1, ["one"] = 1, ["two"] = 2, ["three"] = 3, ["four"] = 4, ["five"] = 5,
    };

    private static readonly string[] Colours =
    [
        "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "grey", "gray",
        "beige", "teal", "navy", "violet", "gold", "silver", "cyan", "magenta", "light", "dark",
    ];

    // longest first, so "in the top left corner" is not also read as "on the left"
    private static readonly string[] Positions =
    [
        "in the top left corner", "in the top right corner", "in the bottom left corner", "in the bottom right corner",
        "to the left of", "to the right of", "on the left", "on the right", "in the middle", "at the top", "at the bottom",
        "above", "below",
    ];

    private static readonly Regex Word = new(@"[a-z]+", RegexOptions.CultureInvariant);

    public static PhraseAccuracy Compute(IReadOnlyDictionary<string, IReadOnlyList<string>> references, IReadOnlyDictionary<string, string> predictions)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(predictions);
        int countN = 0, countOk = 0, colourN = 0, colourOk = 0, posN = 0, posOk = 0;
        foreach (var (id, prediction) in predictions)
        {
            if (!references.TryGetValue(id, out var refs) || refs.Count == 0) continue;
            var counts = refs.Select(CountsOf).Where(c => c.Length > 0).ToList();
            if (counts.Count > 0)
            {
                countN++;
                int[] p = CountsOf(prediction);
                if (counts.Any(c => c.SequenceEqual(p))) countOk++;
            }
            var colours = refs.Select(ColoursOf).Where(c => c.Count > 0).ToList();
            if (colours.Count > 0)
            {
                colourN++;
                int most = colours.Max(c => c.Count);
                var p = ColoursOf(prediction);
                if (colours.Where(c => c.Count == most).Any(c => c.SetEquals(p))) colourOk++;
            }
            var positions = refs.Select(PositionsOf).Where(c => c.Count > 0).ToList();
            if (positions.Count > 0)
            {
                posN++;
                var p = PositionsOf(prediction);
                if (positions.Any(c => c.SetEquals(p))) posOk++;
            }
        }
        return new PhraseAccuracy(Ratio(countOk, countN), countN, Ratio(colourOk, colourN), colourN, Ratio(posOk, posN), posN);

        static double? Ratio(int ok, int n) => n == 0 ? null : (double)ok / n;
    }

    /// <summary>Object counts in order, from the text before the first comma ("a"/"an" = 1).</summary>
    public static int[] CountsOf(string caption)
    {
        string head = caption.ToLowerInvariant();
        int comma = head.IndexOf(',');
        if (comma >= 0) head = head[..comma];
        return Word.Matches(head).Select(m => Numbers.GetValueOrDefault(m.Value)).Where(n => n > 0).ToArray();
    }

    public static HashSet<string> ColoursOf(string caption) =>
        Word.Matches(caption.ToLowerInvariant()).Select(m => m.Value).Where(w => Colours.Contains(w)).Select(w => w == "gray" ? "grey" : w).ToHashSet(StringComparer.Ordinal);

    /// <summary>The relation and place phrases, each with the word before it (the object it places, a plural "s"
    /// dropped): "apple to the left of", so "apples to the right of a dog" differs from "a dog to the right of apples".</summary>
    public static HashSet<string> PositionsOf(string caption)
    {
        string[] words = Word.Matches(caption.ToLowerInvariant()).Select(m => m.Value).ToArray();
        var found = new HashSet<string>(StringComparer.Ordinal);
        var used = new bool[words.Length];
        foreach (string p in Positions)
        {
            string[] pw = p.Split(' ');
            for (int i = 0; i + pw.Length <= words.Length; i++)
            {
                bool match = true;
                for (int k = 0; k < pw.Length && match; k++) match = !used[i + k] && words[i + k] == pw[k];
                if (!match) continue;
                for (int k = 0; k < pw.Length; k++) used[i + k] = true;
                string subject = i > 0 ? words[i - 1].TrimEnd('s') : "";
                found.Add(subject.Length > 0 ? subject + " " + p : p);
            }
        }
        return found;
    }
}
