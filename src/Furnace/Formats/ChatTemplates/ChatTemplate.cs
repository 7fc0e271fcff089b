// Chat prompt formats of the model families Furnace runs, written out in C# so no Jinja engine is needed. Each
// renders exactly what the model's official Jinja template (tokenizer_config.json chat_template) renders, including
// the BOS text where the template emits {{ bos_token }}; encode the result with addSpecial: false, parseSpecial: true
// so that BOS is not doubled and the role markers become their special tokens. Detect mirrors llama.cpp's
// llm_chat_detect_template (src/llama-chat.cpp): recognise a template by distinctive substrings.
namespace Furnace.Formats.ChatTemplates;

public abstract class ChatTemplate
{
    private protected ChatTemplate(string name)
    {
        Name = name;
    }

    /// <summary>The name ByName accepts (--template NAME).</summary>
    public string Name { get; }

    /// <summary>Whether Render puts the BOS token's text at the start, as the official template does.</summary>
    public virtual bool RendersBos => false;

    public abstract string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);

    public static IReadOnlyList<string> Names { get; } = ["deepseek-llm", "deepseek-r1", "deepseek-v3", "llama3", "chatml", "qwen2", "llama2", "plain"];

    public static ChatTemplate ByName(string name) => name.Trim().ToLowerInvariant() switch
    {
        "deepseek-llm" or "deepseek" or "deepseek2" => new DeepSeekLlmTemplate(),
        "deepseek-r1" or "deepseek-r1-distill" => new DeepSeekR1Template(),
        "deepseek-v3" or "deepseek3" => new DeepSeekR1Template(reasoning: false),
        "llama3" or "llama-3" => new Llama3Template(),
        "chatml" => new ChatMlTemplate(defaultSystemPrompt: null),
        "qwen2" or "qwen" => new ChatMlTemplate(defaultSystemPrompt: ChatMlTemplate.QwenDefaultSystem, name: "qwen2"),
        "llama2" or "llama-2" => new Llama2Template(),
        "plain" => new PlainTemplate(),
        _ => throw new FurnaceException($"unknown chat template '{name}' (known: {string.Join(", ", Names)})"),
    };

    /// <summary>The built-in template a Jinja chat template corresponds to, or null if it is not recognised.</summary>
    public static ChatTemplate? Detect(string? jinjaTemplate)
    {
        if (string.IsNullOrWhiteSpace(jinjaTemplate)) return null;
        bool Has(string s) => jinjaTemplate.Contains(s, StringComparison.Ordinal);
        if (Has("<|im_start|>")) return Has("You are a helpful assistant") ? ByName("qwen2") : ByName("chatml");
        if (Has("<|start_header_id|>") && Has("<|end_header_id|>")) return ByName("llama3");
        // R1 and its distills split "</think>" off past turns (and open "<think>"); V3's template has no reasoning at all
        if (Has("<｜Assistant｜>") && Has("<｜User｜>")) return ByName(Has("think>") ? "deepseek-r1" : "deepseek-v3");
        if (Has("'Assistant: ' + message['content'] + eos_token") || (Has("'User: '") && Has("'Assistant:'"))) return ByName("deepseek-llm");
        if (Has("[INST]")) return ByName("llama2");
        return null;
    }

    private protected static void RequireRoles(IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        foreach (var m in messages)
        {
            if (m.Role is not ("system" or "user" or "assistant"))
                throw new FurnaceException($"chat message role '{m.Role}' is not one of system, user, assistant");
        }
    }
}
