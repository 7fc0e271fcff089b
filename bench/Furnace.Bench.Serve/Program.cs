// Load test of `furnace serve` (continuous batching, issue 7): a random-weight LLaVA directory is served on loopback;
// N concurrent clients send OpenAI chat-completion requests with base64 images (each request its own image and
// prompt, greedy, streamed) for T seconds, once per --max-batch setting. Reports requests/s, latency and time to
// first token percentiles and generated tokens/s, and checks every answer against the greedy output of its own
// request computed beforehand through the library one request at a time (SequentialChatEngine): a lost, truncated,
// failed or mixed-up response makes the exit code 1.
//   Furnace.Bench.Serve [--quick] [--clients 8] [--seconds 30] [--batches 1,8] [--tokens 32] [--threads 2]
//                       [--vision clip-vit-base-patch32] [--llm bench-768] [--type q4_0] [--models DIR] [--furnace PATH]
// The model is composed as the caption benchmark's (CLIP ViT HF directory + mlp2x_gelu projector + GGUF decoder, random
// weights, written once under --models). --quick: the tiny test LLaVA directory, 4 clients, 3 s, --batches 1,4, 12
// tokens (a smoke run, seconds).
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Models.Vlm;
using Furnace.Serving;
using Furnace.Tensors;
using Furnace.Tests.Support;

