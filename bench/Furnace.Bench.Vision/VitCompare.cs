// ViT image encode, Furnace vs ONNX Runtime and llama.cpp, same weights, same machine, one run, engines alternating
// process by process (DESIGN.md's performance method):
//   Furnace.Bench.Vision compare [--shapes b32,l14-336,siglip-l16-384] [--engines onnx,llama.cpp] [--threads 2]
//       [--runs 3] [--rounds 2] [--batch 1] [--idle-wait 60] [--dir DIR] [--furnace PATH] [--python /usr/bin/python3] [--jsonl FILE]
// Per shape, once (cached in DIR): bench/clip_onnx_export.py writes a random-weight CLIPVisionModelWithProjection
// directory and its ONNX export traced from the PyTorch reference; the harness checks that Furnace (the directory)
// and ONNX Runtime (the .onnx) give the reference's embedding of the export's example input (max |diff| printed);
// a LLaVA-style vision checkpoint of the same shape (RandomClip, mlp2x_gelu projector of the tower's width) is
// converted to an mmproj GGUF for llama.cpp. Each round runs, each as a fresh process with its own untimed warm-up
// and the Reps method (idle gate, disturbed reps redone): `furnace bench vision --model DIR` and `onnx-peer` on the
// .onnx (image_embeds: the whole tower + post-norm + projection), then `furnace bench vision --model mmproj.gguf`
// and `clip-peer` (llama.cpp's mtmd_encode_chunk) on the mmproj (LLaVA features: the layers up to -2 + projector).
// Prints two markdown tables of medians over every timed rep of an engine; every child's JSON line goes to --jsonl.
using System.Globalization;
using System.Text.Json;
using Furnace.Models.Clip;
using Furnace.Models.Llama;
using Furnace.Tensors;

