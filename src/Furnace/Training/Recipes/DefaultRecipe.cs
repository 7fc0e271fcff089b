// `furnace train --recipe default`: the recipe of the captioner shipped in models/ (docs/training.md, "The default
// model recipe"). Everything from package-served data, seeded:
//   1. datasets   `data build` scenes / emoji-google / flags into DATA (reused when already built)
//   2. samples    LLaVA JSON: per image one English sample (its first caption, the CaptionInstruction.English instruction)
//                 and, for every other image where the data has one, a Chinese sample (first captions_zh,
//                 CaptionInstruction.Chinese)
//   3. tokenizer  byte-level BPE (BpeTrainer) on all training captions (both languages) and both instructions
//   4. init       ScratchLlava: frozen ResNet18 grid (49 × 512) → mlp2x_gelu → a small Llama from scratch
//   5. stage 1    "joint": projector and the whole decoder from scratch on the image samples. LLaVA's stage 1 (projector
//                 only, decoder frozen) needs a decoder that already knows language; measured here, a decoder
//                 pretrained on the caption text never learns to read the image tokens (held-out object recall 1 %,
//                 background right 28 % after 200 steps; from scratch 63 % background after 200, objects from ~600)
//   6. stage 2    "lora": projector + LoRA on the decoder (LLaVA stage 2); each stage writes an HF LLaVA directory
//   7. OUT/model  the final directory (LoRA merged), OUT/model-no-lora the stage-1 one, for the comparison table
// The held-out scenes (scenes/eval.jsonl) are never trained on; COCO is never touched.
using System.Text.Json;
using System.Text.Json.Nodes;
using Furnace.Data;
using Furnace.Data.Builders;
using Furnace.Formats.Tokenizers;
using Furnace.IO;
using Furnace.Models.Llama;
using Furnace.Models.Projectors;
using Furnace.Models.Vlm;

namespace Furnace.Training.Recipes;

public sealed record DefaultRecipe
{
    public const string Name = "default";

    /// <summary>Where the datasets are (built there when missing).</summary>
    public required string DataDir { get; init; }

    public required string Out { get; init; }

    public ulong Seed { get; init; } = 7;

    public int Threads { get; init; }

    /// <summary>Training scenes built when the scenes dataset is missing (plus a tenth held out).</summary>
    public int Scenes { get; init; } = 10000;

    /// <summary>Objects the scenes use (SceneVocabulary.Choose: common ones first), so each is seen in about
    /// Scenes × 1.7 / Objects training scenes.</summary>
    public int Objects { get; init; } = 100;

    /// <summary>Object datasets mixed in with the scenes (one object on white, real names). Permissive licences only
    /// (Apache-2.0, MIT; the scenes are CC BY-SA 4.0), so the shipped weights carry no copyleft-software terms:
    /// tuxpaint (GPL-2.0-or-later) is left out.</summary>
    public IReadOnlyList<string> ObjectSets { get; init; } = ["emoji-google", "flags"];

    /// <summary>Most images taken from each object dataset (spread evenly), to bound the run's time.</summary>
    public int ObjectLimit { get; init; } = 800;

    /// <summary>Most training scenes used.</summary>
    public int SceneLimit { get; init; } = 10000;

    public int VocabSize { get; init; } = 4096;

    public int Dim { get; init; } = 256;

    public int Layers { get; init; } = 4;

    public int Heads { get; init; } = 4;

    public int FfnDim { get; init; } = 704;

    public int Context { get; init; } = 128;

    public int JointSteps { get; init; } = 2000;

    public int LoraSteps { get; init; } = 500;

    public int Batch { get; init; } = 16;

    public int LoraRank { get; init; } = 64;

    /// <summary>Paths of the run's intermediate files.</summary>
    public string WorkDir => Path.Combine(Out, "work");

    public string InitDir => Path.Combine(WorkDir, "init");

    public string ImagesJson => Path.Combine(WorkDir, "images.json");

    /// <summary>The held-out scenes: the eval set of the model card.</summary>
    public string EvalJsonl => Path.Combine(DataDir, "scenes", "eval.jsonl");