string Arg(string name, string def)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : def;
}
int IntArg(string name, int def) => int.Parse(Arg(name, def.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

bool quick = args.Contains("--quick");
int clients = IntArg("--clients", quick ? 4 : 8);
int seconds = IntArg("--seconds", quick ? 3 : 30);
int tokens = IntArg("--tokens", quick ? 12 : 32);
int threads = IntArg("--threads", 2);
int[] batches = Arg("--batches", quick ? "1,4" : $"1,{clients}").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
string vision = Arg("--vision", "clip-vit-base-patch32");
string llm = Arg("--llm", "bench-768");
string typeName = Arg("--type", "q4_0");
string modelsDir = Arg("--models", Path.Combine(Path.GetTempPath(), "furnace-bench-models"));
string furnace = Arg("--furnace", Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "Furnace.Cli", "bin", "Release", "net10.0", "furnace"));
if (clients < 1 || seconds < 1 || tokens < 1 || batches.Any(b => b < 1)) throw new ArgumentException("--clients, --seconds, --tokens and --batches must be positive");
if (!File.Exists(furnace)) throw new FileNotFoundException($"no furnace binary at {furnace}; build src/Furnace.Cli -c Release or pass --furnace PATH");

// 1. the model: --quick, a tiny LLaVA directory in the HF layout; otherwise a composed LLaVA-style model of real
// shapes as the caption benchmark uses (CLIP HF directory + mlp2x_gelu projector + GGUF decoder); random weights
string[] modelArgs;
Func<LlavaModel> openModel;
string modelLabel;
Directory.CreateDirectory(modelsDir);
if (quick)
{
    string dir = Path.Combine(modelsDir, "llava-test-tiny");
    if (!File.Exists(Path.Combine(dir, "tokenizer.json")))
    {
        Console.Error.WriteLine($"writing {dir}");
        var (clip, config) = RandomLlava.TestTiny();
        RandomLlava.WriteHuggingFace(dir, clip, config, seed: 1);
        HfTokenizerJson.WriteSynthetic(dir, config.Text.VocabSize);
    }
    modelArgs = ["--model", dir];
    openModel = () => LlavaModel.Load(dir);
    modelLabel = "LLaVA test-tiny";
}
else
{
    if (!DTypes.TryParse(typeName, out DType type)) throw new ArgumentException($"unknown --type {typeName}");
    var (clipDir, gguf, projector) = RandomLlava.WriteComposedCached(modelsDir, vision, llm, type, typeName, Console.Error.WriteLine);
    modelArgs = ["--model", gguf, "--vision", clipDir, "--projector", projector];
    openModel = () => LlavaModel.Compose(ClipVisionEncoder.Load(clipDir), projector, null, gguf);
    modelLabel = $"{vision} + mlp2x_gelu + {llm} {typeName}";
}

// 2. the requests, each with its own image and prompt, and their expected greedy answers, one at a time
int distinct = Math.Max(2 * clients, 8);
var requests = new List<(string Prompt, string DataUrl)>();
for (int i = 0; i < distinct; i++)
{
    byte[] bmp = RandomBmp.Bytes(48 + 8 * (i % 5), 40 + 4 * (i % 3), seed: 1000 + i);
    requests.Add(($"Picture {i}: what is in it? Answer in {3 + i % 4} words.", "data:image/bmp;base64," + Convert.ToBase64String(bmp)));
}
var options = new GenerationOptions { Sampling = SamplingOptions.Greedy, MaxTokens = tokens };
var expected = new GenerationResult[distinct];
var sw = Stopwatch.StartNew();
using (var engine = new SequentialChatEngine(openModel(), new ChatEngineOptions { Threads = threads }))
{
    for (int i = 0; i < distinct; i++)
    {
        var request = new ChatRequest([new ChatTurn("user", [ChatPart.FromImage(ImageDecoder.DecodeDataUrl(requests[i].DataUrl)), ChatPart.FromText(requests[i].Prompt)])], options);
        var text = new StringBuilder();
        await foreach (ChatUpdate u in engine.StreamAsync(request))
        {
            text.Append(u.Text);
            if (u.Final != null) expected[i] = u.Final with { Text = text.ToString() };
        }
    }
}
Console.Error.WriteLine($"expected answers of {distinct} requests computed in {sw.Elapsed.TotalSeconds:F1} s (mean {expected.Average(e => e.GeneratedTokens):F1} tokens)");

// 3. one server per --max-batch setting, the same load against each
var rows = new List<string>();
bool allGood = true;
foreach (int maxBatch in batches)
{
    Stats s = await RunServer(maxBatch);
    allGood &= s.Bad == 0 && s.Failed == 0;
    rows.Add(string.Create(CultureInfo.InvariantCulture,
        $"| {maxBatch} | {s.Completed} | {s.Completed / s.Wall:F2} | {P(s.Latency, 50):F0} | {P(s.Latency, 95):F0} | {P(s.Latency, 99):F0} | {P(s.Ttft, 50):F0} | {P(s.Ttft, 95):F0} | {P(s.Ttft, 99):F0} | {s.Tokens / s.Wall:F1} | {s.Failed} | {s.Bad} |"));
}
Console.WriteLine($"furnace serve: {modelLabel} (random weights), {clients} clients, {seconds} s, {tokens} max tokens, greedy, streamed, {threads} threads, {DateTime.UtcNow:yyyy-MM-dd}");
Console.WriteLine();
Console.WriteLine("| --max-batch | requests | requests/s | latency p50 (ms) | p95 | p99 | TTFT p50 (ms) | p95 | p99 | tokens/s | failed | wrong |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (string r in rows) Console.WriteLine(r);
if (!allGood) Console.Error.WriteLine("FAILED: some responses were lost, failed, truncated or did not match their own request's expected answer");
return allGood ? 0 : 1;

async Task<Stats> RunServer(int maxBatch)
{
    int port = FreePort();
    var psi = new ProcessStartInfo(furnace) { RedirectStandardOutput = true, RedirectStandardError = true };
    string[] serveArgs = ["serve", .. modelArgs, "--port", port.ToString(CultureInfo.InvariantCulture), "--max-batch", maxBatch.ToString(CultureInfo.InvariantCulture),
        "--max-queue", (clients + 4).ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture)];
    foreach (string a in serveArgs) psi.ArgumentList.Add(a);
    using var server = Process.Start(psi)!;
    var log = new StringBuilder();
    server.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
    server.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
    server.BeginOutputReadLine();
    server.BeginErrorReadLine();
    try
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients + 4 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(10) };
        var ready = Stopwatch.StartNew();
        while (true)
        {
            if (server.HasExited) throw new InvalidOperationException($"furnace serve exited ({server.ExitCode}): {log}");
            try
            {
                using var r = await http.GetAsync("health");
                if (r.IsSuccessStatusCode) break;
            }
            catch (HttpRequestException)
            {
            }
            if (ready.Elapsed > TimeSpan.FromMinutes(3)) throw new TimeoutException($"furnace serve did not become healthy: {log}");
            await Task.Delay(200);
        }
        Console.Error.WriteLine($"--max-batch {maxBatch}: server ready on port {port} after {ready.Elapsed.TotalSeconds:F1} s; {clients} clients for {seconds} s");

        var stats = new Stats();
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            for (int k = 0; DateTime.UtcNow < deadline; k++)
            {
                int i = (c + k * clients) % distinct;
                await OneRequest(http, i, stats);
            }
        })));
        stats.Wall = wall.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"--max-batch {maxBatch}: {stats.Completed} completed, {stats.Failed} failed, {stats.Bad} wrong in {stats.Wall:F1} s");
        foreach (string m in stats.Messages.Take(5)) Console.Error.WriteLine("  " + m);
        return stats;
    }
    finally
    {
        if (!server.HasExited) server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
    }
}

