// Shape ops of the tape: Reshape (a view sharing storage), row concatenation, slicing and gathering (copies whose
// gradients scatter back).
namespace Furnace.Tensors.Autograd;

public sealed unsafe partial class Tape
{
    private Tensor ReshapeCore(Tensor x, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long n = 1;
        foreach (int d in shape) n *= d;
        Check(n == x.Length, $"reshape: x {S(x)} cannot become ({string.Join(", ", shape)})");
        Tensor y = x.WithShape((int[])shape.Clone());
        if (!Records(x)) return y;
        Mark(y);
        Record(() =>
        {
            if (y.Grad is not { } gy || GradOf(x) is not { } gx) return;
            fixed (float* pgx = gx, pgy = gy) AddInto(pgx, pgy, gy.Length);
        });
        return y;
    }

    private Tensor ConcatRowsCore(IReadOnlyList<Tensor> xs)
    {
        ArgumentNullException.ThrowIfNull(xs);
        Check(xs.Count > 0, "concat rows: no tensors");
        int[] trailing = xs[0].Shape[1..];
        int rows = 0;
        bool record = false;
        foreach (Tensor t in xs)
        {
            Check(t.Rank == xs[0].Rank && t.Shape.AsSpan(1).SequenceEqual(trailing),
                $"concat rows: {S(t)} does not match {S(xs[0])} past the first dimension");
            rows += t.Shape[0];
            record |= Records(t);
        }
        int[] shape = (int[])xs[0].Shape.Clone();
        shape[0] = rows;
        Tensor y = Output(shape, record);
        var offsets = new int[xs.Count];
        int off = 0;
        for (int i = 0; i < xs.Count; i++)
        {
            offsets[i] = off;
            xs[i].Data.CopyTo(y.Data, off);
            off += xs[i].Length;
        }
        if (!record) return y;
        Tensor[] inputs = xs.ToArray();
        Record(() =>
        {
            if (y.Grad is not { } gy) return;
            for (int i = 0; i < inputs.Length; i++)
                if (GradOf(inputs[i]) is { } gx)
                    fixed (float* pgx = gx, pgy = gy) AddInto(pgx, pgy + offsets[i], gx.Length);
        });
        return y;
    }

    private Tensor SliceRowsCore(Tensor x, int start, int count)
    {
        Check(x.Rank >= 1 && start >= 0 && count > 0 && start + count <= x.Shape[0],
            $"slice rows: [{start}, {start + count}) outside the {(x.Rank >= 1 ? x.Shape[0] : 0)} rows of {S(x)}");
        int rowLen = x.Length / x.Shape[0];
        int[] shape = (int[])x.Shape.Clone();
        shape[0] = count;
        bool record = Records(x);
        Tensor y = Output(shape, record);
        Array.Copy(x.Data, (long)start * rowLen, y.Data, 0, y.Length);
        if (!record) return y;
        Record(() =>
        {
            if (y.Grad is not { } gy || GradOf(x) is not { } gx) return;
            fixed (float* pgx = gx, pgy = gy) AddInto(pgx + (long)start * rowLen, pgy, gy.Length);
        });
        return y;
    }

    private Tensor GatherRowsCore(Tensor x, ReadOnlySpan<int> rows)
    {
        Check(x.Rank >= 1 && rows.Length > 0, $"gather rows: x {S(x)} with {rows.Length} rows");
        foreach (int r in rows) Check((uint)r < (uint)x.Shape[0], $"gather rows: row {r} outside the {x.Shape[0]} rows of {S(x)}");
        int rowLen = x.Length / x.Shape[0];
        int[] shape = (int[])x.Shape.Clone();
        shape[0] = rows.Length;
        bool record = Records(x);
        Tensor y = Output(shape, record);
        for (int i = 0; i < rows.Length; i++) Array.Copy(x.Data, (long)rows[i] * rowLen, y.Data, (long)i * rowLen, rowLen);
        if (!record) return y;
        int[] saved = rows.ToArray();
        Record(() =>
        {
            if (y.Grad is not { } gy || GradOf(x) is not { } gx) return;
            fixed (float* pgx = gx, pgy = gy)
                for (int i = 0; i < saved.Length; i++) Vec.Add(pgx + (long)saved[i] * rowLen, pgy + (long)i * rowLen, rowLen);
        });
        return y;
    }
}
