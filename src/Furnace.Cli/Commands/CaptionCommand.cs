// `furnace caption IMAGE...`: one caption per image from a LLaVA-style model, greedy by default. Each image gets its
// own prompt "<image>\n" + the instruction (English by default, Chinese with --lang zh, or --prompt); progress goes to
// stderr when there are several images, --json prints one JSON object per image.
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class CaptionCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("images") { Description = "Image files (JPEG, PNG, WebP, GIF, BMP) or data: URLs", Arity = ArgumentArity.OneOrMore };
        var vlm = new VlmOptions();
        var lang = new Option<string>("--lang") { Description = "Instruction language: en or zh", DefaultValueFactory = _ => "en" };
        var prompt = new Option<string?>("--prompt", "-p") { Description = $"Instruction instead of the default (\"{CaptionInstruction.English}\"); may hold one <image> placeholder" };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Most tokens per caption", DefaultValueFactory = _ => 64 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 = greedy", DefaultValueFactory = _ => 0f };
        var think = Cli.ThinkOption();
        var threads = Cli.ThreadsOption();
        var json = new Option<bool>("--json") { Description = "One JSON object per image: image, caption, tokens, token_ids (the generated ids), ms, ttft_ms (time to first token), peak_rss_mb" };
        var cmd = new Command("caption", $"Caption images with a vision-language model.\n\nDefault instruction: \"{CaptionInstruction.English}\" (--lang zh: \"{CaptionInstruction.Chinese}\").\n\nExamples:\n  furnace caption cat.jpg --model ./llava-1.5-7b-hf\n  furnace caption cat.jpg --model ./deepseek-vl-1.3b-chat --lang zh --json\n  furnace caption *.jpg --model deepseek-llm-7b-chat.gguf --vision ./clip-vit-large-patch14-336 --projector mm_projector.safetensors --json")
        {
            images, lang, prompt, maxTokens, temperature, think, threads, json,
        };
        foreach (var o in vlm.All) cmd.Add(o);
        cmd.SetAction(r => Cli.Run(() =>
        {
            string instruction = CaptionInstruction.For(r.GetValue(lang), r.GetValue(prompt));
            ThinkMode thinkMode = ThinkFilter.Parse(r.GetValue(think));
            var options = new GenerationOptions
            {
                MaxTokens = r.GetValue(maxTokens),
                Sampling = new SamplingOptions { Temperature = r.GetValue(temperature) },
            }.Validated();
            string[] paths = r.GetValue(images)!;
            int threadCount = Cli.CheckThreads(r.GetValue(threads));
            if (VlmCli.DeepSeekVl2Dir(r.GetValue(vlm.Model)) is string vl2)
            {
                // DeepSeek-VL2: its own model type (tiled views, per-image slot counts); greedy, plain text output
                if (r.GetValue(temperature) != 0f || r.GetValue(json))
                    throw new FurnaceException($"{vl2}: DeepSeek-VL2 captions are greedy plain text for now (--temperature and --json are not supported yet)");
                using var m = Furnace.Models.DeepSeekVl2.DeepSeekVl2Model.Load(vl2);
                using var c2 = new KernelContext(threadCount);
                foreach (string path in paths)
                {
                    string text = m.Answer(instruction.Replace(LlavaModel.ImagePlaceholder, "").Trim(), [VlmCli.LoadImage(path)], options.MaxTokens, c2);
                    Console.WriteLine(paths.Length == 1 ? text : $"{VlmCli.Label(path)}\t{text}");
                }
                return 0;
            }
            using LlavaModel model = vlm.Open(r);
            var captioner = new Captioner(model, instruction, options, thinkMode);
            // decode every image before the long part, so a bad file fails at once
            RgbImage[] decoded = paths.Select(VlmCli.LoadImage).ToArray();
            using var ctx = new KernelContext(threadCount);
            bool progress = paths.Length > 1;
            for (int i = 0; i < paths.Length; i++)
            {
                var sw = Stopwatch.StartNew();
                var (caption, res) = captioner.Caption(decoded[i], ctx);
                long ms = sw.ElapsedMilliseconds;
                if (r.GetValue(json))
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["image"] = VlmCli.Label(paths[i]), ["caption"] = caption, ["tokens"] = res.GeneratedTokens, ["token_ids"] = res.TokenIds.ToArray(), ["ms"] = ms,
                        // time to the first token: preprocessing, vision tower, projector, prefill, first sample
                        ["ttft_ms"] = Math.Max(0, ms - (long)res.DecodeTime.TotalMilliseconds),
                        ["peak_rss_mb"] = Math.Round(Furnace.Benchmarking.PeakMemory.RssBytes() / 1048576.0, 1),
                    }.WithReasoning(res), Cli.Json));
                else Console.WriteLine(paths.Length == 1 ? caption : $"{VlmCli.Label(paths[i])}\t{caption}");
                Console.Out.Flush();
                if (progress) Console.Error.WriteLine($"[{i + 1}/{paths.Length}] {VlmCli.Label(paths[i])}: {res.GeneratedTokens} tokens in {ms} ms");
            }
            return 0;
        }));
        return cmd;
    }
}