async Task OneRequest(HttpClient http, int i, Stats stats)
{
    var (prompt, dataUrl) = requests[i];
    string body = JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["messages"] = new object[]
        {
            new Dictionary<string, object>
            {
                ["role"] = "user",
                ["content"] = new object[]
                {
                    new Dictionary<string, object> { ["type"] = "image_url", ["image_url"] = new Dictionary<string, string> { ["url"] = dataUrl } },
                    new Dictionary<string, object> { ["type"] = "text", ["text"] = prompt },
                },
            },
        },
        ["max_tokens"] = tokens,
        ["temperature"] = 0,
        ["stream"] = true,
        ["stream_options"] = new Dictionary<string, bool> { ["include_usage"] = true },
    });
    var sw = Stopwatch.StartNew();
    double ttft = -1;
    var text = new StringBuilder();
    string? finish = null;
    int completionTokens = -1;
    bool done = false;
    try
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using HttpResponseMessage resp = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
        if (resp.StatusCode != HttpStatusCode.OK)
        {
            stats.Fail($"request {i}: HTTP {(int)resp.StatusCode}: {await resp.Content.ReadAsStringAsync()}");
            return;
        }
        using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            string data = line[6..];
            if (data == "[DONE]")
            {
                done = true;
                break;
            }
            using var doc = JsonDocument.Parse(data);
            JsonElement root = doc.RootElement;
            if (root.TryGetProperty("error", out JsonElement err))
            {
                stats.Fail($"request {i}: stream error {err}");
                return;
            }
            if (root.TryGetProperty("usage", out JsonElement usage) && usage.ValueKind == JsonValueKind.Object)
                completionTokens = usage.GetProperty("completion_tokens").GetInt32();
            if (root.GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0)
            {
                JsonElement choice = choices[0];
                if (choice.TryGetProperty("delta", out JsonElement delta) && delta.TryGetProperty("content", out JsonElement content)
                    && content.ValueKind == JsonValueKind.String && content.GetString() is { Length: > 0 } piece)
                {
                    if (ttft < 0) ttft = sw.Elapsed.TotalMilliseconds;
                    text.Append(piece);
                }
                if (choice.TryGetProperty("finish_reason", out JsonElement fr) && fr.ValueKind == JsonValueKind.String) finish = fr.GetString();
            }
        }
    }
    catch (Exception e) when (e is HttpRequestException or IOException or JsonException or TaskCanceledException)
    {
        stats.Fail($"request {i}: {e.GetType().Name}: {e.Message}");
        return;
    }
    double ms = sw.Elapsed.TotalMilliseconds;
    GenerationResult want = expected[i];
    string got = text.ToString();
    if (!done || got != want.Text || finish != want.FinishReason || completionTokens != want.GeneratedTokens)
    {
        // a mix-up (another request's answer) and a numerical divergence (batched float sums broke a near-tie) are
        // different failures: say which
        int other = Array.FindIndex(expected, e => e != null && e.Text == got);
        int common = 0;
        while (common < got.Length && common < want.Text.Length && got[common] == want.Text[common]) common++;
        string why = other >= 0 && other != i ? $"MIX-UP: equals request {other}'s answer" : $"diverges after {common} characters";
        stats.Wrong($"request {i}: got {Quote(got)} ({completionTokens} tokens, {finish ?? "no finish"}{(done ? "" : ", no [DONE]")}), expected {Quote(want.Text)} ({want.GeneratedTokens} tokens, {want.FinishReason}); {why}");
        return;
    }
    stats.Ok(ms, ttft < 0 ? ms : ttft, completionTokens);
}

static string Quote(string s) => JsonSerializer.Serialize(s.Length > 60 ? s[..60] + "…" : s);

static double P(List<double> xs, int p)
{
    if (xs.Count == 0) return double.NaN;
    var sorted = xs.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1)];
}

static int FreePort()
{
    var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    int port = ((IPEndPoint)l.LocalEndpoint).Port;
    l.Stop();
    return port;
}

internal sealed class Stats
{
    private readonly Lock _lock = new();

    public List<double> Latency { get; } = [];

    public List<double> Ttft { get; } = [];

    public List<string> Messages { get; } = [];

    public int Completed { get; private set; }

    public int Failed { get; private set; }

    public int Bad { get; private set; }

    public long Tokens { get; private set; }

    public double Wall { get; set; }

    public void Ok(double ms, double ttft, int tokens)
    {
        lock (_lock)
        {
            Completed++;
            Latency.Add(ms);
            Ttft.Add(ttft);
            Tokens += tokens;
        }
    }

    public void Fail(string message)
    {
        lock (_lock)
        {
            Failed++;
            Messages.Add(message);
        }
    }

    public void Wrong(string message)
    {
        lock (_lock)
        {
            Bad++;
            Messages.Add(message);
        }
    }
}
