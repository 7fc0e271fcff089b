// `furnace serve` as a real process: option errors are one line with exit code 1; on a tiny decoder, and with no
// --model on the embedded default model, it prints what it serves and its address (port 0 picks a free one),
// answers a chat completion, and exits 0 after SIGTERM (graceful shutdown).
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Furnace.Models.Llama;
using Furnace.Tensors;

namespace Furnace.Cli.Tests;

public sealed class ServeCliTests
{
    [Fact]
    public void Serve_BadPort_OneLineError()
    {
        var r = FurnaceProcess.Run("serve", "--model", "nowhere.gguf", "--port", "70000");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--port 70000", r.Stderr);
    }

    [Fact]
    public async Task Serve_TinyDecoder_AnswersThenExitsOnSigterm()
    {
        using var dir = new TempDir();
        string model = dir.File("tiny-llm");
        RandomLlama.WriteHuggingFace(model, LlamaConfig.Preset("test-tiny"), DType.F32, seed: 3);
        HfTokenizerJson.WriteSynthetic(model, 320);

        await using var server = await ServeProcess.StartAsync("--model", model);
        Assert.Contains("serving tiny-llm from " + model + " (text only)", server.StartupLine);
        JsonElement answer = await server.ChatAsync("""{"messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"temperature":0}""");
        Assert.Equal("tiny-llm", answer.GetProperty("model").GetString());
        Assert.InRange(answer.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 1, 4);
        Assert.Equal(0, await server.StopAsync());
    }

    [Fact]
    public async Task Serve_NoModel_ServesEmbeddedDefaultModel()
    {
        await using var server = await ServeProcess.StartAsync();
        Assert.Contains("serving furnace-captioner-tiny from ", server.StartupLine);
        Assert.Contains("(text and images)", server.StartupLine);
        using (var models = JsonDocument.Parse(await server.Http.GetStringAsync("/v1/models")))
            Assert.Equal("furnace-captioner-tiny", models.RootElement.GetProperty("data")[0].GetProperty("id").GetString());
        // an OpenAI client's fixed model name is accepted by a one-model server, which answers with its own id
        JsonElement answer = await server.ChatAsync("""{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}],"max_tokens":3,"temperature":0}""");
        Assert.Equal("furnace-captioner-tiny", answer.GetProperty("model").GetString());
        Assert.Equal(0, await server.StopAsync());
    }

    // `furnace serve ARGS --port 0 -t 1` as a child process, up once it printed its "serving … on URL" line
    private sealed class ServeProcess : IAsyncDisposable
    {
        private readonly Process _p;
        private Task? _drain;

        private ServeProcess(Process p) => _p = p;

        public string StartupLine { get; private set; } = "";

        public HttpClient Http { get; private set; } = null!;

        public static async Task<ServeProcess> StartAsync(params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (string a in (string[])[Path.Combine(AppContext.BaseDirectory, "Furnace.Cli.dll"), "serve", .. args, "--port", "0", "-t", "1"])
                psi.ArgumentList.Add(a);
            var s = new ServeProcess(Process.Start(psi)!);
            try
            {
                // "serving ID from PATH (text only) on http://127.0.0.1:PORT/ — ..."
                string? line;
                while ((line = await s._p.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60))) != null)
                {
                    if (!line.StartsWith("serving ", StringComparison.Ordinal)) continue;
                    s.StartupLine = line;
                    string url = line[line.IndexOf("http://", StringComparison.Ordinal)..].Split(' ')[0];
                    s.Http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
                    break;
                }
                Assert.True(s.Http != null, "serve exited before printing its address");
                s._drain = s._p.StandardError.ReadToEndAsync();
                return s;
            }
            catch
            {
                await s.DisposeAsync();
                throw;
            }
        }

        public async Task<JsonElement> ChatAsync(string json)
        {
            using var body = new StringContent(json, Encoding.UTF8, "application/json");
            using HttpResponseMessage r = await Http.PostAsync("/v1/chat/completions", body);
            string text = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.OK, text);
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }

        // SIGTERM, then the exit code after the graceful shutdown
        public async Task<int> StopAsync()
        {
            using (var kill = Process.Start("kill", ["-TERM", _p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            Assert.True(_p.WaitForExit(60_000));
            if (_drain != null) await _drain;
            return _p.ExitCode;
        }

        public ValueTask DisposeAsync()
        {
            Http?.Dispose();
            if (!_p.HasExited) _p.Kill(true);
            _p.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
