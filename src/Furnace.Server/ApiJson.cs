// The JSON bodies the API writes, with Utf8JsonWriter so field order and nulls are exactly OpenAI's: error objects,
// chat.completion, chat.completion.chunk and the model list.
using System.Text.Encodings.Web;
using System.Text.Json;
using Furnace.Generation;

namespace Furnace.Server;

internal static class ApiJson
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Error(string message, string type, string? param, string? code) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", message);
        w.WriteString("type", type);
        WriteNullable(w, "param", param);
        WriteNullable(w, "code", code);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    public static byte[] Completion(string id, long created, string model, string text, GenerationResult result) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "chat.completion");
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        w.WriteString("content", text);
        if (result.Reasoning != null) w.WriteString("reasoning_content", result.Reasoning); // serve --think hide, as DeepSeek's API
        w.WriteEndObject();
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", result.FinishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        WriteUsage(w, result);
        w.WriteEndObject();
    });

    /// <summary>A chunk with one choice: delta role and/or content, finish_reason on the last one.</summary>
    public static byte[] Chunk(string id, long created, string model, string? role, string? content, string? finishReason, bool usageNull) => Write(w =>
    {
        StartChunk(w, id, created, model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("delta");
        if (role != null) w.WriteString("role", role);
        if (content != null) w.WriteString("content", content);
        w.WriteEndObject();
        w.WriteNull("logprobs");
        WriteNullable(w, "finish_reason", finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        if (usageNull) w.WriteNull("usage");
        w.WriteEndObject();
    });

    /// <summary>stream_options.include_usage: the extra last chunk with no choices and the usage.</summary>
    public static byte[] UsageChunk(string id, long created, string model, GenerationResult result) => Write(w =>
    {
        StartChunk(w, id, created, model);
        w.WriteStartArray("choices");
        w.WriteEndArray();
        WriteUsage(w, result);
        w.WriteEndObject();
    });

    public static byte[] Models(string id, long created) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        WriteModel(w, id, created);
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static byte[] Model(string id, long created) => Write(w => WriteModel(w, id, created));

    public static byte[] Health(string status, string model, int queueDepth) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("status", status);
        w.WriteString("model", model);
        w.WriteNumber("queue_depth", queueDepth);
        w.WriteEndObject();
    });

    private static void WriteModel(Utf8JsonWriter w, string id, long created)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "model");
        w.WriteNumber("created", created);
        w.WriteString("owned_by", "furnace");
        w.WriteEndObject();
    }

    private static void StartChunk(Utf8JsonWriter w, string id, long created, string model)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", created);
        w.WriteString("model", model);
    }

    private static void WriteUsage(Utf8JsonWriter w, GenerationResult result)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", result.PromptTokens);
        w.WriteNumber("completion_tokens", result.GeneratedTokens);
        w.WriteNumber("total_tokens", result.PromptTokens + result.GeneratedTokens);
        w.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value == null) w.WriteNull(name);
        else w.WriteString(name, value);
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, Options)) body(w);
        return ms.ToArray();
    }
}
