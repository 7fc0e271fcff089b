// `furnace generate`: text from a prompt (raw or through the model's chat template), streamed to stdout.
using System.CommandLine;
using System.Text.Json;
using Furnace.Formats.ChatTemplates;
using Furnace.Generation;
using Furnace.Models;
using Furnace.Models.Lora;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = Cli.ModelOption();
        var prompt = new Option<string>("--prompt", "-p") { Description = "The prompt text", Required = true };
        var chat = new Option<bool>("--chat") { Description = "Wrap the prompt in the model's chat template (as a user turn)" };
        var system = new Option<string?>("--system") { Description = "System message (with --chat)" };
        var template = new Option<string?>("--template") { Description = $"Chat template to use instead of the model's: {string.Join(", ", ChatTemplate.Names)}" };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Most tokens to generate", DefaultValueFactory = _ => 256 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 = greedy", DefaultValueFactory = _ => 0.8f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 = off)", DefaultValueFactory = _ => 40 };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling threshold (1 = off)", DefaultValueFactory = _ => 0.95f };
        var minP = new Option<float>("--min-p") { Description = "Drop tokens below min_p × the top probability (0 = off)", DefaultValueFactory = _ => 0.05f };
        var repeat = new Option<float>("--repeat-penalty") { Description = "Penalty on recently seen tokens (1 = off)", DefaultValueFactory = _ => 1.0f };
        var seed = new Option<ulong>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0x5EEDUL };
        var stop = new Option<string[]>("--stop") { Description = "Stop before this string (repeatable)", AllowMultipleArgumentsPerToken = false };
        var ctxLen = new Option<int>("--ctx") { Description = "Context length (default: the model's, at most 4096)", DefaultValueFactory = _ => 0 };
        var threads = Cli.ThreadsOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON object (text, token counts, finish reason, speeds) instead of streaming" };
        var think = Cli.ThinkOption();
        var lora = new LoraOptions();
        var cmd = new Command("generate", "Generate text with a decoder (GGUF file or Hugging Face directory).\n\nExamples:\n  furnace generate -m deepseek-llm-7b-chat-q4_0.gguf --chat -p \"Why is the sky blue?\"\n  furnace generate -m ./DeepSeek-R1-Distill-Qwen-1.5B -p \"def fib(n):\" --temperature 0 -n 64 --json\n  furnace generate -m deepseek-llm-7b-base.gguf --lora ./my-adapter --lora-scale 0.5 -p \"Once upon a time\"")
        {
            model, prompt, chat, system, template, maxTokens, temperature, topK, topP, minP, repeat, seed, stop, ctxLen, threads, json, think,
        };
        foreach (var o in lora.All) cmd.Add(o);
        cmd.SetAction(r => Cli.Run(() =>
        {
            var sampling = new SamplingOptions
            {
                Temperature = r.GetValue(temperature),
                TopK = r.GetValue(topK),
                TopP = r.GetValue(topP),
                MinP = r.GetValue(minP),
                RepeatPenalty = r.GetValue(repeat),
                Seed = r.GetValue(seed),
            };
            var options = new GenerationOptions
            {
                Sampling = sampling,
                MaxTokens = r.GetValue(maxTokens),
                Stop = r.GetValue(stop) ?? [],
            }.Validated();
            string? templateName = r.GetValue(template);
            ThinkMode thinkMode = ThinkFilter.Parse(r.GetValue(think));
            return Run(r.GetValue(model)!, lora.Load(r), lora.ScaleOf(r), r.GetValue(prompt)!, r.GetValue(chat) || templateName != null, r.GetValue(system),
                templateName == null ? null : ChatTemplate.ByName(templateName), options, r.GetValue(ctxLen), Cli.CheckThreads(r.GetValue(threads)), r.GetValue(json), thinkMode);
        }));
        return cmd;
    }

    private static int Run(string path, LoraAdapter? adapter, float loraScale, string prompt, bool chat, string? system, ChatTemplate? template, GenerationOptions options,
        int ctxLen, int threads, bool json, ThinkMode thinkMode)
    {
        if (ctxLen < 0) throw new FurnaceException($"--ctx {ctxLen} must be positive");
        using var lm = LanguageModel.Open(path, adapter, loraScale);
        int[] ids = lm.EncodePrompt(prompt, chat, system, template);
        int context = ctxLen > 0 ? ctxLen : Math.Min(lm.Decoder.MaxPositions, Math.Max(4096, ids.Length + options.MaxTokens));
        using var ctx = new KernelContext(threads);
        var gen = new Generator(lm.Decoder, lm.Tokenizer, ctx, context);
        var think = new ThinkFilter(thinkMode, ThinkFilter.OpensThink(lm.Tokenizer.Decode(ids)));
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        if (json)
        {
            GenerationResult res = gen.Generate(ids, options, cancel.Token);
            string text = think.Push(res.Text) + think.Flush();
            var fields = new Dictionary<string, object>
            {
                ["text"] = text,
                ["prompt_tokens"] = res.PromptTokens,
                ["generated_tokens"] = res.GeneratedTokens,
                ["finish_reason"] = res.FinishReason,
                ["prefill_tok_s"] = Math.Round(res.PrefillTokensPerSecond, 2),
                ["decode_tok_s"] = Math.Round(res.DecodeTokensPerSecond, 2),
            };
            if (thinkMode == ThinkMode.Hide) fields["reasoning_content"] = think.Reasoning;
            Console.WriteLine(JsonSerializer.Serialize(fields, Cli.Json));
            return 0;
        }
        var stdout = Console.Out;
        foreach (string piece in gen.Stream(ids, options, cancel.Token))
        {
            stdout.Write(think.Push(piece));
            stdout.Flush();
        }
        stdout.Write(think.Flush());
        stdout.WriteLine();
        var last = gen.LastResult!;
        Console.Error.WriteLine($"[{last.PromptTokens} prompt tokens at {last.PrefillTokensPerSecond:F1} tok/s, {last.GeneratedTokens} generated at {last.DecodeTokensPerSecond:F1} tok/s, finish: {last.FinishReason}]");
        return 0;
    }
}
