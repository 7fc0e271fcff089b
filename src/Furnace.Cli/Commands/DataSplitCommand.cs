// `furnace data split PATH --val 0.05 --out DIR`: a deterministic train/validation split by image
// (TrainingSet.Split), written as two files of the input's kind: LLaVA JSON → DIR/train.json + DIR/val.json (each
// sample kept as it was, its "image" rewritten relative to DIR), caption datasets → DIR/train.jsonl +
// DIR/val.jsonl ({"id", "image", "captions"} per image, all of an image's captions on one side).
using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Furnace.Data;
using Furnace.IO;

namespace Furnace.Cli.Commands;

internal static class DataSplitCommand
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var path = DataCommand.PathArgument();
        var imageFolder = DataCommand.ImageFolderOption();
        var val = new Option<double>("--val")
        {
            Description = "Validation size: a fraction in (0, 1) of the samples (LLaVA) or images (caption sets), or a whole count",
            DefaultValueFactory = _ => 0.05,
        };
        var output = new Option<string>("--out", "-o") { Description = "Output folder (created if needed)", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the split (same file, size and seed: same split)", DefaultValueFactory = _ => 0 };
        var cmd = new Command("split", """
            Split a training file into train and validation by image: all samples of one image (LLaVA-Instruct's
            several conversations, COCO's five captions) go to the same side. The split depends only on the file,
            --val and --seed. LLaVA JSON is written as DIR/train.json and DIR/val.json (samples unchanged except
            "image", made relative to DIR); caption datasets as DIR/train.jsonl and DIR/val.jsonl.

            Examples:
              furnace data split llava_instruct_150k.json --image-folder ./coco --val 0.02 --out splits/
              furnace data split captions.jsonl --val 500 --seed 7 --out splits/
            """)
        {
            path,
            imageFolder,
            val,
            output,
            seed,
        };
        cmd.SetAction(r => Cli.Run(() => Run(r.GetValue(path)!, r.GetValue(imageFolder), r.GetValue(val), r.GetValue(output)!, r.GetValue(seed))));
        return cmd;
    }

    private static int Run(string path, string? imageFolder, double val, string outDir, ulong seed)
    {
        var options = new TrainingSetOptions { ImageFolder = imageFolder, RequireImages = false, Captions = CaptionSampling.OneCaptionPerEpoch };
        var set = TrainingSet.Load(path, options);
        var split = set.Split(val, seed);
        try
        {
            Directory.CreateDirectory(outDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FurnaceException($"{outDir}: cannot create the output folder ({e.Message})");
        }
        string dir = Path.GetFullPath(outDir);
        string ext = set.Format == TrainingDataFormat.Llava ? ".json" : ".jsonl";
        string train = Path.Combine(outDir, "train" + ext), valid = Path.Combine(outDir, "val" + ext);
        if (set.Format == TrainingDataFormat.Llava)
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path).AsMemory(StartOfJson(path)), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            JsonElement[] samples = [.. doc.RootElement.EnumerateArray()];
            WriteLlava(train, split.TrainIndices, samples, set, dir);
            WriteLlava(valid, split.ValidationIndices, samples, set, dir);
        }
        else
        {
            var captions = CaptionDataset.Load(path, requireImages: false);
            WriteCaptions(train, split.TrainIndices, captions, dir);
            WriteCaptions(valid, split.ValidationIndices, captions, dir);
        }
        string unit = set.Format == TrainingDataFormat.Llava ? "samples" : "images";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{path}: {set.Count:N0} {unit} → {train} ({split.Train.Count:N0}), {valid} ({split.Validation.Count:N0}); seed {seed}"));
        return 0;
    }

    private static int StartOfJson(string path)
    {
        using var fs = File.OpenRead(path);
        Span<byte> bom = stackalloc byte[3];
        return fs.Read(bom) == 3 && bom.SequenceEqual("\uFEFF"u8) ? 3 : 0;
    }

    private static string Relative(string dir, string image) => Path.GetRelativePath(dir, image).Replace('\\', '/');

    private static void WriteLlava(string file, IReadOnlyList<int> indices, JsonElement[] samples, TrainingSet set, string dir) =>
        AtomicFile.Write(file, s =>
        {
            using var w = new Utf8JsonWriter(s, WriterOptions with { Indented = true });
            w.WriteStartArray();
            foreach (int i in indices)
            {
                w.WriteStartObject();
                foreach (JsonProperty p in samples[i].EnumerateObject())
                {
                    if (p.NameEquals("image") && set.ImagePathOf(i) is { } image) w.WriteString("image", Relative(dir, image));
                    else p.WriteTo(w);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });

    private static void WriteCaptions(string file, IReadOnlyList<int> indices, CaptionDataset data, string dir) =>
        AtomicFile.Write(file, s =>
        {
            foreach (int i in indices)
            {
                CaptionItem item = data.Items[i];
                using (var w = new Utf8JsonWriter(s, WriterOptions))
                {
                    w.WriteStartObject();
                    w.WriteString("id", item.Id);
                    w.WriteString("image", Relative(dir, item.ImagePath));
                    w.WriteStartArray("captions");
                    foreach (string c in item.Captions) w.WriteStringValue(c);
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                s.WriteByte((byte)'\n');
            }
        });
}
