// Reads an OpenAI chat completions request body (https://platform.openai.com/docs/api-reference/chat/create) into a
// ChatRequest, strictly: wrong types, unknown roles and unsupported options are 400s that name the offending field
// (param), never a 500. Supported: model, messages (string content or text/image_url parts; "developer" is read as
// "system"), max_tokens / max_completion_tokens, temperature, top_p, seed, stop, stream, stream_options.include_usage,
// n = 1. Fields that only tune what Furnace does not do (presence_penalty, user, ...) are accepted and ignored.
using System.Text.Json;
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Serving;

namespace Furnace.Server;

public sealed class ChatCompletionParser(ServerOptions options, ImageFetcher images, string modelId, bool acceptsImages)
{
    public async Task<ChatCompletionRequest> ParseAsync(ReadOnlyMemory<byte> body, CancellationToken cancellation)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"the request body is not valid JSON ({e.Message})", code: "invalid_json");
        }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("the request body must be a JSON object", code: "invalid_json");

            // One model is served, so any name is accepted (as llama.cpp's server does: most OpenAI clients send a
            // fixed name such as "gpt-4o"); the response names the served id. It must still be a string.
            if (root.TryGetProperty("model", out JsonElement model) && model.ValueKind != JsonValueKind.Null) String(model, "model");
            if (root.TryGetProperty("n", out JsonElement n) && n.ValueKind != JsonValueKind.Null && Int(n, "n") != 1)
                throw ApiException.BadRequest("n must be 1: this server returns one choice per request; send several requests instead", "n", "unsupported_value");
            if (root.TryGetProperty("logprobs", out JsonElement lp) && lp.ValueKind == JsonValueKind.True)
                throw ApiException.BadRequest("logprobs are not supported", "logprobs", "unsupported_value");
            if (root.TryGetProperty("tools", out JsonElement tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0)
                throw ApiException.BadRequest("tools (function calling) are not supported", "tools", "unsupported_value");

            var generation = ReadOptions(root);
            bool stream = root.TryGetProperty("stream", out JsonElement s) && s.ValueKind != JsonValueKind.Null && Bool(s, "stream");
            bool includeUsage = false;
            if (root.TryGetProperty("stream_options", out JsonElement so) && so.ValueKind != JsonValueKind.Null)
            {
                if (so.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("stream_options must be an object", "stream_options", "invalid_type");
                if (so.TryGetProperty("include_usage", out JsonElement iu) && iu.ValueKind != JsonValueKind.Null) includeUsage = Bool(iu, "stream_options.include_usage");
            }

            if (!root.TryGetProperty("messages", out JsonElement messages)) throw ApiException.BadRequest("messages is required", "messages", "missing_required_parameter");
            if (messages.ValueKind != JsonValueKind.Array) throw ApiException.BadRequest("messages must be an array", "messages", "invalid_type");
            if (messages.GetArrayLength() == 0) throw ApiException.BadRequest("messages must not be empty", "messages", "invalid_value");
            var turns = new List<ChatTurn>();
            int imageCount = 0;
            int i = 0;
            foreach (JsonElement message in messages.EnumerateArray())
            {
                string at = $"messages[{i}]";
                if (message.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest($"{at} must be an object", at, "invalid_type");
                if (!message.TryGetProperty("role", out JsonElement roleElement)) throw ApiException.BadRequest($"{at}.role is required", at + ".role", "missing_required_parameter");
                string role = String(roleElement, at + ".role") switch
                {
                    "system" or "developer" => "system",
                    "user" => "user",
                    "assistant" => "assistant",
                    string other => throw ApiException.BadRequest($"{at}.role '{other}' is not supported (system, developer, user, assistant)", at + ".role", "invalid_value"),
                };
                var parts = new List<ChatPart>();
                message.TryGetProperty("content", out JsonElement content);
                switch (content.ValueKind)
                {
                    case JsonValueKind.String:
                        parts.Add(ChatPart.FromText(content.GetString()!));
                        break;
                    case JsonValueKind.Null or JsonValueKind.Undefined when role == "assistant":
                        break;
                    case JsonValueKind.Array:
                        int j = 0;
                        foreach (JsonElement part in content.EnumerateArray())
                        {
                            string pat = $"{at}.content[{j}]";
                            if (part.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest($"{pat} must be an object", pat, "invalid_type");
                            if (!part.TryGetProperty("type", out JsonElement type)) throw ApiException.BadRequest($"{pat}.type is required", pat + ".type", "missing_required_parameter");
                            switch (String(type, pat + ".type"))
                            {
                                case "text":
                                    if (!part.TryGetProperty("text", out JsonElement text)) throw ApiException.BadRequest($"{pat}.text is required", pat + ".text", "missing_required_parameter");
                                    parts.Add(ChatPart.FromText(String(text, pat + ".text")));
                                    break;
                                case "image_url":
                                    if (!acceptsImages) throw ApiException.BadRequest($"{pat}: the model '{modelId}' is text-only and takes no images", pat, "unsupported_value");
                                    if (role != "user") throw ApiException.BadRequest($"{pat}: images are only allowed in user messages", pat, "invalid_value");
                                    if (++imageCount > options.MaxImages)
                                        throw ApiException.BadRequest($"too many images: at most {options.MaxImages} per request", "messages", "too_many_images");
                                    string url = ImageUrl(part, pat);
                                    RgbImage image = await images.FetchAsync(url, pat + ".image_url", cancellation).ConfigureAwait(false);
                                    parts.Add(ChatPart.FromImage(image));
                                    break;
                                case string other:
                                    throw ApiException.BadRequest($"{pat}.type '{other}' is not supported (text, image_url)", pat + ".type", "invalid_value");
                            }
                            j++;
                        }
                        break;
                    case JsonValueKind.Undefined:
                        throw ApiException.BadRequest($"{at}.content is required", at + ".content", "missing_required_parameter");
                    default:
                        throw ApiException.BadRequest($"{at}.content must be a string or an array of content parts", at + ".content", "invalid_type");
                }
                turns.Add(new ChatTurn(role, parts));
                i++;
            }
            if (turns[^1].Role == "assistant")
                throw ApiException.BadRequest("the last message must be a user (or system) message", "messages", "invalid_value");
            return new ChatCompletionRequest(new ChatRequest(turns, generation), stream, includeUsage, imageCount);
        }
    }

    private GenerationOptions ReadOptions(JsonElement root)
    {
        int maxTokens = Math.Min(options.DefaultMaxTokens, options.MaxTokensCap);
        foreach (string name in (string[])["max_tokens", "max_completion_tokens"])
        {
            if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null) continue;
            int v = Int(e, name);
            if (v < 1) throw ApiException.BadRequest($"{name} must be at least 1", name, "invalid_value");
            if (v > options.MaxTokensCap) throw ApiException.BadRequest($"{name} {v} is more than this server's limit of {options.MaxTokensCap}", name, "invalid_value");
            maxTokens = v;
        }
        // OpenAI's sampling: temperature (default 1) and nucleus top_p only, no top-k or min-p
        float temperature = 1f, topP = 1f;
        if (root.TryGetProperty("temperature", out JsonElement t) && t.ValueKind != JsonValueKind.Null)
        {
            temperature = Number(t, "temperature");
            if (!(temperature >= 0 && temperature <= 2)) throw ApiException.BadRequest("temperature must be between 0 and 2", "temperature", "invalid_value");
        }
        if (root.TryGetProperty("top_p", out JsonElement p) && p.ValueKind != JsonValueKind.Null)
        {
            topP = Number(p, "top_p");
            if (!(topP > 0 && topP <= 1)) throw ApiException.BadRequest("top_p must be in (0, 1]", "top_p", "invalid_value");
        }
        ulong seed = new SamplingOptions().Seed;
        if (root.TryGetProperty("seed", out JsonElement sd) && sd.ValueKind != JsonValueKind.Null)
        {
            if (sd.ValueKind != JsonValueKind.Number || !sd.TryGetInt64(out long sv)) throw ApiException.BadRequest("seed must be an integer", "seed", "invalid_type");
            seed = unchecked((ulong)sv);
        }
        var stop = new List<string>();
        if (root.TryGetProperty("stop", out JsonElement st))
        {
            switch (st.ValueKind)
            {
                case JsonValueKind.Null:
                    break;
                case JsonValueKind.String:
                    stop.Add(st.GetString()!);
                    break;
                case JsonValueKind.Array:
                    int k = 0;
                    foreach (JsonElement e in st.EnumerateArray()) stop.Add(String(e, $"stop[{k++}]"));
                    if (stop.Count > 4) throw ApiException.BadRequest("stop takes at most 4 strings", "stop", "invalid_value");
                    break;
                default:
                    throw ApiException.BadRequest("stop must be a string or an array of strings", "stop", "invalid_type");
            }
            if (stop.Any(x => x.Length == 0)) throw ApiException.BadRequest("stop strings must not be empty", "stop", "invalid_value");
        }
        return new GenerationOptions
        {
            MaxTokens = maxTokens,
            Stop = stop,
            Sampling = new SamplingOptions { Temperature = temperature, TopP = topP, TopK = 0, MinP = 0, Seed = seed },
        };
    }

    private static string ImageUrl(JsonElement part, string at)
    {
        if (!part.TryGetProperty("image_url", out JsonElement iu)) throw ApiException.BadRequest($"{at}.image_url is required", at + ".image_url", "missing_required_parameter");
        if (iu.ValueKind == JsonValueKind.String) return iu.GetString()!;
        if (iu.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest($"{at}.image_url must be an object {{\"url\": ...}}", at + ".image_url", "invalid_type");
        if (!iu.TryGetProperty("url", out JsonElement url)) throw ApiException.BadRequest($"{at}.image_url.url is required", at + ".image_url.url", "missing_required_parameter");
        return String(url, at + ".image_url.url");
    }

    private static string String(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw ApiException.BadRequest($"{name} must be a string", name, "invalid_type");

    private static bool Bool(JsonElement e, string name) => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw ApiException.BadRequest($"{name} must be a boolean", name, "invalid_type"),
    };

    private static int Int(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v : throw ApiException.BadRequest($"{name} must be an integer", name, "invalid_type");

    private static float Number(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Number ? (float)e.GetDouble() : throw ApiException.BadRequest($"{name} must be a number", name, "invalid_type");
}
