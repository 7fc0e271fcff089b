// `furnace data build scenes`: compositional scenes for learning counting and spatial relations. Objects are the
// countable emoji of OpenMoji and Noto (SceneVocabulary, from the same npm packages as the openmoji and
// emoji-google builders, rendered here with their transparency so they can be composited — the built datasets are
// flattened on white); each scene puts 1–4 of them on a background (SceneBackground) as SceneSpec/SceneLayout
// decide and is captioned from that spec (SceneCaptions). Scenes are drawn from a per-scene seeded Random, so a
// build is reproducible for a --seed whatever the thread count. Held-out combinations (SceneHoldout) never appear
// in captions.jsonl (train) and each eval.jsonl scene has one.
using System.Collections.Concurrent;
using SkiaSharp;

namespace Furnace.Data.Builders;

public sealed class ScenesBuilder : IDatasetBuilder
{
    public const int DefaultTrainScenes = 10000;

    public string Name => "scenes";

    public string Description => "Compositional scenes: 1–4 OpenMoji/Noto objects on varied backgrounds, captions of what, how many, where; held-out eval split";

    public DatasetBuildReport Build(DatasetBuildRequest request)
    {
        if (request.Size is < 32 or > 4096) throw new FurnaceException($"--size {request.Size} must be between 32 and 4096");
        var cache = request.Cache;
        var names = EmojiNames.Load(cache);
        var openmoji = OpenMojiBuilder.ReadEntries(cache.Npm(OpenMojiBuilder.Package, OpenMojiBuilder.Version));
        var noto = EmojiGoogleBuilder.ReadEntries(cache.Npm(EmojiGoogleBuilder.Package, EmojiGoogleBuilder.Version))
            .ToDictionary(e => EmojiNames.Key(e.Hex), e => e.Png, StringComparer.Ordinal);
        var candidates = SceneVocabulary.Build(openmoji, noto, names);
        if (request.Objects is int max) candidates = SceneVocabulary.Choose(candidates, max);
        if (request.DryRun)
        {
            int train = request.Limit ?? DefaultTrainScenes;
            return new DatasetBuildReport(Name, Path.GetFullPath(request.OutDir), candidates.Count, candidates.Count(o => o.Chinese is not null), 0,
                new Dictionary<string, (string, int)> { ["train"] = ("captions.jsonl", train), ["eval"] = ("eval.jsonl", Math.Max(1, train / 10)) });
        }
        request.Log($"scenes: {candidates.Count} countable objects; rendering their pictures");
        var pictures = RenderPictures(candidates, request);
        var vocabulary = candidates.Select(o => o with { Images = o.Images.Where(pictures.ContainsKey).ToArray() }).Where(o => o.Images.Count > 0).ToArray();
        if (vocabulary.Length < 2) throw new FurnaceException("scenes: fewer than two objects could be rendered");
        var credits = openmoji.ToDictionary(e => e.SvgPath, e => e.Author, StringComparer.Ordinal);
        try
        {
            return Write(request, vocabulary, pictures, credits);
        }
        finally
        {
            foreach (var p in pictures.Values) p.Dispose();
        }
    }

    /// <summary>Train and eval specs: train never touches a held-out combination, eval always does.</summary>
    public static (SceneSpec[] Train, SceneSpec[] Eval) Specs(IReadOnlyList<SceneObject> vocabulary, SceneHoldout holdout, int train, int eval, int seed)
    {
        SceneSpec Draw(int split, int i, bool held)
        {
            var rng = SceneRandom(seed, split, i, 0);
            for (int attempt = 0; attempt < 10000; attempt++)
            {
                var spec = SceneSpec.Sample(rng, vocabulary);
                if (holdout.Touches(spec) == held) return spec;
            }
            throw new FurnaceException($"scenes: could not draw a {(held ? "held-out" : "training")} scene (vocabulary of {vocabulary.Count} objects too small)");
        }
        return (Enumerable.Range(0, train).Select(i => Draw(0, i, false)).ToArray(), Enumerable.Range(0, eval).Select(i => Draw(1, i, true)).ToArray());
    }

