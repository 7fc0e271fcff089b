// `furnace imatrix`: an importance matrix from calibration text, in the GGUF format llama.cpp's llama-imatrix writes
// (Furnace.Quantization.ImatrixCollector), for `furnace quantize --imatrix` or llama-quantize --imatrix.
using System.CommandLine;
using Furnace.Evaluation.Perplexity;
using Furnace.Models;
using Furnace.Quantization;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class ImatrixCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "The decoder (.gguf, ideally F16/F32, or a Hugging Face directory)", Required = true };
        var file = new Option<string>("--file", "-f") { Description = "Calibration text (UTF-8)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output imatrix .gguf (written atomically)", Required = true };
        var ctxSize = new Option<int>("--ctx", "-c") { Description = "Tokens per chunk (llama-imatrix's n_ctx)", DefaultValueFactory = _ => 512 };
        var chunks = new Option<int?>("--chunks") { Description = "At most this many chunks (default: all the text gives)" };
        var threads = new Option<int>("--threads", "-t") { Description = "Threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing output file" };
        var cmd = new Command("imatrix", "Compute an importance matrix (llama.cpp's imatrix GGUF) from calibration text.\n\nExamples:\n  furnace imatrix --model model-f16.gguf --file calibration.txt --out model.imatrix.gguf --chunks 100\n  furnace quantize --in model-f16.gguf --out model-iq4_xs.gguf --type IQ4_XS --imatrix model.imatrix.gguf")
        {
            model, file, output, ctxSize, chunks, threads, force,
        };
        cmd.SetAction(r => Cli.Run(() => Run(r.GetValue(model)!, r.GetValue(file)!, r.GetValue(output)!, r.GetValue(ctxSize), r.GetValue(chunks), r.GetValue(threads), r.GetValue(force))));
        return cmd;
    }

    private static int Run(string modelPath, string file, string output, int nCtx, int? chunks, int threads, bool force)
    {
        if (!File.Exists(file)) throw new FurnaceException($"{file}: no such file");
        if (File.Exists(output) && !force) throw new FurnaceException($"{output} exists (add --force to overwrite)");
        if (threads < 1) throw new FurnaceException($"--threads {threads}: give at least 1");
        using var lm = LanguageModel.Open(modelPath);
        int[] tokens = TextPerplexity.Tokenize(lm.Tokenizer, File.ReadAllText(file));
        var collector = new ImatrixCollector();
        using var ctx = new KernelContext(threads);
        int nChunk = Math.Min(chunks ?? int.MaxValue, tokens.Length / Math.Max(nCtx, 1));
        Console.Error.WriteLine($"imatrix: {file}: {tokens.Length} tokens; {nChunk} chunks, n_ctx={nCtx}");
        var progress = new ProgressLine(Math.Max(nChunk, 0), 0, "chunks");
        int done = collector.Run(lm.Model, tokens, TextPerplexity.ChunkBos(lm.Tokenizer), nCtx, chunks, ctx, (d, _) => progress.Report(d));
        var stats = collector.Stats();
        ImportanceMatrix.WriteGguf(output, stats, [Path.GetFileName(file)], done, nCtx);
        Console.WriteLine($"wrote {output} ({stats.Count} tensors, {done} chunks of {nCtx} tokens)");
        return 0;
    }
}
