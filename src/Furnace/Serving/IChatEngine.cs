// What serves chat requests: a model behind a queue. `furnace serve`, the IChatClient adapter and the load test all
// talk to an IChatEngine, so one-at-a-time and continuously batched engines are interchangeable.
//
// CONTRACT FILE (issue 7): keep these signatures stable; add members rather than changing them.
using Furnace.Formats.Images;
using Furnace.Generation;

namespace Furnace.Serving;

/// <summary>One content part of a message: text or a decoded image.</summary>
public sealed record ChatPart(string? Text, RgbImage? Image)
{
    public static ChatPart FromText(string text) => new(text, null);

    public static ChatPart FromImage(RgbImage image) => new(null, image);
}

/// <summary>A message: role "system", "user" or "assistant", with its parts in order.</summary>
public sealed record ChatTurn(string Role, IReadOnlyList<ChatPart> Parts);

public sealed record ChatRequest(IReadOnlyList<ChatTurn> Messages, GenerationOptions Options);

/// <summary>A streamed piece of the answer; the last update of a request carries Final (counts, finish reason, timings).</summary>
public sealed record ChatUpdate(string Text, GenerationResult? Final = null);

public interface IChatEngine : IDisposable
{
    /// <summary>The model's id as /v1/models lists it.</summary>
    string ModelId { get; }

    /// <summary>Whether image parts are accepted (a text-only decoder rejects them).</summary>
    bool AcceptsImages { get; }

    /// <summary>Requests waiting for a slot right now.</summary>
    int QueueDepth { get; }

    /// <summary>
    /// Streams the answer. Throws ChatQueueFullException at once when the queue is full, FurnaceException for a request
    /// the model cannot take (too long, wrong number of images); cancellation stops the generation and frees its slot.
    /// </summary>
    IAsyncEnumerable<ChatUpdate> StreamAsync(ChatRequest request, CancellationToken cancellation = default);
}

/// <summary>The engine's bounded queue is full; the server answers 429/503 with Retry-After.</summary>
public sealed class ChatQueueFullException(int capacity)
    : FurnaceException($"the request queue is full ({capacity} waiting); retry later")
{
    public int Capacity { get; } = capacity;
}
