// Kernel micro-benchmark: MatMul GEMV (t = 1) GFLOP/s and effective weight GB/s per dtype at 1 and 2 threads,
// GEMM (t = 128) GFLOP/s, the cost of an empty parallel region, and the matmul-only decode rate of two model shapes
// (the llama.cpp peer figures in DESIGN.md are whole-model decode rates, so these are upper bounds to compare).
// `packed` compares row-major against Interleaved8 (Repack) Q8_0/Q4_0 weights only, alternating A/B rounds;
// `kpacked` row-major (AVX2 fused kernels) against Interleaved16 (RepackK, AVX-512) Q4_K/Q5_K/Q6_K weights the same
// way; `kshapes` the GEMV of single matrices of the bench-768 shapes, row-major against Interleaved16.
// Usage: dotnet run -c Release --project bench/Furnace.Bench.Kernels [-- quick | packed | kpacked]
using System.Diagnostics;
using Furnace.Tensors;

bool quick = args.Contains("quick");
double budget = quick ? 0.15 : 0.4; // seconds per measurement
DType[] types = { DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0 };
var tinyShape = new ModelShape("TinyLlama-1.1B (kv 256)", 2048, 22, 256, 5632, 32000);

if (args.Contains("kshapes"))
{
    // per-shape GEMV (t = 1), row-major vs Interleaved16, 1 thread, alternating
    using var ctx1 = new KernelContext(1);
    foreach (DType t in new[] { DType.Q4_K, DType.Q5_K, DType.Q6_K })
    {
        foreach ((int rows, int cols) in new[] { (768, 768), (2048, 768), (768, 2048), (32000, 768), (2048, 2048) })
        {
            using var wb = Weights(rows, cols, t, 1);
            using var pb = RepackK.Interleave16(wb.AsMatrix(rows, cols, t), out WeightMatrix pw);
            for (int round = 0; round < 2; round++)
            {
                double a = Time(wb.AsMatrix(rows, cols, t), 1, ctx1, 0.3), b = Time(pw, 1, ctx1, 0.3);
                Console.WriteLine($"{DTypes.Name(t),-5} {rows}x{cols,-6} rowmaj {a * 1e6,8:F1} us  packed {b * 1e6,8:F1} us");
            }
        }
    }
    return;
}

if (args.Contains("kpacked"))
{
    Console.WriteLine("row-major vs Interleaved16 (K-quants): matmul-only decode tok/s, GEMM (t=128, 2048x2048) GFLOP/s; alternating rounds");
    var smallShape = new ModelShape("dim768 L12 ffn2048 vocab32000", 768, 12, 768, 2048, 32000);
    bool tinyToo = !quick;
    foreach ((ModelShape shape, DType t) in new[] { (smallShape, DType.Q4_K), (smallShape, DType.Q5_K), (smallShape, DType.Q6_K), (tinyShape, DType.Q4_K), (tinyShape, DType.Q5_K), (tinyShape, DType.Q6_K) })
    {
        if (shape.Dim > 1024 && !tinyToo) continue;
        var rowMajor = Build(shape, t);
        var packed = rowMajor.Select(e => (Buf: RepackK.Interleave16(e.W, out WeightMatrix pw), W: pw)).ToList();
        using var g = Weights(2048, 2048, t, 2);
        using var gp = RepackK.Interleave16(g.AsMatrix(2048, 2048, t), out WeightMatrix gpw);
        for (int round = 0; round < 3; round++)
        {
            foreach (int threads in new[] { 1, 2 })
            {
                using var ctx = new KernelContext(threads);
                foreach (bool pack in new[] { false, true })
                {
                    (double tps, double gbs) = TimeDecode(pack ? packed : rowMajor, ctx, 1.0);
                    double s = Time(pack ? gpw : g.AsMatrix(2048, 2048, t), 128, ctx, 0.5);
                    double s1 = Time(pack ? gpw : g.AsMatrix(2048, 2048, t), 1, ctx, 0.3);
                    Console.WriteLine($"{shape.Name,-30} {DTypes.Name(t),-6} thr {threads} {(pack ? "packed" : "rowmaj"),-7} decode {tps,7:F1} tok/s {gbs,6:F1} GB/s   gemm {2.0 * 128 * 2048 * 2048 / s / 1e9,7:F1} GFLOP/s   gemv 2048^2 {s1 * 1e6,7:F1} us");
                }
            }
        }
        foreach (var e in rowMajor.Concat(packed)) e.Buf.Dispose();
    }
    return;
}

