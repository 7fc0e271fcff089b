// Seeded mutation fuzzing of the binary readers: a valid GGUF and a valid safetensors file are corrupted thousands
// of times (bit flips, boundary bytes, truncation, insertion, deletion, huge length fields, JSON token splices),
// and opening + enumerating + reading every tensor must either succeed or throw a FurnaceException — never another
// exception type, never a large allocation. Each case is reproducible from its printed seed.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Furnace.Formats.Gguf;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Formats;

public sealed class FuzzTests
{
    private const int Cases = 2500;
    private static readonly TimeSpan MaxPerCase = TimeSpan.FromSeconds(2); // generous: other builds share the 2 cores
    private const long MaxAllocatedPerCase = 64L << 20;

    private static readonly byte[] Boundary = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE];

    private static readonly ulong[] HugeValues =
    [
        ulong.MaxValue, 1UL << 63, (1UL << 63) - 1, 1UL << 32, uint.MaxValue, int.MaxValue, (ulong)int.MaxValue + 1,
        1UL << 31, 1UL << 40, 100_000_001, 0, 1,
    ];

    private static readonly string[] JsonSplices =
    [
        "-1", "18446744073709551615", "9223372036854775807", "9223372036854775808", "1e308", "0.5", "\"", "{", "}", "[", "]",
        ",", ":", "null", "[]", "{}", "\\u0000", "\\ud800", "\"__metadata__\"", "\"I64\"", "\"F4\"", "[0,0]", "[1,2,3,4,5,6,7,8,9]",
    ];

    private static byte[] ValidGguf()
    {
        var rng = new Random(7);
        float[] w = Enumerable.Range(0, 64 * 2).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var nested = new GgufValue(GgufValueType.Array, new[] { GgufValue.Of(new[] { 1, 2 }), GgufValue.Of(new[] { 3 }) }, GgufValueType.Array);
        var ms = new MemoryStream();
        new GgufWriter()
            .Add("general.architecture", "llama")
            .Add("llama.block_count", 2u)
            .Add("llama.rope.freq_base", 10000f)
            .Add("tokenizer.ggml.tokens", GgufValue.Of(["<s>", "</s>", "a", "βγ"]))
            .Add("tokenizer.ggml.scores", GgufValue.Of([0f, -1f, -2.5f, 3f]))
            .Add("tokenizer.ggml.token_type", GgufValue.Of([1, 3, 1, 1]))
            .Add("x.bool", GgufValue.Of(true))
            .Add("x.u64", GgufValue.Of(123UL))
            .Add("x.nested", nested)
            .AddTensor("token_embd.weight", DType.F32, [64, 2], w)
            .AddTensor("blk.0.attn_q.weight", DType.Q8_0, [64, 2], w)
            .AddTensor("blk.0.attn_k.weight", DType.Q4_0, [64, 2], w)
            .AddTensor("blk.0.ffn_up.weight", DType.F16, [32, 2], w[..64])
            .AddTensor("output_norm.weight", DType.BF16, [8], w[..8])
            .WriteTo(ms);
        return ms.ToArray();
    }

    private static byte[] ValidSafeTensors()
    {
        var rng = new Random(8);
        float[] w = Enumerable.Range(0, 24).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var ms = new MemoryStream();
        new SafeTensorsWriter()
            .AddMetadata("format", "pt")
            .Add("model.embed_tokens.weight", [4, 3], w[..12])
            .Add("model.layers.0.self_attn.q_proj.weight", [3, 2], w[..6], DType.BF16)
            .Add("model.norm.weight", [3], w[..3], DType.F16)
            .Add("scalar", [], w[..1])
            .AddRaw("position_ids", "I64", [1, 2], new byte[16])
            .WriteTo(ms);
        return ms.ToArray();
    }

    private static void ReadAll(ITensorSource src)
    {
        foreach (TensorEntry e in src.Entries)
        {
            Assert.NotNull(src.Find(e.Name));
            float[] values = e.File.ReadFloats(e.Offset, checked((int)e.ElementCount), e.Type);
            Assert.Equal(e.ElementCount, values.Length);
        }
    }

    // Positions of the valid file holding a small little-endian u64 (1..65535): its counts, lengths and offsets.
    private static int[] LengthFields(byte[] valid) =>
        Enumerable.Range(0, valid.Length - 7).Where(i => BinaryPrimitives.ReadUInt64LittleEndian(valid.AsSpan(i)) is >= 1 and <= 65535).ToArray();

    private static byte[] Mutate(byte[] valid, int[] lengthFields, Random rng, int hotLength, List<string> log)
    {
        var b = new List<byte>(valid);
        int mutations = 1 + rng.Next(3);
        for (int m = 0; m < mutations && b.Count > 0; m++)
        {
            // most edits land in the header/metadata, where the parser lives
            int pos = rng.Next(4) > 0 ? rng.Next(Math.Min(hotLength, b.Count)) : rng.Next(b.Count);
            switch (rng.Next(8))
            {
                case 0:
                    int bit = rng.Next(8);
                    b[pos] ^= (byte)(1 << bit);
                    log.Add($"flip bit {bit} at {pos}");
                    break;
                case 1:
                    byte v = Boundary[rng.Next(Boundary.Length)];
                    b[pos] = v;
                    log.Add($"byte {pos} = 0x{v:X2}");
                    break;
                case 2:
                    int keep = rng.Next(b.Count);
                    b.RemoveRange(keep, b.Count - keep);
                    log.Add($"truncate to {keep}");
                    break;
                case 3:
                    var ins = new byte[1 + rng.Next(16)];
                    rng.NextBytes(ins);
                    b.InsertRange(pos, ins);
                    log.Add($"insert {ins.Length} bytes at {pos}");
                    break;
                case 4:
                    int n = Math.Min(1 + rng.Next(16), b.Count - pos);
                    b.RemoveRange(pos, n);
                    log.Add($"delete {n} bytes at {pos}");
                    break;
                case 5:
                case 6:
                    ulong huge = HugeValues[rng.Next(HugeValues.Length)];
                    int width = rng.Next(2) == 0 ? 8 : 4;
                    if (rng.Next(2) == 0) pos = lengthFields[rng.Next(lengthFields.Length)]; // a count or length of the valid file
                    if (pos + width > b.Count) break;
                    var field = new byte[width];
                    if (width == 8) BinaryPrimitives.WriteUInt64LittleEndian(field, huge);
                    else BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)huge);
                    for (int i = 0; i < width; i++) b[pos + i] = field[i];
                    log.Add($"u{width * 8} at {pos} = {huge}");
                    break;
                default:
                    string s = JsonSplices[rng.Next(JsonSplices.Length)];
                    byte[] sb = Encoding.UTF8.GetBytes(s);
                    int over = rng.Next(Math.Min(4, b.Count - pos) + 1);
                    b.RemoveRange(pos, over);
                    b.InsertRange(pos, sb);
                    log.Add($"splice '{s}' over {over} bytes at {pos}");
                    break;
            }
        }
        return b.ToArray();
    }

    private static void Fuzz(string kind, byte[] valid, int hotLength, Func<string, ITensorSource> open, int seed0)
    {
        using var dir = new TempDir();
        string path = dir.File("fuzz." + kind);
        var failures = new List<string>();
        int opened = 0;
        int[] lengthFields = LengthFields(valid);
        for (int i = 0; i < Cases; i++)
        {
            int seed = seed0 + i;
            var log = new List<string>();
            byte[] bytes = Mutate(valid, lengthFields, new Random(seed), hotLength, log);
            File.WriteAllBytes(path, bytes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var caseClock = Stopwatch.StartNew();
            try
            {
                using var src = open(path);
                ReadAll(src);
                opened++;
            }
            catch (FurnaceException)
            {
            }
            catch (Exception e)
            {
                failures.Add($"seed {seed} [{string.Join("; ", log)}]: {e.GetType().Name}: {e.Message}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (caseClock.Elapsed > MaxPerCase) failures.Add($"seed {seed} [{string.Join("; ", log)}]: took {caseClock.Elapsed}");
            if (allocated > MaxAllocatedPerCase) failures.Add($"seed {seed} [{string.Join("; ", log)}]: allocated {allocated} bytes for a {bytes.Length}-byte file");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {Cases} {kind} mutants misbehaved:\n" + string.Join("\n", failures.Take(10)));
        Assert.InRange(opened, 1, Cases - 1); // the fuzzer exercises both outcomes
    }

    [Fact]
    public void Gguf_MutatedFiles_OpenOrFailCleanly()
    {
        byte[] valid = ValidGguf();
        using (var dir = new TempDir())
        {
            File.WriteAllBytes(dir.File("ok.gguf"), valid);
            using var f = GgufFile.Open(dir.File("ok.gguf"));
            ReadAll(f);
            Assert.Equal(5, f.Tensors.Count);
        }
        Fuzz("gguf", valid, hotLength: valid.Length, path =>
        {
            var f = GgufFile.Open(path);
            foreach (var kv in f.Metadata) _ = kv.Value.ToString();
            return f;
        }, seed0: 1_000_000);
    }

    [Fact]
    public void SafeTensors_MutatedFiles_OpenOrFailCleanly()
    {
        byte[] valid = ValidSafeTensors();
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        using (var dir = new TempDir())
        {
            File.WriteAllBytes(dir.File("ok.safetensors"), valid);
            using var f = SafeTensorsFile.Open(dir.File("ok.safetensors"));
            ReadAll(f);
            Assert.Equal(5, f.Tensors.Count);
        }
        Fuzz("safetensors", valid, hotLength: headerEnd, SafeTensorsFile.Open, seed0: 2_000_000);
    }

    [Fact]
    public void Gguf_ArrayLengthIsBoundedByTheSmallestElement()
    {
        // 1000 strings need at least 8000 bytes (a u64 length each); 1000 bytes remain. Rejected before allocating.
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write(GgufFile.Magic); w.Write(3u); w.Write(0UL); w.Write(1UL);
        w.Write(1UL); w.Write((byte)'k');
        w.Write((uint)GgufValueType.Array); w.Write((uint)GgufValueType.String); w.Write(1000UL);
        w.Write(new byte[1000]);
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("a.gguf"), ms.ToArray());
        var ex = Assert.Throws<FurnaceFormatException>(() => GgufFile.Open(dir.File("a.gguf")));
        Assert.Contains("'k': array length 1000 runs past the end of the file", ex.Message);
    }
}