    /// <summary>Where the training run writes its stages.</summary>
    public string RunDir => Path.Combine(WorkDir, "run");

    /// <summary>Steps 1–4; returns the training config (stage 1 joint, stage 2 LoRA).</summary>
    public string Prepare(Action<string> log, Action<int, int>? progress = null)
    {
        Directory.CreateDirectory(WorkDir);
        var packages = new PackageCache(PackageCache.DefaultRoot, log);
        CaptionDataset Ensure(string name, int? limit, int? objects = null)
        {
            string dir = Path.Combine(DataDir, name);
            if (!File.Exists(Path.Combine(dir, "captions.jsonl")))
            {
                log($"recipe: building dataset {name} into {dir}");
                DatasetBuilders.Get(name).Build(new DatasetBuildRequest(dir, packages, 224, limit, Force: false, Seed: 1)
                {
                    Log = log,
                    Progress = progress ?? ((_, _) => { }),
                    Threads = Threads > 0 ? Threads : Environment.ProcessorCount,
                    Objects = objects,
                });
            }
            else if (objects is int want && ManifestNumber(dir, "objects") is int built && built != want)
            {
                throw new FurnaceException($"{dir}: built with {built} scene objects, the recipe uses {want}: remove it to rebuild, or point --data elsewhere");
            }
            return CaptionDataset.LoadJsonl(Path.Combine(dir, "captions.jsonl"));
        }

        var items = new List<CaptionItem>();
        var scenes = Ensure("scenes", Scenes, Objects);
        items.AddRange(Spread(scenes.Items, SceneLimit));
        foreach (string set in ObjectSets) items.AddRange(Spread(Ensure(set, null).Items, ObjectLimit));
        log($"recipe: {items.Count} training images ({Math.Min(scenes.Count, SceneLimit)} scenes, the rest single objects), {items.Count(i => i.CaptionsZh is { Count: > 0 })} with Chinese captions");

        // samples
        var images = new JsonArray();
        var bpe = new BpeTrainer { VocabSize = VocabSize };
        bpe.Add(CaptionInstruction.English);
        bpe.Add(CaptionInstruction.Chinese);
        bpe.Add("USER: ASSISTANT:");
        int n = 0;
        foreach (var item in items)
        {
            string image = Path.GetFullPath(item.ImagePath);
            images.Add(Sample($"{n}-en", image, CaptionInstruction.English, item.Captions[0]));
            // Chinese for every other image: both languages learn from every kind of picture at 1.5 samples per image
            if (n % 2 == 0 && item.CaptionsZh is { Count: > 0 } zh) images.Add(Sample($"{n}-zh", image, CaptionInstruction.Chinese, zh[0]));
            foreach (string c in item.Captions) bpe.Add(c);
            foreach (string c in item.CaptionsZh ?? []) bpe.Add(c);
            n++;
        }
        WriteJson(ImagesJson, images);
        log($"recipe: {images.Count} image samples");

        // tokenizer + fresh model
        if (Directory.Exists(InitDir)) Directory.Delete(InitDir, recursive: true);
        int vocab = bpe.Write(InitDir, Context);
        var tokenizer = Tokenizer.Open(InitDir);
        int imageToken = tokenizer.TokenId(LlavaModel.ImagePlaceholder) ?? throw new FurnaceException("the trained tokenizer has no <image> token");
        log($"recipe: BPE tokenizer of {vocab} tokens ({bpe.WordCount} distinct words)");
        var text0 = new LlamaConfig
        {
            Architecture = "llama",
            Dim = Dim,
            Layers = Layers,
            Heads = Heads,
            KvHeads = Heads,
            HeadDim = Dim / Heads,
            FfnDim = FfnDim,
            VocabSize = vocab, // exactly the tokenizer's: a padded row could be generated and not decode
            MaxPositions = Context,
            RmsEps = 1e-5f,
        };
        var config = new LlavaConfig { OnnxVision = new OnnxVisionSpec(), Text = text0, ImageTokenIndex = imageToken, Projector = ProjectorKind.Mlp2xGelu };
        ScratchLlava.Write(InitDir, config, (int)(Seed & int.MaxValue));
        log($"recipe: initial model in {InitDir}: Llama {Dim}-d × {Layers} layers, {text0.ParameterCount:N0} parameters, vocab {text0.VocabSize}");

        // stage 1: projector + decoder from scratch; stage 2: projector + LoRA
        string trainJson = Path.Combine(WorkDir, "train.json");
        WriteJson(trainJson, new JsonObject
        {
            ["model"] = new JsonObject { ["llava"] = InitDir },
            ["data"] = new JsonObject { ["train"] = ImagesJson, ["val_split"] = 100, ["max_length"] = Context },
            ["stages"] = new JsonArray(
                new JsonObject { ["name"] = "joint", ["train"] = new JsonArray("projector", "lm"), ["steps"] = JointSteps, ["lr"] = 1e-3, ["batch"] = Batch, ["warmup"] = 0.05, ["weight_decay"] = 0.01 },
                new JsonObject
                {
                    ["name"] = "lora", ["train"] = new JsonArray("projector", "lora"), ["steps"] = LoraSteps, ["projector_lr"] = 3e-4, ["lora_lr"] = 5e-4, ["batch"] = Batch, ["warmup"] = 0.05,
                    ["lora"] = new JsonObject { ["r"] = LoraRank, ["alpha"] = 2 * LoraRank, ["dropout"] = 0.0, ["target_modules"] = "all-linear" },
                }),
            ["out"] = RunDir,
            ["seed"] = Seed,
            ["threads"] = Threads > 0 ? Threads : Environment.ProcessorCount,
            ["validate_every"] = Math.Max(1, JointSteps / 4),
            ["sample_every"] = Math.Max(1, JointSteps / 4),
            ["sample_images"] = 2,
            ["sample_max_tokens"] = 40,
            ["checkpoint_every"] = 200,
            ["keep"] = 1,
            ["min_lr_ratio"] = 0.1,
        });
        return trainJson;
    }