if (args.Contains("packed"))
{
    Console.WriteLine("row-major vs Interleaved8: matmul-only decode tok/s, GEMM (t=128, 2048x2048) GFLOP/s; alternating rounds");
    var smallShape = new ModelShape("dim768 L12 ffn2048 vocab32000", 768, 12, 768, 2048, 32000);
    foreach ((ModelShape shape, DType t) in new[] { (smallShape, DType.Q4_0), (smallShape, DType.Q8_0), (tinyShape, DType.Q4_0), (tinyShape, DType.Q8_0) })
    {
        var rowMajor = Build(shape, t);
        var packed = rowMajor.Select(e => (Buf: Repack.Interleave8(e.W, out WeightMatrix pw), W: pw)).ToList();
        using var g = Weights(2048, 2048, t, 2);
        using var gp = Repack.Interleave8(g.AsMatrix(2048, 2048, t), out WeightMatrix gpw);
        for (int round = 0; round < 3; round++)
        {
            foreach (int threads in new[] { 1, 2 })
            {
                using var ctx = new KernelContext(threads);
                foreach (bool pack in new[] { false, true })
                {
                    (double tps, double gbs) = TimeDecode(pack ? packed : rowMajor, ctx, 1.0);
                    double s = Time(pack ? gpw : g.AsMatrix(2048, 2048, t), 128, ctx, 0.5);
                    Console.WriteLine($"{shape.Name,-30} {DTypes.Name(t),-6} thr {threads} {(pack ? "packed" : "rowmaj"),-7} decode {tps,7:F1} tok/s {gbs,6:F1} GB/s   gemm {2.0 * 128 * 2048 * 2048 / s / 1e9,7:F1} GFLOP/s");
                }
            }
        }
        foreach (var e in rowMajor.Concat(packed)) e.Buf.Dispose();
    }
    return;
}

Console.WriteLine($"Furnace kernel bench — {Environment.ProcessorCount} cpus, Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, AvxVnni {System.Runtime.Intrinsics.X86.AvxVnni.IsSupported}");
Console.WriteLine();
Console.WriteLine("GEMV (t=1): y (rows) = W (rows, cols) @ x");
Console.WriteLine($"{"shape",-12} {"dtype",-6} {"thr",3} {"us/call",10} {"GFLOP/s",9} {"GB/s",8}");
foreach ((int rows, int cols) in new[] { (2048, 2048), (5632, 2048) })
{
    foreach (DType t in types)
    {
        using var w = Weights(rows, cols, t, 1);
        foreach (int threads in new[] { 1, 2 })
        {
            using var ctx = new KernelContext(threads);
            double s = Time(w.AsMatrix(rows, cols, t), 1, ctx, budget);
            double bytes = (double)DTypes.RowBytes(t, cols) * rows;
            Console.WriteLine($"{rows}x{cols,-7} {DTypes.Name(t),-6} {threads,3} {s * 1e6,10:F1} {2.0 * rows * cols / s / 1e9,9:F1} {bytes / s / 1e9,8:F1}");
        }
    }
}

Console.WriteLine();
Console.WriteLine("GEMM (t=128): Y (128, 2048) = X (128, 2048) @ W^T");
Console.WriteLine($"{"dtype",-6} {"thr",3} {"ms/call",10} {"GFLOP/s",9}");
foreach (DType t in types)
{
    using var w = Weights(2048, 2048, t, 2);
    foreach (int threads in new[] { 1, 2 })
    {
        using var ctx = new KernelContext(threads);
        double s = Time(w.AsMatrix(2048, 2048, t), 128, ctx, budget * 2);
        Console.WriteLine($"{DTypes.Name(t),-6} {threads,3} {s * 1e3,10:F2} {2.0 * 128 * 2048 * 2048 / s / 1e9,9:F1}");
    }
}

Console.WriteLine();
{
    using var ctx = new KernelContext(2);
    var job = new EmptyJob();
    for (int i = 0; i < 10000; i++) ctx.Run(ref job, 64);
    long t0 = Stopwatch.GetTimestamp();
    const int n = 200_000;
    for (int i = 0; i < n; i++) ctx.Run(ref job, 64);
    double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
    Console.WriteLine($"empty parallel region, 2 threads: {s / n * 1e9:F0} ns");
}

