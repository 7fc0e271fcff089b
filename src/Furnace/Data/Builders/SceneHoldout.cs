// The combinations kept out of training so evaluation can tell whether a model learnt counting and spatial
// relations rather than memorising scenes: about one in MODULUS unordered object pairs, and one in MODULUS
// (object, count ≥ 2) combinations, chosen by a fixed hash of the names (the same whatever --seed or --limit, so
// eval sets of different builds agree). Training scenes contain none of them; every eval scene contains one.
namespace Furnace.Data.Builders;

public sealed class SceneHoldout
{
    public SceneHoldout(int modulus = 7)
    {
        if (modulus < 2) throw new ArgumentOutOfRangeException(nameof(modulus));
        Modulus = modulus;
    }

    public int Modulus { get; }

    public bool IsHeldPair(SceneObject a, SceneObject b)
    {
        var (x, y) = string.CompareOrdinal(a.Key, b.Key) <= 0 ? (a.Key, b.Key) : (b.Key, a.Key);
        return Hash($"pair|{x}|{y}") % (uint)Modulus == 0;
    }

    public bool IsHeldCount(SceneObject o, int count) => count >= 2 && Hash($"count|{o.Key}|{count}") % (uint)Modulus == 0;

    /// <summary>Whether the scene shows a held-out pair or a held-out (object, count).</summary>
    public bool Touches(SceneSpec spec) =>
        spec.Groups.Any(g => IsHeldCount(g.Object, g.Count)) || (spec.Second is { } s && IsHeldPair(spec.First.Object, s.Object));

    /// <summary>FNV-1a over UTF-16 code units: stable across runs and platforms (string.GetHashCode is not).</summary>
    public static uint Hash(string s)
    {
        uint h = 2166136261;
        foreach (char c in s)
        {
            h ^= c;
            h *= 16777619;
        }
        return h;
    }
}
