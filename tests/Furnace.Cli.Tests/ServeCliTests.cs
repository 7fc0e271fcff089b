// `furnace serve` as a real process: option errors are one line with exit code 1; on a tiny decoder it prints its
// address (port 0 picks a free one), answers a chat completion, and exits 0 after SIGTERM (graceful shutdown).
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
    public void Serve_NoModel_OneLineError()
    {
        var r = FurnaceProcess.Run("serve");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("furnace: error: --model is required", r.Stderr);
    }

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

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in (string[])[Path.Combine(AppContext.BaseDirectory, "Furnace.Cli.dll"), "serve", "--model", model, "--port", "0", "-t", "1"])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        try
        {
            // "serving tiny-llm (text only) on http://127.0.0.1:PORT/ — ..."
            string? line;
            Uri? address = null;
            while ((line = await p.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60))) != null)
            {
                if (!line.StartsWith("serving ", StringComparison.Ordinal)) continue;
                string url = line[(line.IndexOf("http://", StringComparison.Ordinal))..].Split(' ')[0];
                address = new Uri(url);
                break;
            }
            Assert.NotNull(address);
            Task drain = p.StandardError.ReadToEndAsync();

            using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
            using var body = new StringContent("""{"messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"temperature":0}""", Encoding.UTF8, "application/json");
            using HttpResponseMessage r = await http.PostAsync("/v1/chat/completions", body);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            Assert.Equal("tiny-llm", doc.RootElement.GetProperty("model").GetString());
            Assert.InRange(doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 1, 4);

            using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            Assert.True(p.WaitForExit(60_000));
            Assert.Equal(0, p.ExitCode);
            await drain;
        }
        finally
        {
            if (!p.HasExited) p.Kill(true);
        }
    }
}
