// The tape's storage and driver: the pool of pinned float arrays that op outputs, saved intermediates and non-leaf
// gradients are rented from (returned all at once by Backward/Reset; see Tape.cs for the lifetime rule), the list of
// recorded backward steps, and the parallel-for plumbing the op files share.
namespace Furnace.Tensors.Autograd;

public sealed unsafe partial class Tape
{
    // Arrays are pooled by exact length (a Tensor's Data has exactly its element count). Sizes not rented during the
    // last PoolGenerations releases are dropped, so batches of varying sequence length do not pin memory forever.
    private const int PoolGenerations = 2;
    private readonly Dictionary<int, Stack<float[]>> _free = new();
    private readonly Dictionary<int, int> _lastUsed = new(); // length -> release generation of its last rent
    private readonly List<int> _stale = new();
    private int _generation;
    private readonly List<float[]> _lent = new();      // rented since the last release
    private readonly List<Tensor> _recorded = new();   // outputs of recorded ops (non-leaves)
    private readonly List<Action> _steps = new();      // backward steps in forward order

    /// <summary>Number of backward steps recorded since the last Backward/Reset.</summary>
    public int RecordedSteps => _steps.Count;

    private void BackwardCore(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        try
        {
            if (loss.Length != 1) throw new ArgumentException($"backward needs a scalar loss, got shape ({string.Join(", ", loss.Shape)})");
            if (!loss.TracksGrad) return; // nothing recorded leads to it: no parameter gets a gradient
            GradOf(loss)![0] += 1f;
            for (int i = _steps.Count - 1; i >= 0; i--) _steps[i]();
        }
        finally
        {
            Release();
        }
    }

    private void ResetCore() => Release();

    // whether the pool holds free arrays of this length (tests)
    internal bool Pools(int length) => _free.TryGetValue(length, out var s) && s.Count > 0;

    private void Release()
    {
        foreach (Tensor t in _recorded)
        {
            t.Recorded = false;
            t.Grad = null; // pooled, returned below
        }
        _recorded.Clear();
        foreach (float[] a in _lent) Give(a);
        _lent.Clear();
        _steps.Clear();
        _generation++;
        foreach (var (len, used) in _lastUsed)
            if (_generation - used > PoolGenerations) _stale.Add(len);
        foreach (int len in _stale)
        {
            _lastUsed.Remove(len);
            _free.Remove(len);
        }
        _stale.Clear();
    }

    // An array of exactly n floats, pinned (so kernels may keep raw pointers to it), returned at the next release.
    private float[] Rent(int n, bool zero = false)
    {
        float[] a = Temp(n, zero);
        _lent.Add(a);
        return a;
    }

    // A scratch array of exactly n floats that the caller gives back itself (Give) before the op returns.
    private float[] Temp(int n, bool zero = false)
    {
        _lastUsed[n] = _generation;
        if (_free.TryGetValue(n, out var stack) && stack.Count > 0)
        {
            float[] a = stack.Pop();
            if (zero) Array.Clear(a);
            return a;
        }
        return GC.AllocateArray<float>(n, pinned: true); // zeroed
    }

    private void Give(float[] a)
    {
        if (!_free.TryGetValue(a.Length, out var stack)) _free[a.Length] = stack = new Stack<float[]>();
        stack.Push(a);
    }

    private bool Records(Tensor a) => Enabled && a.TracksGrad;

    private bool Records(Tensor a, Tensor? b) => Enabled && (a.TracksGrad || b is { TracksGrad: true });

    private bool Records(Tensor a, Tensor? b, Tensor? c) => Enabled && (a.TracksGrad || b is { TracksGrad: true } || c is { TracksGrad: true });

    // The output tensor of an op: pooled storage while Enabled, a fresh array (owned by the caller) otherwise.
    private Tensor Output(int[] shape, bool record)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        float[] data = Enabled ? Rent(checked((int)n)) : new float[n];
        var t = new Tensor(shape, data);
        if (record) Mark(t);
        return t;
    }

    private void Mark(Tensor t)
    {
        t.Recorded = true;
        _recorded.Add(t);
    }

    private void Record(Action step) => _steps.Add(step);

    // The gradient buffer that a backward step accumulates into: a leaf's own Grad, a pooled zeroed buffer for a
    // non-leaf, or null when no gradient flows into t (frozen).
    private float[]? GradOf(Tensor t)
    {
        if (t.RequiresGrad) return t.EnsureGrad();
        if (!t.Recorded) return null;
        return t.Grad ??= Rent(t.Length, zero: true);
    }

    // As GradOf, for a step that writes every element of the gradient: fresh is true when the buffer was just rented for
    // a non-leaf (its contents are garbage, to be overwritten rather than accumulated into).
    private float[]? GradOf(Tensor t, out bool fresh)
    {
        fresh = false;
        if (t.RequiresGrad) return t.EnsureGrad();
        if (!t.Recorded) return null;
        if (t.Grad != null) return t.Grad;
        fresh = true;
        return t.Grad = Rent(t.Length);
    }

    // ---- parallel plumbing: bodies are static functions over [start, end) with their arguments behind a pointer ----

    internal struct Args
    {
        public float* A, B, C, D, E, F;
        public int* Idx;
        public int N, M, K, L, P;
        public float S, T;
    }

    private void For(int n, delegate*<int, int, void*, void> body, ref Args args, int grain = 1)
    {
        fixed (Args* p = &args) Context.ParallelFor(n, body, p, grain);
    }

    private static void Check(bool ok, string message)
    {
        if (!ok) throw new ArgumentException(message);
    }

    private static string S(Tensor t) => "(" + string.Join(", ", t.Shape) + ")";

    // (rows, cols) of a tensor viewed as a matrix: the last dimension is the row length (a scalar is one row of one)
    private static (int Rows, int Cols) Matrix(Tensor t)
    {
        int cols = t.Rank == 0 ? 1 : t.Shape[^1];
        return (t.Length / cols, cols);
    }
}
