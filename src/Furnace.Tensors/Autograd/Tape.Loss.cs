// Reductions and losses of the tape. CrossEntropy mirrors torch.nn.functional.cross_entropy(reduction="mean",
// ignore_index): loss = Σ_rows (lse(z) − z[target]) / count over rows whose target is not ignored, with the
// log-sum-exp taken around the row max; backward dz = (softmax(z) − onehot) · dloss / count, recomputed from the
// saved lse. Every row ignored gives loss 0 and a zero gradient (torch gives NaN there; a batch of padding must not
// poison the weights).
using System.Runtime.Intrinsics;

namespace Furnace.Tensors.Autograd;

public sealed unsafe partial class Tape
{
    private Tensor SumCore(Tensor x) => Reduce(x, 1f);

    private Tensor MeanCore(Tensor x) => Reduce(x, 1f / x.Length);

    private Tensor Reduce(Tensor x, float scale)
    {
        bool record = Records(x);
        Tensor y = Output([1], record);
        double acc = 0;
        foreach (float v in x.Data) acc += v;
        y.Data[0] = (float)(acc * scale);
        if (record)
            Record(() =>
            {
                if (y.Grad is not { } gy || GradOf(x) is not { } gx) return;
                float g = gy[0] * scale;
                for (int i = 0; i < gx.Length; i++) gx[i] += g;
            });
        return y;
    }

    private Tensor CrossEntropyCore(Tensor logits, ReadOnlySpan<int> targets, int ignoreIndex)
    {
        (int n, int vocab) = Matrix(logits);
        Check(logits.Rank == 2, $"cross entropy: logits {S(logits)} must be (n, vocab)");
        Check(targets.Length == n, $"cross entropy: {targets.Length} targets for {n} rows of logits");
        int count = 0;
        foreach (int t in targets)
        {
            if (t == ignoreIndex) continue;
            Check((uint)t < (uint)vocab, $"cross entropy: target {t} outside the vocabulary [0, {vocab})");
            count++;
        }
        bool record = Records(logits);
        Tensor loss = Output([1], record);
        float[] lse = Enabled ? Rent(n) : new float[n];
        int[] tg = targets.ToArray();
        fixed (float* pz = logits.Data, pl = lse)
        fixed (int* pt = tg)
        {
            var args = new Args { A = pz, B = pl, Idx = pt, M = vocab, K = ignoreIndex };
            For(n, &LseRows, ref args, 4);
        }
        double total = 0;
        for (int i = 0; i < n; i++)
            if (tg[i] != ignoreIndex) total += lse[i] - logits.Data[(long)i * vocab + tg[i]];
        loss.Data[0] = count == 0 ? 0f : (float)(total / count);
        if (!record) return loss;
        Record(() =>
        {
            if (count == 0 || loss.Grad is not { } gl || GradOf(logits) is not { } gz) return;
            fixed (float* pz = logits.Data, pl = lse, pgz = gz)
            fixed (int* pt = tg)
            {
                var args = new Args { A = pz, B = pl, C = pgz, Idx = pt, M = vocab, K = ignoreIndex, S = gl[0] / count };
                For(n, &CrossEntropyBwd, ref args, 4);
            }
        });
        return loss;
    }

    // lse[i] = log Σ exp(z[i]) for rows not ignored
    private static void LseRows(int start, int end, void* p)
    {
        var a = (Args*)p;
        int v = a->M;
        for (int i = start; i < end; i++)
        {
            if (a->Idx[i] == a->K) continue;
            float* z = a->A + (long)i * v;
            float max = RowMax(z, v);
            a->B[i] = max + (float)Math.Log(SumExp(z, v, max));
        }
    }

    // gz[i] += s·(softmax(z[i]) − onehot(target)) for rows not ignored
    private static void CrossEntropyBwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        int v = a->M;
        float s = a->S;
        for (int i = start; i < end; i++)
        {
            int t = a->Idx[i];
            if (t == a->K) continue;
            float* z = a->A + (long)i * v, g = a->C + (long)i * v;
            float l = a->B[i];
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var vl = Vector512.Create(l);
                var vs = Vector512.Create(s);
                for (; j + 16 <= v; j += 16)
                    Vector512.FusedMultiplyAdd(vs, Vector512.Exp(Vector512.Load(z + j) - vl), Vector512.Load(g + j)).Store(g + j);
            }
            for (; j < v; j++) g[j] += s * MathF.Exp(z[j] - l);
            g[t] -= s;
        }
    }

    private static float RowMax(float* z, int n)
    {
        int j = 0;
        float max = float.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var m = Vector512.Load(z);
            for (j = 16; j + 16 <= n; j += 16) m = Vector512.Max(m, Vector512.Load(z + j));
            for (int l = 0; l < 16; l++) max = MathF.Max(max, m[l]);
        }
        for (; j < n; j++) max = MathF.Max(max, z[j]);
        return max;
    }

    // Σ exp(z − max), lanes reduced in double
    private static double SumExp(float* z, int n, float max)
    {
        int j = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vm = Vector512.Create(max);
            var acc = Vector512<float>.Zero;
            for (; j + 16 <= n; j += 16) acc += Vector512.Exp(Vector512.Load(z + j) - vm);
            for (int l = 0; l < 16; l++) sum += acc[l];
        }
        for (; j < n; j++) sum += MathF.Exp(z[j] - max);
        return sum;
    }
}
