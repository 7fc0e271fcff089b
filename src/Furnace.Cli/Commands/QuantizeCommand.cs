// `furnace quantize`: a GGUF (F32/F16/BF16 weights), a Hugging Face decoder directory or a LLaVA directory -> a GGUF with
// one of llama-quantize's recipes (Q4_K_M, Q5_K_S, IQ4_XS, …), byte-identical with llama.cpp's output
// (Furnace.Quantization.GgufQuantizer), optionally weighted by an importance matrix (llama.cpp's imatrix .gguf or .dat).
// Directories are first converted to a temporary GGUF in the output's folder (in their own float type, so nothing is
// rounded twice) that is removed afterwards; the output itself is written to a temp file and renamed.
using System.CommandLine;
using System.Globalization;
using Furnace.Formats.Gguf;
using Furnace.Formats.HfConfig;
using Furnace.Formats.SafeTensors;
using Furnace.Models.Llama;
using Furnace.Models.Vlm;
using Furnace.Quantization;
using Furnace.Quantization.Gptq;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class QuantizeCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--in") { Description = "Input: a GGUF with F32/F16/BF16 weights, a Hugging Face decoder directory, or a LLaVA directory", Required = true };
        var output = new Option<string>("--out") { Description = "Output .gguf file (written to a temp file beside it, then renamed)", Required = true };
        var type = new Option<string>("--type") { Description = $"llama-quantize recipe: {QuantFileTypes.Names}", Required = true };
        var pure = new Option<bool>("--pure") { Description = "Every quantizable tensor gets the recipe's default type (no per-tensor rules; row-length fallbacks still apply)" };
        var imatrix = new Option<string?>("--imatrix") { Description = "Importance matrix from llama-imatrix or `furnace imatrix` (.gguf or legacy .dat)" };
        var threads = new Option<int>("--threads") { Description = "Threads encoding rows (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing output file" };
        var method = new Option<string>("--method") { Description = "rtn (round to nearest, llama-quantize's) or gptq (Frantar et al. 2022: layer linears chosen by the recipe get GPTQ codes on the same block grids)", DefaultValueFactory = _ => "rtn" };
        var calibration = new Option<string?>("--calibration") { Description = "GPTQ: a UTF-8 text file (cut into --calib-samples windows of --calib-ctx tokens), or for a LLaVA directory a caption dataset (.json COCO, .jsonl, folder: --calib-samples image+caption sequences)" };
        var calibSamples = new Option<int>("--calib-samples") { Description = "GPTQ: calibration windows (seeded random offsets)", DefaultValueFactory = _ => 128 };
        var calibCtx = new Option<int>("--calib-ctx") { Description = "GPTQ: tokens per calibration window (default: the model's context, at most 512)", DefaultValueFactory = _ => 0 };
        var damp = new Option<double>("--damp") { Description = "GPTQ: dampening, a fraction of mean(diag H) added to diag H", DefaultValueFactory = _ => 0.01 };
        var actOrder = new Option<bool>("--act-order") { Description = "GPTQ: quantize columns by descending diag H (block scales then come from the original weights)" };
        var gptqBlock = new Option<int>("--gptq-block") { Description = "GPTQ: columns per lazy batch update", DefaultValueFactory = _ => 128 };
        var cmd = new Command("quantize", "Quantize a model with llama-quantize's recipes (byte-identical with llama.cpp).\n\nExamples:\n  furnace quantize --in model-f16.gguf --out model-q4_k_m.gguf --type Q4_K_M\n  furnace quantize --in ./deepseek-llm-7b-chat --out ds-7b-iq4_xs.gguf --type IQ4_XS --imatrix ds-7b.imatrix.gguf\n  furnace quantize --in ./llava-1.5-7b-hf --out llava-decoder-q5_k_m.gguf --type Q5_K_M\n  furnace quantize --in model-f16.gguf --out model-gptq-q4_0.gguf --type Q4_0 --method gptq --calibration wiki.txt")
        {
            input,
            output,
            type,
            pure,
            imatrix,
            threads,
            force,
            method,
            calibration,
            calibSamples,
            calibCtx,
            damp,
            actOrder,
            gptqBlock,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            GptqRequest? gptq = Gptq(r.GetValue(method)!, r.GetValue(calibration), r.GetValue(calibSamples), r.GetValue(calibCtx), r.GetValue(damp), r.GetValue(actOrder), r.GetValue(gptqBlock));
            if (gptq != null && r.GetValue(imatrix) != null) throw new FurnaceException("--imatrix applies to --method rtn (GPTQ weighs columns by its own calibration Hessian)");
            return Run(r.GetValue(input)!, r.GetValue(output)!, r.GetValue(type)!, r.GetValue(pure), r.GetValue(imatrix), r.GetValue(threads), r.GetValue(force), gptq);
        }));
        return cmd;
    }

    private sealed record GptqRequest(GptqCalibrationOptions Calibration, GptqOptions Options);

    // --method and the GPTQ options -> a request (null for rtn); GPTQ options without gptq are an error, not ignored
    private static GptqRequest? Gptq(string method, string? calibration, int samples, int ctx, double damp, bool actOrder, int block)
    {
        if (method == "rtn")
        {
            if (calibration != null || actOrder) throw new FurnaceException("--calibration and --act-order apply to --method gptq");
            return null;
        }
        if (method != "gptq") throw new FurnaceException($"--method '{method}' is not rtn or gptq");
        if (calibration == null) throw new FurnaceException("--method gptq needs --calibration FILE (a text file)");
        if (!File.Exists(calibration) && !Directory.Exists(calibration)) throw new FurnaceException($"{calibration}: calibration file not found");
        var o = new GptqOptions { Damp = damp, ActOrder = actOrder, BlockSize = block };
        o.Validate();
        return new GptqRequest(new GptqCalibrationOptions { Path = calibration, Samples = samples, Length = ctx }, o);
    }

    private static int Run(string input, string output, string typeName, bool pure, string? imatrixPath, int threads, bool force, GptqRequest? gptq)
    {
        if (!QuantFileTypes.TryParse(typeName, out QuantFileType ftype))
            throw new FurnaceException($"--type '{typeName}' is not a recipe (one of {QuantFileTypes.Names})");
        if (threads < 1) throw new FurnaceException($"--threads {threads}: give at least 1");
        if (File.Exists(output) && !force) throw new FurnaceException($"{output} exists (add --force to overwrite)");
        if (!File.Exists(input) && !Directory.Exists(input)) throw new FurnaceException($"{input}: no such file or directory");
        ImportanceMatrix? im = imatrixPath == null ? null : ImportanceMatrix.Load(imatrixPath);

        string? converted = null;
        string note = "";
        try
        {
            string gguf = input;
            bool llava = Directory.Exists(input) && IsLlava(input);
            if (Directory.Exists(input))
            {
                (gguf, note) = ConvertDirectory(input, output);
                converted = gguf;
            }
            else if (!GgufFile.HasMagic(input)) throw new FurnaceException($"{input}: not a GGUF file or a model directory");

            var extra = new List<KeyValuePair<string, GgufValue>>();
            if (im != null)
            {
                // what llama-quantize records about the imatrix (tools/quantize: quantize.imatrix.*)
                extra.Add(new("quantize.imatrix.file", GgufValue.Of(imatrixPath!)));
                if (im.Datasets.Count > 0) extra.Add(new("quantize.imatrix.dataset", GgufValue.Of(im.Datasets[0])));
                extra.Add(new("quantize.imatrix.entries_count", GgufValue.Of(im.Values.Count)));
                extra.Add(new("quantize.imatrix.chunks_count", GgufValue.Of(im.ChunkCount)));
            }
            var options = new QuantizeOptions(ftype) { Pure = pure, Imatrix = im, Threads = threads, ExtraMetadata = extra };
            if (gptq != null) options = options with { PreEncoded = RunGptq(gguf, llava ? input : null, options, gptq, threads) };
            // progress in millions of weights encoded (the total is known once the plan is made)
            ProgressLine? progress = null;
            QuantizeSummary s;
            try
            {
                s = GgufQuantizer.Quantize(gguf, output, options, (done, total, name) =>
                {
                    progress ??= new ProgressLine((int)Math.Max(1, total / 1_000_000), 0, "M weights");
                    progress.Report(done == total ? (int)Math.Max(1, total / 1_000_000) : (int)(done / 1_000_000), name);
                });
            }
            catch
            {
                progress?.Break(); // the error starts on its own line
                throw;
            }
            Report(output, ftype, s, im, note);
            return 0;
        }
        finally
        {
            if (converted != null) File.Delete(converted);
        }
    }

    // GPTQ for the layer linears the recipe re-encodes to a type GPTQ has a grid for; the rest stays on the RTN path
    // COCO captions .json, .jsonl or a folder of images with .txt captions (what `furnace eval --data` reads)
    private static bool IsCaptionDataset(string path) =>
        Directory.Exists(path) || Path.GetExtension(path).ToLowerInvariant() is ".json" or ".jsonl";

    private static Dictionary<string, EncodedTensor> RunGptq(string gguf, string? llavaDir, QuantizeOptions options, GptqRequest gptq, int threads)
    {
        Dictionary<string, DType> planned;
        using (var f = GgufFile.Open(gguf))
            planned = GgufQuantizer.Plan(f, options).Where(e => e.Reencode).ToDictionary(e => e.Source.Name, e => e.Type, StringComparer.Ordinal);
        using var ctx = new KernelContext(threads);
        DType? TypeFor(string name) => planned.TryGetValue(name, out DType t) ? t : null;
        void Progress(string what) => Console.Error.WriteLine($"gptq {what}");
        Dictionary<string, GptqResult> results;
        if (IsCaptionDataset(gptq.Calibration.Path))
        {
            // a caption dataset calibrates a LLaVA directory's decoder on image + instruction + caption sequences
            if (llavaDir == null) throw new FurnaceException($"{gptq.Calibration.Path}: a caption dataset calibrates a LLaVA directory (--in); give a text file for a decoder");
            List<float[]> inputs;
            using (var vlm = LlavaModel.Load(llavaDir))
                inputs = GptqCaptionCalibration.Sequences(vlm, gptq.Calibration.Path, gptq.Calibration.Samples, gptq.Calibration.Seed, ctx);
            results = GptqModel.Gguf(gguf, TypeFor, inputs, gptq.Options, ctx, Progress);
        }
        else results = GptqModel.Gguf(gguf, TypeFor, gptq.Calibration, gptq.Options, ctx, Progress);
        Console.Error.WriteLine($"gptq: {results.Count} tensors (damp {gptq.Options.Damp}, block {gptq.Options.BlockSize}{(gptq.Options.ActOrder ? ", act-order" : "")})");
        return results.ToDictionary(kv => kv.Key, kv => new EncodedTensor(kv.Value.Type, () => kv.Value.Data), StringComparer.Ordinal);
    }

    private static bool IsLlava(string dir)
    {
        string config = Path.Combine(dir, "config.json");
        if (!File.Exists(config)) return false;
        var raw = HfConfigFile.Read(config);
        return raw.ModelType == "llava" || raw.Architectures?.FirstOrDefault() == "LlavaForConditionalGeneration";
    }

    // a Hugging Face or LLaVA directory -> a hidden temporary GGUF in the output's folder, in the checkpoint's float type
    private static (string Path, string Note) ConvertDirectory(string dir, string output)
    {
        string config = Path.Combine(dir, "config.json");
        if (!File.Exists(config)) throw new FurnaceException($"{dir}: no config.json (not a Hugging Face model directory)");
        var raw = HfConfigFile.Read(config);
        bool llava = raw.ModelType == "llava" || raw.Architectures?.FirstOrDefault() == "LlavaForConditionalGeneration";
        DType type;
        using (var source = SafeTensorsCheckpoint.Open(dir))
            type = source.Entries.Select(e => e.Type).FirstOrDefault(t => t is DType.F32 or DType.F16 or DType.BF16, DType.F32);
        string folder = Path.GetDirectoryName(Path.GetFullPath(output)) ?? ".";
        string tmp = Path.Combine(folder, $".{Path.GetFileName(output)}.{Environment.ProcessId}.convert.gguf");
        Console.Error.WriteLine($"converting {dir} to GGUF ({DTypes.Name(type)}) first");
        try
        {
            HfToGgufConverter.Convert(dir, tmp, type);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
        string note = llava ? $"; decoder only: the vision tower and projector stay in {dir} (compose them with --vision and --projector)" : "";
        return (tmp, note);
    }

    private static void Report(string output, QuantFileType ftype, QuantizeSummary s, ImportanceMatrix? im, string note)
    {
        var inv = CultureInfo.InvariantCulture;
        string types = string.Join(", ", s.TensorsPerType.OrderByDescending(kv => kv.Value).Select(kv => $"{DTypes.Name(kv.Key)} {kv.Value}"));
        Console.Error.WriteLine(string.Create(inv, $"size {s.BytesBefore / 1048576.0:F2} MiB -> {s.BytesAfter / 1048576.0:F2} MiB, {s.BitsPerWeight:F2} bits per weight ({s.Elements / 1e6:F1}M weights)"));
        Console.Error.WriteLine($"tensors: {types}");
        if (im != null)
            Console.Error.WriteLine($"imatrix: {s.ImatrixUsed} tensors weighted{(s.ImatrixMissing.Count > 0 ? $", {s.ImatrixMissing.Count} without an entry (first: {s.ImatrixMissing[0]})" : "")}");
        Console.WriteLine($"wrote {output} ({QuantFileTypes.Name(ftype)}){note}");
    }
}
