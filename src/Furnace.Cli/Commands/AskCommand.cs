// `furnace ask IMAGE QUESTION`: answers a question about an image with a LLaVA-style model, streamed to stdout. The
// question may place <image> (or the model's own tag, DeepSeek-VL's <image_placeholder>) itself; otherwise "<image>\n"
// is put before it.
using System.CommandLine;
using System.Text.Json;
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class AskCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("image") { Description = "Image file or data: URL" };
        var question = new Argument<string>("question") { Description = "The question (may hold one <image> placeholder)" };
        var vlm = new VlmOptions();
        var system = new Option<string?>("--system") { Description = "System message" };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Most tokens to generate", DefaultValueFactory = _ => 256 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 = greedy", DefaultValueFactory = _ => 0f };
        var seed = new Option<ulong>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0x5EEDUL };
        var think = Cli.ThinkOption();
        var threads = Cli.ThreadsOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON object (image, question, answer, tokens, ms)" };
        var cmd = new Command("ask", "Answer a question about an image.\n\nExamples:\n  furnace ask cat.jpg \"What is the cat doing?\" --model ./llava-1.5-7b-hf\n  furnace ask cat.jpg \"猫在做什么？\" --model ./deepseek-vl-1.3b-chat")
        {
            image, question, system, maxTokens, temperature, seed, think, threads, json,
        };
        foreach (var o in vlm.All) cmd.Add(o);
        cmd.SetAction(r => Cli.Run(() =>
        {
            string q = r.GetValue(question)!;
            if (string.IsNullOrWhiteSpace(q)) throw new FurnaceException("the question is empty");
            ThinkMode thinkMode = ThinkFilter.Parse(r.GetValue(think));
            var options = new GenerationOptions
            {
                MaxTokens = r.GetValue(maxTokens),
                Sampling = new SamplingOptions { Temperature = r.GetValue(temperature), Seed = r.GetValue(seed) },
            }.Validated();
            int threadCount = Cli.CheckThreads(r.GetValue(threads));
            string path = r.GetValue(image)!;
            if (VlmCli.DeepSeekVl2Dir(r.GetValue(vlm.Model)) is string vl2)
            {
                // DeepSeek-VL2: its own model type (tiled views, per-image slot counts); greedy, plain text output
                if (r.GetValue(temperature) != 0f || r.GetValue(json) || r.GetValue(system) != null)
                    throw new FurnaceException($"{vl2}: DeepSeek-VL2 answers are greedy plain text for now (--temperature, --json and --system are not supported yet)");
                using var m = Furnace.Models.DeepSeekVl2.DeepSeekVl2Model.Load(vl2);
                using var c2 = new KernelContext(threadCount);
                Console.WriteLine(m.Answer(q, [VlmCli.LoadImage(path)], options.MaxTokens, c2));
                return 0;
            }
            using LlavaModel model = vlm.Open(r);
            // "<image>\n" before a question without a placeholder (DeepSeek-VL's demo puts "<image_placeholder>\n" there too)
            if (!q.Contains(LlavaModel.ImagePlaceholder, StringComparison.Ordinal) && !q.Contains(model.ImageTag, StringComparison.Ordinal))
                q = LlavaModel.ImagePlaceholder + "\n" + q;
            RgbImage img = VlmCli.LoadImage(path);
            using var ctx = new KernelContext(threadCount);
            string rendered = model.RenderChat(q, r.GetValue(system));
            LlavaPrompt prompt = model.BuildPrompt(rendered, [img], ctx);
            var gen = model.NewGenerator(ctx, Math.Min(model.Decoder.MaxPositions, Math.Max(4096, prompt.Positions + options.MaxTokens)));
            var sw = System.Diagnostics.Stopwatch.StartNew();
            if (r.GetValue(json))
            {
                GenerationResult res = ThinkFilter.Apply(gen.GenerateEmbeddings(prompt.Embeddings, prompt.TextIds, options), thinkMode, rendered);
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["image"] = VlmCli.Label(path), ["question"] = r.GetValue(question)!, ["answer"] = res.Text.Trim(),
                    ["prompt_tokens"] = res.PromptTokens, ["tokens"] = res.GeneratedTokens, ["finish_reason"] = res.FinishReason, ["ms"] = sw.ElapsedMilliseconds,
                }.WithReasoning(res), Cli.Json));
                return 0;
            }
            var filter = new ThinkFilter(thinkMode, ThinkFilter.OpensThink(rendered));
            foreach (string piece in gen.StreamEmbeddings(prompt.Embeddings, prompt.TextIds, options))
            {
                Console.Write(filter.Push(piece));
                Console.Out.Flush();
            }
            Console.WriteLine(filter.Flush());
            var last = gen.LastResult!;
            Console.Error.WriteLine($"[{last.PromptTokens} prompt positions, {last.GeneratedTokens} generated at {last.DecodeTokensPerSecond:F1} tok/s, finish: {last.FinishReason}]");
            return 0;
        }));
        return cmd;
    }
}
