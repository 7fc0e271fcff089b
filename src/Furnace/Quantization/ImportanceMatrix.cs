// Importance matrices as llama.cpp's tools/imatrix writes them and tools/quantize reads them (pinned to the llama.cpp
// bundled by LLamaSharp 0.30.0): per weight tensor, the mean of the squared activations entering each of its ne[0]
// input columns (per expert for stacked 3-D expert tensors), handed to the block quantizers as quant_weights.
//   GGUF (current): general.type = "imatrix", tensors "<name>.in_sum2" f32 [ne0, n_mat] (sums of x^2) and
//     "<name>.counts" f32 [1, n_mat] (rows seen); value = in_sum2 / counts, or 1 where a matrix saw nothing
//   legacy .dat: int32 n_entries; per entry int32 name_len, name bytes, int32 ncall, int32 nval, f32[nval] (already
//     averaged and multiplied by ncall); then optionally int32 last_call, int32 len + dataset name; value = stored / ncall
using System.Text;
using Furnace.Formats.Gguf;
using Furnace.Tensors;

namespace Furnace.Quantization;

public sealed class ImportanceMatrix
{
    private ImportanceMatrix(Dictionary<string, float[]> values, IReadOnlyList<string> datasets, int chunks)
    {
        Values = values;
        Datasets = datasets;
        ChunkCount = chunks;
    }

    /// <summary>Tensor name -> importance (ne[0] × n_mat): row e holds expert e's column weights.</summary>
    public IReadOnlyDictionary<string, float[]> Values { get; }

    public IReadOnlyList<string> Datasets { get; }

    /// <summary>Chunks of calibration text the statistics came from (0 when the file does not say).</summary>
    public int ChunkCount { get; }

    public static ImportanceMatrix Load(string path)
    {
        if (!File.Exists(path)) throw new FurnaceException($"{path}: no such imatrix file");
        return GgufFile.HasMagic(path) ? LoadGguf(path) : LoadLegacy(path);
    }

    private static ImportanceMatrix LoadGguf(string path)
    {
        using var f = GgufFile.Open(path);
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var sums in f.Tensors.Where(t => t.Name.EndsWith(".in_sum2", StringComparison.Ordinal)))
        {
            string name = sums.Name[..^".in_sum2".Length];
            var counts = f.FindTensor(name + ".counts") ?? throw new FurnaceFormatException(path, $"'{sums.Name}' has no '{name}.counts'");
            if (sums.Type != DType.F32 || counts.Type != DType.F32)
                throw new FurnaceFormatException(path, $"'{name}': in_sum2 and counts must be f32");
            long ne0 = sums.Shape[0], nMat = sums.ElementCount / ne0;
            if (counts.ElementCount != nMat)
                throw new FurnaceFormatException(path, $"'{name}': {counts.ElementCount} counts for {nMat} matrices");
            float[] s = f.Map.ReadFloats(sums.Offset, checked((int)sums.ElementCount), DType.F32);
            float[] c = f.Map.ReadFloats(counts.Offset, (int)nMat, DType.F32);
            for (long m = 0; m < nMat; m++)
            {
                for (long i = 0; i < ne0; i++)
                {
                    long k = m * ne0 + i;
                    s[k] = c[m] > 0 ? s[k] / c[m] : 1f; // a matrix that never saw input weighs every column alike
                }
            }
            values[name] = s;
        }
        if (values.Count == 0) throw new FurnaceFormatException(path, "no '<name>.in_sum2' tensors: not an imatrix GGUF");
        return new ImportanceMatrix(values, f.GetArray<string>("imatrix.datasets") ?? [], (int)(f.GetInt("imatrix.chunk_count") ?? 0));
    }

    private static ImportanceMatrix LoadLegacy(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        long length = r.BaseStream.Length;
        int Int(string what)
        {
            if (r.BaseStream.Position + 4 > length) throw new FurnaceFormatException(path, $"truncated at {what}");
            return r.ReadInt32();
        }
        int n = Int("the entry count");
        if (n <= 0 || n > 1_000_000) throw new FurnaceFormatException(path, $"{n} entries: not an imatrix file");
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (int e = 0; e < n; e++)
        {
            int len = Int("a name length");
            if (len <= 0 || len > 4096 || r.BaseStream.Position + len > length) throw new FurnaceFormatException(path, $"entry {e}: bad name length {len}");
            string name = Encoding.UTF8.GetString(r.ReadBytes(len));
            int ncall = Int($"'{name}' ncall");
            int nval = Int($"'{name}' nval");
            if (nval <= 0 || r.BaseStream.Position + 4L * nval > length) throw new FurnaceFormatException(path, $"'{name}': bad value count {nval}");
            var v = new float[nval];
            for (int i = 0; i < nval; i++) v[i] = r.ReadSingle();
            if (ncall > 0)
                for (int i = 0; i < nval; i++) v[i] /= ncall;
            values[name] = v;
        }
        int chunks = 0;
        var datasets = new List<string>();
        if (r.BaseStream.Position + 4 <= length)
        {
            chunks = r.ReadInt32();
            if (r.BaseStream.Position + 4 <= length)
            {
                int len = r.ReadInt32();
                if (len > 0 && r.BaseStream.Position + len <= length) datasets.Add(Encoding.UTF8.GetString(r.ReadBytes(len)));
            }
        }
        return new ImportanceMatrix(values, datasets, chunks);
    }

    /// <summary>
    /// Writes statistics in the GGUF format tools/imatrix writes: per tensor (sorted by name) sums (ne0 × n_mat) of squared
    /// inputs and counts (n_mat) of rows seen.
    /// </summary>
    public static void WriteGguf(string path, IReadOnlyDictionary<string, (float[] Sums, float[] Counts)> stats, IReadOnlyList<string> datasets, int chunkCount, int chunkSize)
    {
        var w = new GgufWriter()
            .Add("general.type", "imatrix")
            .Add("imatrix.datasets", GgufValue.Of(datasets.ToArray()))
            .Add("imatrix.chunk_count", (uint)chunkCount)
            .Add("imatrix.chunk_size", (uint)chunkSize);
        foreach (var (name, (sums, counts)) in stats.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            long ne0 = sums.Length / counts.Length;
            w.AddTensor(name + ".in_sum2", DType.F32, [ne0, counts.Length], sums);
            w.AddTensor(name + ".counts", DType.F32, [1, counts.Length], counts);
        }
        w.Write(path);
    }
}
