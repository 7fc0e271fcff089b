// The one seeded random source of a training run (dropout masks, augmentation, noise), whose whole state is four
// 64-bit words that a checkpoint saves and a resume restores, so a resumed run draws exactly the numbers the
// uninterrupted run would have. xoshiro256** (Blackman & Vigna, https://prng.di.unimi.it/xoshiro256starstar.c),
// seeded through SplitMix64 as its authors recommend. It is a System.Random, so it can be handed to
// Tape.Dropout and Random.Shuffle; every virtual member draws from the xoshiro state.
namespace Furnace.Training;

public sealed class TrainingRandom : Random
{
    private ulong _s0, _s1, _s2, _s3;

    public TrainingRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>The generator's full state (4 words), to save in a checkpoint.</summary>
    public ulong[] GetState() => [_s0, _s1, _s2, _s3];

    public void SetState(IReadOnlyList<ulong> state)
    {
        if (state.Count != 4) throw new FurnaceException($"random state needs 4 words, got {state.Count}");
        if (state.All(w => w == 0)) throw new FurnaceException("random state of all zeros is not a valid xoshiro256** state");
        (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    public override int Next() => (int)(NextUInt64() >> 33); // [0, 2^31)

    public override int Next(int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return (int)Bounded((ulong)maxValue);
    }

    public override int Next(int minValue, int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return (int)((long)minValue + (long)Bounded((ulong)((long)maxValue - minValue)));
    }

    public override long NextInt64() => (long)(NextUInt64() >> 1);

    public override long NextInt64(long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return (long)Bounded((ulong)maxValue);
    }

    public override long NextInt64(long minValue, long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return minValue + (long)Bounded((ulong)(maxValue - minValue));
    }

    /// <summary>[0, 1) with 53 random bits.</summary>
    public override double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>[0, 1) with 24 random bits.</summary>
    public override float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    public override void NextBytes(byte[] buffer) => NextBytes(buffer.AsSpan());

    public override void NextBytes(Span<byte> buffer)
    {
        while (buffer.Length >= 8)
        {
            BitConverter.TryWriteBytes(buffer, NextUInt64());
            buffer = buffer[8..];
        }
        if (buffer.Length > 0)
        {
            ulong r = NextUInt64();
            for (int i = 0; i < buffer.Length; i++, r >>= 8) buffer[i] = (byte)r;
        }
    }

    protected override double Sample() => NextDouble();

    // uniform in [0, bound) by rejection (no modulo bias); 0 when bound is 0
    private ulong Bounded(ulong bound)
    {
        if (bound <= 1) return 0;
        ulong limit = ulong.MaxValue - ulong.MaxValue % bound;
        ulong r;
        do r = NextUInt64();
        while (r >= limit);
        return r % bound;
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
