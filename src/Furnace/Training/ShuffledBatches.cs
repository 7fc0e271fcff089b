// Batches of an in-memory list of samples, reshuffled every epoch: epoch e's order is a Fisher–Yates permutation
// drawn from TrainingRandom(seed ⊕ golden·e), so any (epoch, index, seed) position can be rebuilt without replaying
// earlier epochs. Batches never straddle epochs: the last one of an epoch may be smaller (drop_last=False).
using Furnace.Data;

namespace Furnace.Training;

public sealed class ShuffledBatches<T> : IBatchSource<IReadOnlyList<T>>
{
    private readonly IReadOnlyList<T> _items;
    private readonly bool _shuffle;
    private int[] _order;
    private int _orderEpoch = -1;
    private DataPosition _position;

    public ShuffledBatches(IReadOnlyList<T> items, int batchSize, ulong seed, bool shuffle = true)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0) throw new FurnaceException("the training data has no samples");
        if (batchSize < 1) throw new FurnaceException($"batch size {batchSize} must be at least 1");
        _items = items;
        BatchSize = batchSize;
        _shuffle = shuffle;
        _order = new int[items.Count];
        _position = new DataPosition(0, 0, seed, items.Count);
    }

    public int BatchSize { get; }

    public int EpochSize => _items.Count;

    public DataPosition Position => _position;

    public void Seek(DataPosition position)
    {
        if (position.Count != _items.Count || position.Epoch < 0 || position.Index < 0 || position.Index > _items.Count)
            throw new FurnaceException($"cannot resume at data position {position}: the data set now has {_items.Count} samples (did the data change since the checkpoint?)");
        _position = position;
    }

    public IReadOnlyList<T> Next()
    {
        if (_position.Index >= _items.Count) _position = _position with { Epoch = _position.Epoch + 1, Index = 0 };
        int[] order = OrderOf(_position.Epoch);
        int n = Math.Min(BatchSize, _items.Count - _position.Index);
        var batch = new T[n];
        for (int i = 0; i < n; i++) batch[i] = _items[order[_position.Index + i]];
        _position = _position with { Index = _position.Index + n };
        return batch;
    }

    private int[] OrderOf(int epoch)
    {
        if (_orderEpoch == epoch) return _order;
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (_shuffle)
        {
            var rng = new TrainingRandom(_position.Seed ^ (0x9E3779B97F4A7C15UL * (ulong)(epoch + 1)));
            for (int i = _order.Length - 1; i > 0; i--)
            {
                int j = rng.Next(i + 1);
                (_order[i], _order[j]) = (_order[j], _order[i]);
            }
        }
        _orderEpoch = epoch;
        return _order;
    }
}
