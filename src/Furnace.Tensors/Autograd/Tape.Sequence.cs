// Sequence ops of the tape: embedding lookups (trainable float table, or a frozen WeightMatrix in any dtype) and
// rotary position embeddings. Rope rotates each pair (a, b) of a head by the table's angle θ at the row's position
// (Kernels/Rope.cs pairings: Interleaved (2i, 2i+1), HalfSplit (i, i + d/2)); its backward rotates dy by −θ:
//   da = dya·cos + dyb·sin,  db = −dya·sin + dyb·cos.
namespace Furnace.Tensors.Autograd;

public sealed unsafe partial class Tape
{
    private Tensor EmbeddingCore(Tensor table, ReadOnlySpan<int> ids)
    {
        Check(table.Rank == 2, $"embedding: table {S(table)} must be (vocab, d)");
        Check(ids.Length > 0, "embedding: no ids");
        int vocab = table.Shape[0], d = table.Shape[1];
        foreach (int id in ids) Check((uint)id < (uint)vocab, $"embedding: id {id} outside the table's {vocab} rows");
        bool record = Records(table);
        Tensor y = Output([ids.Length, d], record);
        for (int i = 0; i < ids.Length; i++) Array.Copy(table.Data, (long)ids[i] * d, y.Data, (long)i * d, d);
        if (!record) return y;
        int[] saved = ids.ToArray();
        Record(() =>
        {
            if (y.Grad is not { } gy || GradOf(table) is not { } gt) return;
            fixed (float* pgy = gy, pgt = gt)
                for (int i = 0; i < saved.Length; i++) Vec.Add(pgt + (long)saved[i] * d, pgy + (long)i * d, d);
        });
        return y;
    }

    private Tensor EmbeddingCore(WeightMatrix table, ReadOnlySpan<int> ids)
    {
        Check(ids.Length > 0, "embedding: no ids");
        foreach (int id in ids) Check((uint)id < (uint)table.Rows, $"embedding: id {id} outside the table's {table.Rows} rows");
        Tensor y = Output([ids.Length, table.Cols], record: false);
        for (int i = 0; i < ids.Length; i++) Dequantize.Row(y.Data.AsSpan(i * table.Cols, table.Cols), table, ids[i]);
        return y;
    }

    private Tensor RopeCore(Tensor x, ReadOnlySpan<int> positions, int heads, int headDim, RopeTable table, RopeStyle style)
    {
        ArgumentNullException.ThrowIfNull(table);
        (int n, int d) = Matrix(x);
        Check(d == heads * headDim, $"rope: x {S(x)} rows must hold {heads} heads of {headDim}");
        Check(positions.Length == n, $"rope: {positions.Length} positions for {n} rows");
        Check(table.RotaryDims <= headDim, $"rope: the table rotates {table.RotaryDims} dims, more than the head's {headDim}");
        foreach (int p in positions)
            Check((uint)p < (uint)table.MaxPositions, $"rope: position {p} outside the table [0, {table.MaxPositions})");
        bool record = Records(x);
        Tensor y = Output((int[])x.Shape.Clone(), record);
        x.Data.CopyTo(y.Data, 0);
        int[] pos = positions.ToArray();
        Rotate(y.Data, pos, heads, headDim, table, style, inverse: false);
        if (!record) return y;
        Record(() =>
        {
            if (y.Grad is not { } gy || GradOf(x) is not { } gx) return;
            float[] t = Temp(gy.Length);
            gy.CopyTo(t, 0);
            Rotate(t, pos, heads, headDim, table, style, inverse: true);
            fixed (float* pgx = gx, pt = t) AddInto(pgx, pt, t.Length);
            Give(t);
        });
        return y;
    }

    // rows of v (n, heads*headDim) rotated in place by +θ (or −θ) at positions[row]
    private static void Rotate(float[] v, int[] positions, int heads, int headDim, RopeTable table, RopeStyle style, bool inverse)
    {
        int half = table.RotaryDims / 2, d = heads * headDim;
        float sign = inverse ? -1f : 1f;
        for (int r = 0; r < positions.Length; r++)
        {
            ReadOnlySpan<float> cos = table.Cos(positions[r]), sin = table.Sin(positions[r]);
            for (int h = 0; h < heads; h++)
            {
                int o = r * d + h * headDim;
                for (int i = 0; i < half; i++)
                {
                    int ia = o + (style == RopeStyle.Interleaved ? 2 * i : i);
                    int ib = o + (style == RopeStyle.Interleaved ? 2 * i + 1 : i + half);
                    float x0 = v[ia], x1 = v[ib], c = cos[i], s = sign * sin[i];
                    v[ia] = x0 * c - x1 * s;
                    v[ib] = x0 * s + x1 * c;
                }
            }
        }
    }
}