    /// <summary>Step 7: OUT/model (after LoRA) and OUT/model-no-lora (after stage 1) from the run's stage outputs.</summary>
    public (string Model, string NoLora) Finish()
    {
        string model = Path.Combine(Out, "model"), noLora = Path.Combine(Out, "model-no-lora");
        CopyDir(Path.Combine(RunDir, "lora", "model"), model);
        CopyDir(Path.Combine(RunDir, "joint", "model"), noLora);
        return (model, noLora);
    }

    /// <summary>n items spread evenly over the list (all when it has no more).</summary>
    public static IEnumerable<CaptionItem> Spread(IReadOnlyList<CaptionItem> items, int n)
    {
        if (items.Count <= n) return items;
        return Enumerable.Range(0, n).Select(i => items[(int)((long)i * items.Count / n)]);
    }

    /// <summary>A whole-number field of DIR/dataset.json (null when the file or field is missing).</summary>
    private static int? ManifestNumber(string dir, string field)
    {
        string path = Path.Combine(dir, "dataset.json");
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path))?[field]?.GetValue<int>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new FurnaceException($"{path}: not a dataset manifest ({e.Message})");
        }
    }

    private static JsonObject Sample(string id, string? image, string instruction, string answer)
    {
        var o = new JsonObject { ["id"] = id };
        if (image != null) o["image"] = image;
        o["conversations"] = new JsonArray(
            new JsonObject { ["from"] = "human", ["value"] = (image != null ? LlavaModel.ImagePlaceholder + "\n" : "") + instruction },
            new JsonObject { ["from"] = "gpt", ["value"] = answer });
        return o;
    }

    private static void WriteJson(string path, JsonNode node) =>
        AtomicFile.Write(path, s =>
        {
            using var w = new Utf8JsonWriter(s, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            node.WriteTo(w);
        });

    private static void CopyDir(string from, string to)
    {
        if (!Directory.Exists(from)) throw new FurnaceException($"{from}: missing (the training run did not finish)");
        if (Directory.Exists(to)) Directory.Delete(to, recursive: true);
        Directory.CreateDirectory(to);
        foreach (string f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }
}