internal static class VitCompare
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        string Arg(string name, string def)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : def;
        }
        string root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
        string furnace = Arg("--furnace", Path.Combine(root, "src", "Furnace.Cli", "bin", "Release", "net10.0", "furnace"));
        string python = Arg("--python", "/usr/bin/python3");
        string export = Path.Combine(root, "bench", "clip_onnx_export.py");
        string dir = Arg("--dir", Path.Combine(Path.GetTempPath(), "furnace-vision-bench"));
        string? jsonl = args.Contains("--jsonl") ? Arg("--jsonl", "") : null;
        string threads = Arg("--threads", "2"), runs = Arg("--runs", "3"), idle = Arg("--idle-wait", "60"), batch = Arg("--batch", "1");
        int rounds = int.Parse(Arg("--rounds", "2"), Inv);
        string[] engines = Arg("--engines", "onnx,llama.cpp").Split(',');
        string self = Environment.ProcessPath!;
        Directory.CreateDirectory(dir);

        var embedRows = new List<string>();
        var llavaRows = new List<string>();
        var notes = new List<string>();
        foreach (string shape in Arg("--shapes", "b32,l14-336,siglip-l16-384").Split(','))
        {
            string hf = Path.Combine(dir, shape), onnx = Path.Combine(hf, "model.onnx");
            if (!File.Exists(onnx))
            {
                Console.Error.WriteLine($"exporting {shape} to {hf}");
                if (ChildJson.Run(python, [export, "--shape", shape, "--out", hf]) == null) throw new InvalidOperationException($"{export} failed for {shape}");
            }
            ClipVisionConfig v = ClipConfig.FromHuggingFace(hf).Vision;
            int size = v.ImageSize;
            string image = Path.Combine(dir, $"image-{size}.bmp");
            if (!File.Exists(image)) BenchImage.WriteBmp(image, size);
            notes.Add($"{shape}: {SameWeights(hf, onnx, size)}");
            Console.Error.WriteLine(notes[^1]);

            string? mmproj = null, text = null;
            if (engines.Contains("llama.cpp"))
            {
                try
                {
                    (mmproj, text) = Mmproj(dir, shape, v);
                }
                catch (Exception e) when (e is Furnace.FurnaceException or IOException)
                {
                    notes.Add($"{shape}: no mmproj for llama.cpp ({e.Message})");
                    Console.Error.WriteLine(notes[^1]);
                }
            }

            var ours = new List<JsonElement>();
            var ort = new List<JsonElement>();
            var oursLlava = new List<JsonElement>();
            var llama = new List<JsonElement>();
            string[] common = ["--threads", threads, "--runs", runs, "--idle-wait", idle];
            for (int r = 0; r < rounds; r++)
            {
                var tags = new Dictionary<string, object> { ["bench"] = "vision", ["shape"] = shape, ["round"] = r + 1 };
                void Add(List<JsonElement> into, JsonElement? run, string workload)
                {
                    if (run is not { } e) return;
                    into.Add(e);
                    ChildJson.Append(jsonl, e, new Dictionary<string, object>(tags) { ["workload"] = workload });
                }
                Add(ours, ChildJson.Run(furnace, ["bench", "vision", "--model", hf, "--image", image, "--batch", batch, "--json", .. common]), "image_embeds");
                if (engines.Contains("onnx"))
                    Add(ort, ChildJson.Run(self, ["onnx-peer", "--model", onnx, "--size", $"{size}", "--batch", batch, .. common]), "image_embeds");
                if (mmproj != null)
                {
                    Add(oursLlava, ChildJson.Run(furnace, ["bench", "vision", "--model", mmproj, "--image", image, "--json", .. common]), "llava_features");
                    Add(llama, ChildJson.Run(self, ["clip-peer", "--mmproj", mmproj, "--text", text!, "--size", $"{size}", .. common]), "llava_features");
                }
                Console.Error.WriteLine($"{shape} round {r + 1}: furnace {ChildJson.F(ChildJson.Median(ours, "ms_per_image"))} ms, onnxruntime {ChildJson.F(ChildJson.Median(ort, "ms_per_image"))} ms; " +
                    $"LLaVA features: furnace {ChildJson.F(ChildJson.Median(oursLlava, "ms_per_image"))} ms, llama.cpp {ChildJson.F(ChildJson.Median(llama, "ms_per_image"))} ms (medians so far)");
            }
            string name = shape switch
            {
                "b32" => "ViT-B/32 @224",
                "l14-336" => "ViT-L/14 @336",
                "siglip-l16-384" => "SigLIP-L/16 @384 shape",
                _ => $"{shape} @{size}",
            };
            embedRows.Add(Row($"{name} ({v.Layers} layers + projection)", ours, ort));
            if (mmproj != null) llavaRows.Add(Row($"{name} ({v.Layers - 1} of {v.Layers} layers + mlp2x_gelu)", oursLlava, llama));
        }

        Console.WriteLine($"threads {threads}, batch {batch}; {rounds} alternating processes per engine, each 1 untimed + {runs} timed encodes, medians; " +
            $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end");
        Console.WriteLine();
        Console.WriteLine("image_embeds (`furnace bench vision --model DIR` vs ONNX Runtime on the torch.onnx export of the same weights):");
        Console.WriteLine();
        Console.WriteLine("| encoder | Furnace ms/image | ONNX Runtime ms/image | speed ratio (ORT ms / Furnace ms) | GFLOP/s Furnace | ONNX Runtime | others' CPU % (worst rep) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (string row in embedRows) Console.WriteLine(row);
        if (llavaRows.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("LLaVA image features (`furnace bench vision --model mmproj.gguf` vs llama.cpp's mtmd encoder on the same file):");
            Console.WriteLine();
            Console.WriteLine("| encoder | Furnace ms/image | llama.cpp ms/image | speed ratio (llama.cpp ms / Furnace ms) | GFLOP/s Furnace | llama.cpp | others' CPU % (worst rep) |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (string row in llavaRows) Console.WriteLine(row);
        }
        Console.WriteLine();
        foreach (string n in notes) Console.WriteLine($"- {n}");
        return 0;
    }

    // medians over every rep; the peer's GFLOP/s from the FLOPs Furnace counted for the same workload
    private static string Row(string name, List<JsonElement> ours, List<JsonElement> peer)
    {
        double mo = ChildJson.Median(ours, "ms_per_image"), mp = ChildJson.Median(peer, "ms_per_image");
        double gflop = ours.Count > 0 ? ours[0].GetProperty("gflop_per_image").GetDouble() : double.NaN;
        return $"| {name} | {ChildJson.F(mo)} | {ChildJson.F(mp)} | **{ChildJson.F(mp / mo, "F2")}** | {ChildJson.F(gflop * 1000 / mo)} | {ChildJson.F(gflop * 1000 / mp)} | {ChildJson.F(ChildJson.WorstShare([.. ours, .. peer]))} |";
    }

    // Furnace's and ONNX Runtime's image_embeds of the export's example input against the PyTorch reference's
    private static string SameWeights(string hf, string onnx, int size)
    {
        byte[] raw = File.ReadAllBytes(Path.Combine(hf, "example.f32"));
        var pixels = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, pixels, 0, raw.Length);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(hf, "example.json")));
        float[] expected = doc.RootElement.GetProperty("image_embeds").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        float[] ours;
        using (var tower = ClipVisionTower.Load(hf))
        using (var ctx = new KernelContext(Environment.ProcessorCount))
            ours = tower.EncodeImages(pixels, 1, ctx);
        float[] ort = OnnxPeer.Embed(onnx, pixels, size);
        static double MaxDiff(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();
        double scale = expected.Max(x => Math.Abs((double)x));
        return string.Create(Inv, $"same weights: max |Furnace − PyTorch| {MaxDiff(ours, expected):E1}, max |ONNX Runtime − PyTorch| {MaxDiff(ort, expected):E1} (embedding max |x| {scale:F2})");
    }

    // a LLaVA-style vision checkpoint of the shape (mlp2x_gelu projector of the tower's width), as an f32 mmproj, and
    // the small text model llama.cpp's mtmd needs beside it
    private static (string Mmproj, string Text) Mmproj(string dir, string shape, ClipVisionConfig v)
    {
        string llava = Path.Combine(dir, shape + "-llava"), mmproj = Path.Combine(dir, shape + "-mmproj-f32.gguf"), text = Path.Combine(dir, shape + "-text.gguf");
        if (!File.Exists(Path.Combine(llava, "config.json"))) RandomClip.WriteLlavaVision(llava, v, textDim: v.HiddenSize, seed: 1);
        if (!File.Exists(mmproj)) ClipMmprojExport.FromHuggingFace(llava, mmproj, DType.F32);
        if (!File.Exists(text))
            RandomLlama.WriteGguf(text, LlamaConfig.Preset("test-tiny") with { Dim = v.HiddenSize, Heads = v.HiddenSize / 64, KvHeads = v.HiddenSize / 64, HeadDim = 64, Layers = 1 }, DType.F32, 1);
        return (mmproj, text);
    }
}
