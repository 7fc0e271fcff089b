// The data pipeline's random numbers: SplitMix64 (Steele, Lea & Flood 2014), written out here so shuffles,
// splits and augmentations stay the same across .NET versions (System.Random's algorithm is not a contract).
// Streams are derived by hashing (seed, epoch, index, purpose), never by drawing from a shared generator, so any
// example's randomness can be recomputed from its data position alone.
using System.Text;

namespace Furnace.Data;

public struct DataRandom
{
    private ulong _state;

    public DataRandom(ulong seed)
    {
        _state = seed;
    }

    /// <summary>A generator for one purpose of one example: e.g. (seed, epoch, sample index, "flip").</summary>
    public static DataRandom For(ulong seed, long a, long b, string purpose) => new(Hash(seed, a, b, purpose));

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        return Mix(z);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n), unbiased (rejection of the short tail).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"{n} must be positive");
        ulong limit = ulong.MaxValue - (ulong.MaxValue % (ulong)n);
        ulong v;
        do
        {
            v = NextUInt64();
        }
        while (v >= limit);
        return (int)(v % (ulong)n);
    }

    /// <summary>Uniform in [lo, hi).</summary>
    public double NextDouble(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>SplitMix64's finaliser: a bijection of 64-bit values with full avalanche.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A stable 64-bit hash of (seed, a, b, text): FNV-1a over the UTF-8 text, mixed with the numbers.</summary>
    public static ulong Hash(ulong seed, long a, long b, string text)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (byte c in Encoding.UTF8.GetBytes(text))
        {
            h ^= c;
            h *= 0x100000001B3UL;
        }
        h = Mix(h ^ Mix(seed + 0x9E3779B97F4A7C15UL));
        h = Mix(h ^ Mix((ulong)a + 0x632BE59BD9B4E019UL));
        return Mix(h ^ Mix((ulong)b + 0x85157AF5UL));
    }
}
