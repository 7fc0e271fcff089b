// `furnace perplexity`: llama.cpp's perplexity tool (tools/perplexity/perplexity.cpp, ggml-org/llama.cpp @
// 050fc7f32de16858ac667d775b43a51ed8976e6f) for a decoder over a text (--file: the same chunks, scoring and "Final
// estimate" line; --kl-divergence BASE runs the base model live over the same chunks), or the caption perplexity of
// a vision-language model over a caption set (--data: the training objective's NLL of every reference caption).
// Progress on stderr; --json prints one object on stdout.
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Furnace.Data;
using Furnace.Evaluation.Perplexity;
using Furnace.Formats.Images;
using Furnace.Models;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class PerplexityCommand
{
    private const int DefaultContext = 512; // llama-perplexity's default -c

    public static Command Create()
    {
        var vlm = new VlmOptions();
        vlm.Model.Description = "With --file: the decoder (.gguf file or Hugging Face directory). With --data: a LLaVA directory, or the decoder with --vision and --projector (default: the embedded models/furnace-captioner-tiny)";
        var file = new Option<string?>("--file", "-f") { Description = "A text file: perplexity by llama.cpp's method (non-overlapping chunks of --ctx tokens, second half of each scored)" };
        var data = new Option<string?>("--data") { Description = "A caption set (COCO captions JSON, captions JSONL or a folder, as `furnace eval` takes): caption perplexity" };
        var ctxSize = new Option<int?>("--ctx", "-c") { Description = $"--file: tokens per chunk (default {DefaultContext}, at most the model's context)" };
        var chunks = new Option<int?>("--chunks") { Description = "--file: most chunks to score (default: all)" };
        var batch = new Option<int>("--batch", "-b") { Description = "--file: tokens per forward call within a chunk (default: the whole chunk)", DefaultValueFactory = _ => 0 };
        var kl = new Option<string?>("--kl-divergence") { Description = "--file: a base model (e.g. the F32 original) to compare against: KL(base ‖ model) per scored token and top-token agreement" };
        var lang = new Option<string>("--lang") { Description = "--data: instruction language (en, zh; zh scores the Chinese references)", DefaultValueFactory = _ => "en" };
        var prompt = new Option<string?>("--prompt", "-p") { Description = $"--data: instruction instead of the default (\"{CaptionInstruction.English}\")" };
        var limit = new Option<int?>("--limit") { Description = "--data: score only the first N images" };
        var threads = Cli.ThreadsOption();
        var json = new Option<bool>("--json") { Description = "One JSON object: ppl, nll_mean, tokens and the mode's other figures" };
        var cmd = new Command("perplexity", """
            Perplexity of a decoder over a text (llama.cpp's method and output), optionally with the KL divergence from a
            base model, or caption perplexity of a vision-language model over a caption set.

            Examples:
              furnace perplexity --model model-q8_0.gguf --file wiki.test.raw --ctx 512
              furnace perplexity --model model-q4_0.gguf --file wiki.test.raw --kl-divergence model-f32.gguf --chunks 20
              furnace perplexity --data coco-mini/captions.json --json
              furnace perplexity --model deepseek-llm-7b-chat.gguf --vision ./clip --projector mm_projector.safetensors --data val.jsonl
            """)
        {
            file, data, ctxSize, chunks, batch, kl, lang, prompt, limit, threads, json,
        };
        foreach (var o in vlm.All) cmd.Add(o);
        cmd.SetAction(r => Cli.Run(() =>
        {
            string? f = r.GetValue(file), d = r.GetValue(data);
            if ((f == null) == (d == null)) throw new FurnaceException("give either --file TEXT (text perplexity) or --data DATASET (caption perplexity)");
            int threadCount = Cli.CheckThreads(r.GetValue(threads));
            if (f != null)
            {
                foreach (var o in new Option[] { vlm.Vision, vlm.Projector, vlm.ProjectorType, lang, prompt, limit })
                    if (r.GetResult(o) is { Implicit: false }) throw new FurnaceException($"{o.Name} applies to --data, not --file");
                string model = r.GetValue(vlm.Model) ?? throw new FurnaceException("--file needs --model (the decoder to score)");
                return RunText(model, f, r.GetValue(ctxSize), r.GetValue(chunks), r.GetValue(batch), r.GetValue(kl), threadCount, r.GetValue(json),
                    () => (vlm.Lora.Load(r), vlm.Lora.ScaleOf(r)));
            }
            foreach (var o in new Option[] { ctxSize, chunks, batch, kl })
                if (r.GetResult(o) is { Implicit: false }) throw new FurnaceException($"{o.Name} applies to --file, not --data");
            return RunCaptions(d!, r.GetValue(lang) ?? "en", r.GetValue(prompt), r.GetValue(limit), threadCount, r.GetValue(json), () => vlm.Open(r), vlm.Label(r));
        }));
        return cmd;
    }

    private static int RunText(string modelPath, string file, int? ctxSize, int? chunks, int batch, string? basePath, int threads, bool json,
        Func<(Furnace.Models.Lora.LoraAdapter?, float)> lora)
    {
        if (!File.Exists(file)) throw new FurnaceException($"{file}: no such file");
        string text = File.ReadAllText(file);
        if (basePath != null && !File.Exists(basePath) && !Directory.Exists(basePath)) throw new FurnaceException($"--kl-divergence {basePath}: no such file or directory");
        var (adapter, scale) = lora();
        using var lm = LanguageModel.Open(modelPath, adapter, scale);
        int nCtx = ctxSize ?? Math.Min(DefaultContext, lm.Decoder.MaxPositions);
        var options = new TextPerplexityOptions { Context = nCtx, Chunks = chunks, Batch = batch }.Validated();
        if (nCtx > lm.Decoder.MaxPositions)
            throw new FurnaceException($"--ctx {nCtx} is larger than the model's context length {lm.Decoder.MaxPositions}");
        int[] tokens = TextPerplexity.Tokenize(lm.Tokenizer, text);
        TextPerplexity.CheckLength(tokens.Length, nCtx);
        using var baseLm = basePath == null ? null : LanguageModel.Open(basePath);
        int nChunk = Math.Min(chunks ?? int.MaxValue, tokens.Length / nCtx);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"perplexity: {file}: {tokens.Length} tokens; {nChunk} chunks, n_ctx={nCtx}, batch_size={options.EffectiveBatch}{(baseLm == null ? "" : ", KL divergence from " + basePath)}"));
        var progress = new ProgressLine(nChunk, 0, "chunks");
        using var ctx = new KernelContext(threads);
        PerplexityResult res = TextPerplexity.Run(lm.Decoder, tokens, TextPerplexity.ChunkBos(lm.Tokenizer), options, ctx, baseLm?.Decoder,
            (done, _, ppl) => progress.Report(done, string.Create(CultureInfo.InvariantCulture, $"ppl {ppl:F4}")));
        if (json)
        {
            var o = new Dictionary<string, object?>
            {
                ["ppl"] = res.Ppl,
                ["ppl_uncertainty"] = double.IsFinite(res.PplUncertainty) ? res.PplUncertainty : null,
                ["nll_mean"] = res.NllMean,
                ["tokens"] = res.Tokens,
                ["text_tokens"] = res.TextTokens,
                ["chunks"] = res.Chunks,
                ["ctx"] = res.Context,
                ["chunk_ppl"] = res.RunningPpl,
            };
            if (res.Kl is { } k)
            {
                o["kl_mean"] = k.MeanKld;
                o["kl_mean_uncertainty"] = k.MeanKldUncertainty;
                o["kl_median"] = k.MedianKld;
                o["kl_max"] = k.MaxKld;
                o["kl_99"] = k.Kld99;
                o["kl_95"] = k.Kld95;
                o["kl_90"] = k.Kld90;
                o["kl_min"] = k.MinKld;
                o["same_top_p"] = k.SameTopP;
                o["same_top_p_uncertainty"] = k.SameTopPUncertainty;
                o["ppl_base"] = k.PplBase;
                o["ln_ppl_ratio"] = k.LogPplRatio;
                o["ln_ppl_ratio_uncertainty"] = k.LogPplRatioUncertainty;
                o["mean_delta_p"] = k.MeanDeltaP;
                o["rms_delta_p"] = k.RmsDeltaP;
                o["max_abs_delta_p"] = k.MaxAbsDeltaP;
            }
            Console.WriteLine(JsonSerializer.Serialize(o, Cli.Json));
            return 0;
        }
        Console.WriteLine(res.RunningLine());
        if (double.IsFinite(res.PplUncertainty)) Console.WriteLine(res.FinalEstimate());
        else Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Final estimate: PPL = {res.Ppl:F4} (no spread: every scored token has the same log-probability)"));
        if (res.Kl is { } kl)
        {
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                ====== KL divergence from {basePath} ({kl.Count} tokens) ======
                Mean PPL(Q)                   : {kl.Ppl,10:F6}
                Mean PPL(base)                : {kl.PplBase,10:F6}
                Mean ln(PPL(Q)/PPL(base))     : {kl.LogPplRatio,10:F6} ± {kl.LogPplRatioUncertainty,10:F6}
                Mean    KLD: {kl.MeanKld,10:F6} ± {kl.MeanKldUncertainty,10:F6}
                Maximum KLD: {kl.MaxKld,10:F6}
                99.0%   KLD: {kl.Kld99,10:F6}
                95.0%   KLD: {kl.Kld95,10:F6}
                Median  KLD: {kl.MedianKld,10:F6}
                Minimum KLD: {kl.MinKld,10:F6}
                Mean    Δp: {100 * kl.MeanDeltaP,6:F3} %
                RMS Δp    : {100 * kl.RmsDeltaP,6:F3} %
                Same top p: {100 * kl.SameTopP,6:F3} ± {100 * kl.SameTopPUncertainty,5:F3} %
                """));
        }
        return 0;
    }

    private static int RunCaptions(string data, string lang, string? prompt, int? limit, int threads, bool json, Func<LlavaModel> open, string label)
    {
        if (limit is int l && l < 1) throw new FurnaceException($"--limit {l} must be at least 1");
        string instruction = CaptionInstruction.For(lang, prompt);
        var dataset = CaptionDataset.Load(data, requireImages: false);
        var items = dataset.Items.Take(limit ?? int.MaxValue).ToArray();
        if (items.Length == 0) throw new FurnaceException($"{data}: the dataset has no images");
        var captionSets = new IReadOnlyList<string>[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            CaptionItem item = items[i];
            if (!File.Exists(item.ImagePath)) throw new FurnaceException($"{data}: image {item.Id}: file {item.ImagePath} not found");
            captionSets[i] = lang == "zh"
                ? item.CaptionsZh ?? throw new FurnaceException($"{data}: image {item.Id} has no Chinese reference captions (captions_zh) for --lang zh")
                : item.Captions;
            if (captionSets[i].Count == 0) throw new FurnaceException($"{data}: image {item.Id} has no reference captions");
        }

        using LlavaModel model = open();
        var scorer = new CaptionPerplexity(model, instruction);
        Console.Error.WriteLine($"caption perplexity: {items.Length} images, {captionSets.Sum(c => c.Count)} captions of {data} with {label}");
        var progress = new ProgressLine(items.Length, 0, "images");
        var all = new List<CaptionNll>();
        using var ctx = new KernelContext(threads);
        for (int i = 0; i < items.Length; i++)
        {
            RgbImage image;
            try
            {
                image = ImageDecoder.Load(items[i].ImagePath);
            }
            catch (FurnaceException e)
            {
                throw new FurnaceException($"{data}: image {items[i].Id}: {e.Message}");
            }
            all.AddRange(scorer.Score(items[i].Id, image, captionSets[i], ctx));
            double running = Math.Exp(all.Sum(c => c.Nll) / all.Sum(c => c.Tokens));
            progress.Report(i + 1, string.Create(CultureInfo.InvariantCulture, $"ppl {running:F4}"));
        }
        var res = CaptionPerplexityResult.From(all);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["ppl"] = res.Ppl, ["nll_mean"] = res.NllMean, ["tokens"] = res.Tokens, ["captions"] = res.Captions, ["images"] = res.Images,
                ["instruction"] = scorer.Instruction,
            }, Cli.Json));
            return 0;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"caption PPL = {res.Ppl:F4} (mean NLL {res.NllMean:F4} nats over {res.Tokens} tokens: {res.Captions} captions of {res.Images} images)"));
        return 0;
    }
}
