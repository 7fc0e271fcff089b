// `furnace serve [--model PATH]`: an OpenAI-compatible chat completions server (src/Furnace.Server) over one model —
// the embedded default model when no --model is given, a LLaVA directory, a decoder composed with --vision/--projector, or a text-only decoder (.gguf or HF directory).
// Binds loopback by default; runs until Ctrl+C / SIGTERM, then finishes the requests in flight.
using System.CommandLine;
using Furnace.Generation;
using Furnace.Models.Vlm;
using Furnace.Server;
using Furnace.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Furnace.Cli.Commands;

internal static class ServeCommand
{
    public static Command Create()
    {
        var vlm = new VlmOptions();
        vlm.Model.Description = "A LLaVA directory, a text-only decoder (.gguf file or HF directory), or with --vision and --projector the decoder of a composed model; default: the embedded models/furnace-captioner-tiny";
        var host = new Option<string>("--host") { Description = "Address to listen on (127.0.0.1, ::1, localhost, 0.0.0.0 for every interface)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port", DefaultValueFactory = _ => 8080 };
        var apiKey = new Option<string?>("--api-key") { Description = "Require 'Authorization: Bearer KEY' on /v1/* (default: the FURNACE_API_KEY environment variable, else no key)" };
        var maxBatch = new Option<int>("--max-batch") { Description = "Sequences decoded together by a batching engine (1: one request at a time)", DefaultValueFactory = _ => 1 };
        var maxQueue = new Option<int>("--max-queue") { Description = "Requests that may wait for a slot; more get 429 with Retry-After", DefaultValueFactory = _ => 16 };
        var timeout = new Option<double>("--timeout") { Description = "Seconds a request may take, queueing included (504 / a stream error after it)", DefaultValueFactory = _ => 300 };
        var remote = new Option<string?>("--allow-remote-images") { Description = "Comma-separated hosts (or *.domain) whose http(s) image URLs may be fetched; default none (data: URLs only). Private and loopback addresses are always refused" };
        var cors = new Option<string?>("--cors") { Description = "Comma-separated origins allowed to call the API from a browser (default: CORS off)" };
        var maxBodyMb = new Option<double>("--max-body-mb") { Description = "Largest request body in MiB (413 above)", DefaultValueFactory = _ => 20 };
        var maxImageMb = new Option<double>("--max-image-mb") { Description = "Largest encoded image in MiB", DefaultValueFactory = _ => 10 };
        var maxPixels = new Option<long>("--max-image-pixels") { Description = "Largest image width x height", DefaultValueFactory = _ => 40_000_000 };
        var maxImages = new Option<int>("--max-images") { Description = "Most images per request", DefaultValueFactory = _ => 4 };
        var maxTokens = new Option<int>("--max-tokens-cap") { Description = "Largest max_tokens a request may ask", DefaultValueFactory = _ => 2048 };
        var context = new Option<int>("--context") { Description = "Context length per request in tokens (default: the model's, at most 4096)", DefaultValueFactory = _ => 0 };
        var modelId = new Option<string?>("--model-id") { Description = "The id /v1/models lists and requests may name (default: the model's file or directory name)" };
        var think = Cli.ThinkOption();
        var threads = Cli.ThreadsOption();
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every request (ASP.NET Core information level)" };
        var cmd = new Command("serve", "Serve a model over an OpenAI-compatible HTTP API (POST /v1/chat/completions, GET /v1/models), with /health, Prometheus /metrics and a web page at /.\n\nExamples:\n  furnace serve                                   (the embedded default model)\n  furnace serve --model ./llava-1.5-7b-hf\n  furnace serve --model ./llava-1.5-7b-hf --port 9000 --api-key secret --max-queue 8\n  furnace serve --model qwen2-0.5b-instruct-q8_0.gguf --host 0.0.0.0 --api-key secret\n\nThen: curl http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' -d '{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\nSee docs/serving.md.")
        {
            host, port, apiKey, maxBatch, maxQueue, timeout, remote, cors, maxBodyMb, maxImageMb, maxPixels, maxImages, maxTokens, context, modelId, think, threads, verbose,
        };
        foreach (var o in vlm.All) cmd.Add(o);
        cmd.SetAction(r => Cli.Run(() =>
        {
            string? model = r.GetValue(vlm.Model);
            bool composed = r.GetValue(vlm.Vision) != null || r.GetValue(vlm.Projector) != null;
            if (string.IsNullOrEmpty(model))
            {
                if (composed) throw new FurnaceException("composing a model needs --model (the decoder) with --vision and --projector");
                model = DefaultModel.Require(); // as caption, ask and eval: the embedded furnace-captioner-tiny
            }
            var engineOptions = new ChatEngineOptions
            {
                MaxQueue = r.GetValue(maxQueue),
                MaxBatch = r.GetValue(maxBatch),
                Threads = Cli.CheckThreads(r.GetValue(threads)),
                ContextLength = r.GetValue(context),
                ModelId = r.GetValue(modelId),
                Think = ThinkFilter.Parse(r.GetValue(think)),
            }.Validated();
            double seconds = r.GetValue(timeout);
            if (!(seconds > 0)) throw new FurnaceException($"--timeout {seconds} must be positive");
            var serverOptions = new ServerOptions
            {
                Host = r.GetValue(host)!,
                Port = r.GetValue(port),
                ApiKey = r.GetValue(apiKey) ?? NullIfEmpty(Environment.GetEnvironmentVariable("FURNACE_API_KEY")),
                MaxBodyBytes = Bytes(r.GetValue(maxBodyMb), "--max-body-mb"),
                MaxImageBytes = Bytes(r.GetValue(maxImageMb), "--max-image-mb"),
                MaxImagePixels = r.GetValue(maxPixels),
                MaxImages = r.GetValue(maxImages),
                MaxTokensCap = r.GetValue(maxTokens),
                DefaultMaxTokens = Math.Min(256, r.GetValue(maxTokens)),
                Timeout = TimeSpan.FromSeconds(seconds),
                AllowRemoteImageHosts = List(r.GetValue(remote)),
                CorsOrigins = List(r.GetValue(cors)),
            }.Validated();

            Console.Error.WriteLine($"loading {model} ...");
            using IChatEngine engine = composed
                ? ChatEngines.Create(vlm.Open(r), engineOptions)
                : ChatEngines.Open(model, engineOptions);
            WebApplication app = ServerApp.Build(engine, serverOptions, r.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
            app.StartAsync().GetAwaiter().GetResult();
            Uri address = ServerApp.Address(app);
            Console.Error.WriteLine($"serving {engine.ModelId} from {Path.GetFullPath(model)} ({(engine.AcceptsImages ? "text and images" : "text only")}) on {address} — web page at {address}, API at {address}v1; Ctrl+C stops");
            if (serverOptions.ApiKey == null && !IsLoopback(serverOptions.Host))
                Console.Error.WriteLine("warning: listening beyond loopback without --api-key: anyone who can reach this port can use the model");
            app.WaitForShutdownAsync().GetAwaiter().GetResult();
            ((IAsyncDisposable)app).DisposeAsync().AsTask().GetAwaiter().GetResult();
            return 0;
        }));
        return cmd;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static long Bytes(double mib, string name) =>
        mib > 0 && mib <= 4096 ? (long)(mib * 1048576) : throw new FurnaceException($"{name} {mib} must be between 0 and 4096");

    private static IReadOnlyList<string> List(string? csv) =>
        csv == null ? [] : csv.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool IsLoopback(string host) =>
        host is "localhost" or "127.0.0.1" or "::1" or "[::1]" || host.StartsWith("127.", StringComparison.Ordinal);
}
