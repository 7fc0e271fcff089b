// The data branch's TrainingLoader as the trainer's endless, seekable batch source: epochs run on without end (the
// trainer counts steps, not epochs), and Seek restarts the loader at a saved DataPosition — the loader's order,
// caption choice and augmentation are pure functions of that position, so the batches after it are the same.
using Furnace.Data;

namespace Furnace.Training;

public sealed class LoaderBatches : IBatchSource<Data.TrainingBatch>, IDisposable
{
    private readonly TrainingSet _set;
    private readonly TrainingLoaderOptions _options;
    private TrainingLoader _loader;

    public LoaderBatches(TrainingSet set, TrainingLoaderOptions options)
    {
        _set = set;
        _options = options with { Epochs = null };
        _loader = new TrainingLoader(set, _options);
    }

    public DataPosition Position => _loader.Position;

    public int EpochSize => _set.Count;

    public void Seek(DataPosition position)
    {
        _loader.Dispose();
        _loader = new TrainingLoader(_set, _options, position);
    }

    public Data.TrainingBatch Next() =>
        _loader.TryNext(out var batch) ? batch : throw new InvalidOperationException("the endless training loader ended");

    public void Dispose() => _loader.Dispose();
}
