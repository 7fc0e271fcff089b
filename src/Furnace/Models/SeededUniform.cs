// Deterministic random tensor values for random-weight checkpoints: a pure function of (seed, tensor name), so
// the same model written in different formats (GGUF, safetensors, mmproj) holds the same numbers.
namespace Furnace.Models;

public static class SeededUniform
{
    /// <summary>n values center + amplitude·U[-1, 1) from an xorshift64 stream keyed by FNV-1a of (seed, name).</summary>
    public static float[] Values(long n, int seed, string name, float center, float amplitude)
    {
        var v = new float[n];
        ulong state = 1469598103934665603UL ^ (ulong)(uint)seed;
        foreach (char ch in name) state = (state ^ ch) * 1099511628211UL;
        if (state == 0) state = 1;
        for (long i = 0; i < n; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            float u = (state >> 40) * (1f / (1 << 24)) * 2f - 1f;
            v[i] = center + amplitude * u;
        }
        return v;
    }
}
