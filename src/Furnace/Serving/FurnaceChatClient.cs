// Microsoft.Extensions.AI's IChatClient over an IChatEngine, so .NET code written against that abstraction (and its
// middleware: logging, caching, telemetry) can run Furnace models in process. Messages map to ChatTurns (TextContent
// → text parts, DataContent with an image/* media type → decoded image parts), ChatOptions to GenerationOptions, the
// engine's final result to UsageDetails and a ChatFinishReason.
using System.Runtime.CompilerServices;
using Furnace.Formats.Images;
using Furnace.Generation;
using Microsoft.Extensions.AI;

namespace Furnace.Serving;

public sealed class FurnaceChatClient : IChatClient
{
    private readonly IChatEngine _engine;
    private readonly bool _ownsEngine;

    public FurnaceChatClient(IChatEngine engine, bool ownsEngine = true, GenerationOptions? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        _engine = engine;
        _ownsEngine = ownsEngine;
        Defaults = (defaults ?? new GenerationOptions()).Validated();
        Metadata = new ChatClientMetadata("furnace", null, engine.ModelId);
    }

    /// <summary>Generation settings for whatever ChatOptions leave unset (max tokens, sampling, stop strings).</summary>
    public GenerationOptions Defaults { get; }

    public ChatClientMetadata Metadata { get; }

    public IChatEngine Engine => _engine;

    /// <summary>A client over a model path as ChatEngines.Open takes it (LLaVA directory, GGUF file or HF decoder directory).</summary>
    public static FurnaceChatClient Open(string modelPath, ChatEngineOptions? options = null, GenerationOptions? defaults = null) =>
        new(ChatEngines.Open(modelPath, options ?? new ChatEngineOptions()), ownsEngine: true, defaults);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ChatRequest request = ToRequest(messages, options);
        var text = new System.Text.StringBuilder();
        GenerationResult? final = null;
        await foreach (ChatUpdate u in _engine.StreamAsync(request, cancellationToken).ConfigureAwait(false))
        {
            text.Append(u.Text);
            final ??= u.Final;
        }
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, text.ToString()))
        {
            ModelId = _engine.ModelId,
            ResponseId = NewId(),
            CreatedAt = DateTimeOffset.UtcNow,
        };
        if (final != null)
        {
            response.FinishReason = FinishReason(final.FinishReason);
            response.Usage = Usage(final);
        }
        return response;
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ChatRequest request = ToRequest(messages, options);
        string id = NewId();
        DateTimeOffset created = DateTimeOffset.UtcNow;
        await foreach (ChatUpdate u in _engine.StreamAsync(request, cancellationToken).ConfigureAwait(false))
        {
            if (u.Text.Length > 0)
                yield return new ChatResponseUpdate(ChatRole.Assistant, u.Text) { ResponseId = id, MessageId = id, ModelId = _engine.ModelId, CreatedAt = created };
            if (u.Final is { } final)
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(Usage(final))])
                {
                    ResponseId = id, MessageId = id, ModelId = _engine.ModelId, CreatedAt = created, FinishReason = FinishReason(final.FinishReason),
                };
            }
        }
    }

    /// <summary>The engine's request for these messages: ChatOptions over the client's defaults, images decoded.</summary>
    public ChatRequest ToRequest(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var turns = new List<ChatTurn>();
        if (!string.IsNullOrEmpty(options?.Instructions)) turns.Add(new ChatTurn("system", [ChatPart.FromText(options.Instructions)]));
        int index = 0;
        foreach (ChatMessage m in messages)
        {
            string role = m.Role == ChatRole.System ? "system" : m.Role == ChatRole.User ? "user" : m.Role == ChatRole.Assistant ? "assistant"
                : throw new FurnaceException($"messages[{index}]: role '{m.Role}' is not supported (system, user, assistant)");
            var parts = new List<ChatPart>();
            foreach (AIContent content in m.Contents)
            {
                switch (content)
                {
                    case TextContent t:
                        if (t.Text.Length > 0) parts.Add(ChatPart.FromText(t.Text));
                        break;
                    case DataContent d when d.HasTopLevelMediaType("image"):
                        parts.Add(ChatPart.FromImage(ImageDecoder.Decode(d.Data.ToArray(), $"messages[{index}] {d.MediaType} data")));
                        break;
                    case UsageContent:
                        break;
                    default:
                        throw new FurnaceException($"messages[{index}]: {Describe(content)} content is not supported (text, and images as DataContent with an image/* media type)");
                }
            }
            turns.Add(new ChatTurn(role, parts));
            index++;
        }
        return new ChatRequest(turns, Options(options));
    }

    /// <summary>ChatOptions over the defaults: MaxOutputTokens, Temperature, TopP, TopK, Seed, StopSequences.</summary>
    public GenerationOptions Options(ChatOptions? o)
    {
        if (o == null) return Defaults;
        SamplingOptions s = Defaults.Sampling;
        if (o.Temperature is float temperature) s = s with { Temperature = temperature };
        if (o.TopP is float topP) s = s with { TopP = topP };
        if (o.TopK is int topK) s = s with { TopK = topK };
        if (o.Seed is long seed) s = s with { Seed = unchecked((ulong)seed) };
        GenerationOptions g = Defaults with { Sampling = s };
        if (o.MaxOutputTokens is int max) g = g with { MaxTokens = max };
        if (o.StopSequences is { Count: > 0 } stops) g = g with { Stop = [.. stops] };
        return g.Validated();
    }

    private static ChatFinishReason FinishReason(string reason) => reason == "length" ? ChatFinishReason.Length : ChatFinishReason.Stop;

    private static UsageDetails Usage(GenerationResult r) => new()
    {
        InputTokenCount = r.PromptTokens,
        OutputTokenCount = r.GeneratedTokens,
        TotalTokenCount = r.PromptTokens + r.GeneratedTokens,
    };

    private static string Describe(AIContent c) => c is DataContent d ? $"'{d.MediaType}' data" : c is UriContent u ? $"a URI ({u.Uri})" : c.GetType().Name;

    private static string NewId() => "chatcmpl-" + Guid.NewGuid().ToString("N")[..24];

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey != null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return Metadata;
        if (serviceType.IsInstanceOfType(this)) return this;
        if (serviceType.IsInstanceOfType(_engine)) return _engine;
        return null;
    }

    public void Dispose()
    {
        if (_ownsEngine) _engine.Dispose();
    }
}