Console.WriteLine();
Console.WriteLine("matmul-only decode (t=1), tokens/s — upper bound of a whole-model decode");
Console.WriteLine($"{"model",-34} {"dtype",-6} {"thr",3} {"tok/s",8} {"GB/s",8}");
var small = new ModelShape("dim768 L12 ffn2048 vocab32000", 768, 12, 768, 2048, 32000);
var tiny = tinyShape;
foreach (ModelShape m in quick ? new[] { small } : new[] { small, tiny })
{
    foreach (DType t in m.Dim > 1024 ? new[] { DType.Q8_0, DType.Q4_0 } : new[] { DType.F32, DType.Q8_0, DType.Q4_0 })
    {
        foreach (int threads in new[] { 1, 2 })
        {
            (double tps, double gbs) = Decode(m, t, threads, budget * 3);
            Console.WriteLine($"{m.Name,-34} {DTypes.Name(t),-6} {threads,3} {tps,8:F1} {gbs,8:F1}");
        }
    }
}

static NativeBuffer Weights(int rows, int cols, DType t, int seed)
{
    var rng = new Random(seed);
    var row = new float[cols];
    long rb = DTypes.RowBytes(t, cols);
    var buf = new NativeBuffer(rb * rows);
    for (int r = 0; r < rows; r++)
    {
        for (int i = 0; i < cols; i++) row[i] = (float)(rng.NextDouble() * 2 - 1);
        Quantize.Row(buf.Bytes.Slice((int)(r * rb), (int)rb), row, t);
    }
    return buf;
}

static double Time(WeightMatrix w, int t, KernelContext ctx, double budget)
{
    var x = new float[t * w.Cols];
    var rng = new Random(3);
    for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
    var y = new float[t * w.Rows];
    for (int i = 0; i < 3; i++) MatMul.Forward(y, x, t, w, ctx);
    // median of batches, each long enough to swamp timer noise
    var samples = new List<double>();
    long end = Stopwatch.GetTimestamp() + (long)(budget * Stopwatch.Frequency);
    do
    {
        int reps = t == 1 ? 20 : 1;
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < reps; i++) MatMul.Forward(y, x, t, w, ctx);
        samples.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds / reps);
    } while (Stopwatch.GetTimestamp() < end || samples.Count < 3);
    samples.Sort();
    return samples[samples.Count / 2];
}

static (double TokensPerSecond, double GBs) Decode(ModelShape m, DType t, int threads, double budget)
{
    var mats = Build(m, t);
    using var ctx = new KernelContext(threads);
    var r = TimeDecode(mats, ctx, budget);
    foreach (var e in mats) e.Buf.Dispose();
    return r;
}

// one buffer per distinct weight per layer, so the working set is the model's, not a cached matrix
static List<(NativeBuffer Buf, WeightMatrix W)> Build(ModelShape m, DType t)
{
    var mats = new List<(NativeBuffer Buf, WeightMatrix W)>();
    void Add(int rows, int cols) { var b = Weights(rows, cols, t, mats.Count); mats.Add((b, b.AsMatrix(rows, cols, t))); }
    for (int l = 0; l < m.Layers; l++)
    {
        Add(m.Dim, m.Dim); Add(m.KvDim, m.Dim); Add(m.KvDim, m.Dim); Add(m.Dim, m.Dim);
        Add(m.Ffn, m.Dim); Add(m.Ffn, m.Dim); Add(m.Dim, m.Ffn);
    }
    Add(m.Vocab, m.Dim);
    return mats;
}

static (double TokensPerSecond, double GBs) TimeDecode(List<(NativeBuffer Buf, WeightMatrix W)> mats, KernelContext ctx, double budget)
{
    double bytes = mats.Sum(e => (double)e.W.ByteLength);
    int maxCols = mats.Max(e => e.W.Cols), maxRows = mats.Max(e => e.W.Rows);
    var x = new float[maxCols];
    for (int i = 0; i < x.Length; i++) x[i] = (float)Math.Sin(i);
    var y = new float[maxRows];
    void Token() { foreach (var e in mats) MatMul.Forward(y, x, 1, e.W, ctx); }
    Token();
    var samples = new List<double>();
    long end = Stopwatch.GetTimestamp() + (long)(budget * Stopwatch.Frequency);
    do
    {
        long t0 = Stopwatch.GetTimestamp();
        Token();
        samples.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
    } while (Stopwatch.GetTimestamp() < end || samples.Count < 5);
    samples.Sort();
    double s = samples[samples.Count / 2];
    return (1 / s, bytes / s / 1e9);
}

internal readonly record struct ModelShape(string Name, int Dim, int Layers, int KvDim, int Ffn, int Vocab);

internal struct EmptyJob : IParallelJob
{
    public void Execute(int start, int end, int thread)
    {
    }
}
