// The samples a training run reads, in file order, from LLaVA conversation JSON or any caption dataset
// (CaptionDataset: COCO, JSONL, image folder). Examples are materialised on demand: Example(index, epoch, seed)
// is a pure function, so the loader can rebuild any example from its data position. Split() divides the set into
// train and validation by image, never putting one image on both sides.
namespace Furnace.Data;

public sealed class TrainingSet
{
    private readonly IReadOnlyList<TrainingSetEntry> _entries;
    private readonly string _captionUserTurn;

    internal TrainingSet(string path, TrainingDataFormat format, IReadOnlyList<TrainingSetEntry> entries, TrainingSetOptions options)
    {
        Path = path;
        Format = format;
        Options = options;
        _entries = entries;
        _captionUserTurn = options.CaptionUserTurn();
    }

    /// <summary>The file or folder the samples were read from.</summary>
    public string Path { get; }

    public TrainingDataFormat Format { get; }

    public TrainingSetOptions Options { get; }

    /// <summary>Samples: LLaVA conversations; captioned images × captions (EachCaption) or images (OneCaptionPerEpoch).</summary>
    public int Count => _entries.Count;

    /// <summary>Distinct images (text-only samples not counted).</summary>
    public int ImageCount => _entries.Where(e => e.ImagePath is not null).Select(e => e.ImagePath).Distinct(StringComparer.Ordinal).Count();

    /// <summary>Samples whose image file was not found (only when loaded with RequireImages = false).</summary>
    public int MissingImageCount => _entries.Count(e => e.ImagePath is not null && !e.ImageFound);

    internal IReadOnlyList<TrainingSetEntry> Entries => _entries;

    /// <summary>The sample's id as the file gives it.</summary>
    public string IdOf(int index) => _entries[index].Id;

    /// <summary>Absolute image path of a sample, or null for text-only.</summary>
    public string? ImagePathOf(int index) => _entries[index].ImagePath;

    /// <summary>Whether the sample's image file was found when the set was read (false for text-only samples).</summary>
    public bool ImageFound(int index) => _entries[index].ImageFound;

    /// <summary>What the split groups by: the image path relative to the dataset ("coco/train2017/x.jpg"), or
    /// "id:ID" for a text-only sample.</summary>
    public string ImageKeyOf(int index) => _entries[index].ImageKey;

    /// <summary>The example of sample <paramref name="index"/> in <paramref name="epoch"/>. Only
    /// CaptionSampling.OneCaptionPerEpoch depends on epoch and seed (which caption is used).</summary>
    public TrainingExample Example(int index, int epoch = 0, ulong seed = 0)
    {
        TrainingSetEntry e = _entries[index];
        if (e.Turns is not null) return new TrainingExample(e.Id, e.ImagePath, e.Turns);
        var captions = e.Captions!;
        string caption = captions.Count == 1 ? captions[0] : captions[DataRandom.For(seed, epoch, index, "caption").NextInt(captions.Count)];
        return new TrainingExample(e.Id, e.ImagePath, [new TrainingTurn(TrainingRole.User, _captionUserTurn), new TrainingTurn(TrainingRole.Assistant, caption)]);
    }

    /// <summary>
    /// Reads a training set, choosing the reader by what <paramref name="path"/> is: a directory is a folder of
    /// images with .txt captions, <c>.jsonl</c> is JSONL captions, a <c>.json</c> array is LLaVA conversations and a
    /// <c>.json</c> object is COCO captions.
    /// </summary>
    public static TrainingSet Load(string path, TrainingSetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= TrainingSetOptions.Default;
        if (Directory.Exists(path)) return FromCaptions(CaptionDataset.LoadFolder(path), options);
        if (!File.Exists(path)) throw new FurnaceException($"{path}: no such file or directory");
        string ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".jsonl") return FromCaptions(CaptionDataset.LoadJsonl(path, options.RequireImages), options);
        if (ext != ".json")
            throw new FurnaceException($"{path}: unknown training data type '{ext}' (expected LLaVA conversation .json, COCO captions .json, captions .jsonl, or a folder of images with .txt captions)");
        return FirstChar(path) == '['
            ? LoadLlava(path, options)
            : FromCaptions(CaptionDataset.LoadCoco(path, options.RequireImages), options);
    }

    /// <summary>LLaVA conversation JSON (see LlavaConversationReader for the rules).</summary>
    public static TrainingSet LoadLlava(string path, TrainingSetOptions? options = null)
    {
        options ??= TrainingSetOptions.Default;
        return new TrainingSet(path, TrainingDataFormat.Llava, LlavaConversationReader.Read(path, options), options);
    }

    /// <summary>Captioned images as training samples: user "&lt;image&gt;\n" + options.Instruction, assistant = a
    /// caption; one sample per caption or per image (options.Captions).</summary>
    public static TrainingSet FromCaptions(CaptionDataset dataset, TrainingSetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= TrainingSetOptions.Default;
        string baseDir = Directory.Exists(dataset.Path)
            ? System.IO.Path.GetFullPath(dataset.Path)
            : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(dataset.Path))!;
        var entries = new List<TrainingSetEntry>();
        foreach (CaptionItem item in dataset.Items)
        {
            string key = System.IO.Path.GetRelativePath(baseDir, item.ImagePath).Replace('\\', '/');
            bool found = File.Exists(item.ImagePath);
            if (options.Captions == CaptionSampling.OneCaptionPerEpoch)
            {
                entries.Add(new TrainingSetEntry(item.Id, item.ImagePath, key, found, null, item.Captions));
                continue;
            }
            foreach (string caption in item.Captions) entries.Add(new TrainingSetEntry(item.Id, item.ImagePath, key, found, null, [caption]));
        }
        TrainingDataFormat format = dataset.Format switch
        {
            CaptionDatasetFormat.Coco => TrainingDataFormat.Coco,
            CaptionDatasetFormat.Jsonl => TrainingDataFormat.Jsonl,
            _ => TrainingDataFormat.Folder,
        };
        return new TrainingSet(dataset.Path, format, entries, options);
    }

    /// <summary>The samples at <paramref name="indices"/>, in that order (a split side, a debugging subset).</summary>
    public TrainingSet Subset(IReadOnlyList<int> indices)
    {
        var entries = new TrainingSetEntry[indices.Count];
        for (int i = 0; i < indices.Count; i++) entries[i] = _entries[indices[i]];
        return new TrainingSet(Path, Format, entries, Options);
    }

    /// <summary>Splits by image: the validation side takes whole images in the order of a seeded hash of their
    /// image key until it holds <paramref name="validation"/> of the samples (a fraction in (0, 1)) or that many
    /// samples (a count ≥ 1). Deterministic: the same file, value and seed give the same split on any machine.</summary>
    public TrainingSplit Split(double validation, ulong seed = 0) => TrainingSplit.Of(this, validation, seed);

    private static char FirstChar(string path)
    {
        using var fs = File.OpenRead(path);
        Span<byte> buf = stackalloc byte[4096];
        int n = fs.Read(buf);
        return IO.JsonInput.FirstChar(buf[..n]);
    }

    /// <summary>The user turn a caption sample is trained with (the same text Captioner sends at inference).</summary>
    public string CaptionUserTurn => _captionUserTurn;
}