    /// <summary>A Random for one scene (split 0 train, 1 eval; stream 0 spec, 1 drawing) independent of thread order.</summary>
    public static Random SceneRandom(int seed, int split, int index, int stream) =>
        new((int)SceneHoldout.Hash($"{seed}|{split}|{index}|{stream}"));

    private static Dictionary<string, SKBitmap> RenderPictures(IReadOnlyList<SceneObject> objects, DatasetBuildRequest request)
    {
        var rasterizer = new ImageRasterizer(request.Cache);
        int side = (int)Math.Ceiling(request.Size * 0.6);
        var paths = objects.SelectMany(o => o.Images).Distinct().ToArray();
        var done = new ConcurrentDictionary<string, SKBitmap>(StringComparer.Ordinal);
        Parallel.ForEach(paths, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, request.Threads) }, path =>
        {
            try
            {
                done[path] = rasterizer.Load(path, side);
            }
            catch (FurnaceException e)
            {
                request.Log($"skipped {e.Message}");
            }
        });
        return new Dictionary<string, SKBitmap>(done, StringComparer.Ordinal);
    }

    private DatasetBuildReport Write(DatasetBuildRequest request, IReadOnlyList<SceneObject> vocabulary, Dictionary<string, SKBitmap> pictures,
        Dictionary<string, string> credits)
    {
        var holdout = new SceneHoldout();
        int trainCount = request.Limit ?? DefaultTrainScenes;
        if (trainCount <= 0) throw new FurnaceException($"--limit {trainCount} must be at least 1");
        int evalCount = Math.Max(1, trainCount / 10);
        var (train, eval) = Specs(vocabulary, holdout, trainCount, evalCount, request.Seed);
        request.Log($"scenes: {vocabulary.Count} objects, {trainCount} training and {evalCount} held-out scenes at {request.Size}×{request.Size}");

        string staging = DatasetFolder.Begin(request.OutDir, request.Force);
        var all = train.Select((s, i) => (Split: 0, Index: i, Spec: s)).Concat(eval.Select((s, i) => (Split: 1, Index: i, Spec: s))).ToArray();
        var lines = new DatasetFolder.Line[all.Length];
        int done = 0;
        var gate = new object();
        Parallel.For(0, all.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, request.Threads) }, k =>
        {
            var (split, index, spec) = all[k];
            var rng = SceneRandom(request.Seed, split, index, 1);
            using var canvasBitmap = new SKBitmap(new SKImageInfo(request.Size, request.Size, SKColorType.Rgba8888, SKAlphaType.Premul));
            var bg = SceneBackground.Paint(canvasBitmap, rng);
            var (boxes, cell) = SceneLayout.Place(spec, request.Size, rng);
            var groups = spec.Groups.ToArray();
            using (var canvas = new SKCanvas(canvasBitmap))
            {
                foreach (var p in boxes)
                {
                    var obj = groups[p.Group].Object;
                    var picture = pictures[obj.Images[rng.Next(obj.Images.Count)]];
                    float scale = Math.Min(p.Box.Width / picture.Width, p.Box.Height / picture.Height);
                    float w = picture.Width * scale, h = picture.Height * scale;
                    ImageRasterizer.Draw(canvas, picture, SKRect.Create(p.Box.MidX - w / 2, p.Box.MidY - h / 2, w, h));
                }
            }
            string id = $"{(split == 0 ? "train" : "eval")}_{index:D6}";
            File.WriteAllBytes(Path.Combine(staging, "images", id + ".png"), ImageRasterizer.OpaquePng(canvasBitmap));
            lines[k] = new DatasetFolder.Line(id, $"images/{id}.png", SceneCaptions.English(spec, bg, cell), SceneCaptions.Chinese(spec, bg, cell));
            int n = Interlocked.Increment(ref done);
            lock (gate) request.Progress(n, all.Length);
        });

        DatasetFolder.WriteJsonl(Path.Combine(staging, "captions.jsonl"), lines.Take(trainCount));
        DatasetFolder.WriteJsonl(Path.Combine(staging, "eval.jsonl"), lines.Skip(trainCount));
        WriteHeldOut(Path.Combine(staging, "heldout.tsv"), vocabulary, holdout);
        DatasetFolder.WriteLicense(staging,
            "The scenes in images/ composite OpenMoji emoji (CC BY-SA 4.0) and Noto emoji by Google (Apache-2.0) on generated backgrounds;\n" +
            "as adaptations of OpenMoji they are licensed under CC BY-SA 4.0. Object names: Unicode CLDR (Unicode License v3) via npm emojibase-data (MIT).\n" +
            "The OpenMoji licence text follows.",
            ObjectDatasetBuilder.ReadLicense(request.Cache.Npm(OpenMojiBuilder.Package, OpenMojiBuilder.Version), "LICENSE.txt"));
        var authors = vocabulary.SelectMany(o => o.Images).Select(p => credits.GetValueOrDefault(p)).Where(a => !string.IsNullOrWhiteSpace(a)).Distinct().Order(StringComparer.Ordinal).ToArray();
        DatasetFolder.WriteAttribution(staging, "scenes: sources and credits",
            [
                $"Objects: OpenMoji {OpenMojiBuilder.Version} (npm {OpenMojiBuilder.Package}, CC BY-SA 4.0, https://openmoji.org) by {string.Join(", ", authors)}.",
                $"Objects: Noto Color Emoji by Google (npm {EmojiGoogleBuilder.Package}@{EmojiGoogleBuilder.Version}, Apache-2.0).",
                $"Names: Unicode CLDR annotations, English and Chinese (Unicode License v3), via npm {EmojiNames.Package}@{EmojiNames.Version} (MIT).",
                "Backgrounds: generated (plain colours, gradients, value-noise textures).",
                $"Held out (heldout.tsv): object pairs and (object, count) combinations whose name hash is 0 mod {holdout.Modulus}; none is in captions.jsonl, each eval.jsonl scene has one.",
            ],
            []);
        var report = new DatasetBuildReport(Name, Path.GetFullPath(request.OutDir), lines.Length, lines.Count(l => l.CaptionsZh is { Count: > 0 }), 0,
            new Dictionary<string, (string, int)> { ["train"] = ("captions.jsonl", trainCount), ["eval"] = ("eval.jsonl", evalCount) });
        DatasetFolder.WriteManifest(staging, report, $"npm {OpenMojiBuilder.Package}@{OpenMojiBuilder.Version} + npm {EmojiGoogleBuilder.Package}@{EmojiGoogleBuilder.Version}",
            "CC-BY-SA-4.0", request.Size, w =>
            {
                w.WriteNumber("seed", request.Seed);
                w.WriteNumber("objects", vocabulary.Count);
                w.WriteNumber("objects_with_chinese", vocabulary.Count(o => o.Chinese is not null));
                w.WriteNumber("held_out_modulus", holdout.Modulus);
            });
        DatasetFolder.Commit(staging, request.OutDir, request.Force);
        return report;
    }

    private static void WriteHeldOut(string path, IReadOnlyList<SceneObject> vocabulary, SceneHoldout holdout)
    {
        using var w = new StreamWriter(path);
        w.WriteLine("kind\tobject\tother_or_count");
        foreach (var o in vocabulary)
        {
            for (int n = 2; n <= 4; n++)
            {
                if (holdout.IsHeldCount(o, n)) w.WriteLine($"count\t{o.Singular}\t{n}");
            }
        }
        for (int i = 0; i < vocabulary.Count; i++)
        {
            for (int j = i + 1; j < vocabulary.Count; j++)
            {
                if (holdout.IsHeldPair(vocabulary[i], vocabulary[j])) w.WriteLine($"pair\t{vocabulary[i].Singular}\t{vocabulary[j].Singular}");
            }
        }
    }
}
