// A parsed POST /v1/chat/completions body: the engine's request plus the response-shape flags.
using Furnace.Serving;

namespace Furnace.Server;

public sealed record ChatCompletionRequest(ChatRequest Request, bool Stream, bool IncludeUsage, int Images);
