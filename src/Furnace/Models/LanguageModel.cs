// A decoder with its tokenizer and chat format: what `generate` and the VLM's language side need, opened from a
// GGUF file (vocabulary and chat template in its metadata) or a Hugging Face directory (tokenizer.json,
// tokenizer_config.json).
using Furnace.Formats.ChatTemplates;
using Furnace.Formats.Tokenizers;
using Furnace.Models.Llama;
using Furnace.Models.Lora;

namespace Furnace.Models;

public sealed class LanguageModel : IDisposable
{
    private LanguageModel(IDecoder decoder, Tokenizer tokenizer, ChatTemplate? template, string path)
    {
        Decoder = decoder;
        Tokenizer = tokenizer;
        Template = template;
        Path = path;
    }

    /// <summary>The decoder, whatever its architecture (generation and logits go through this).</summary>
    public IDecoder Decoder { get; }

    /// <summary>The decoder as a Llama-family model, for what only those support (VLM splicing, batched serving, LoRA training).</summary>
    public LlamaModel Model => Decoder as LlamaModel
        ?? throw new FurnaceException($"{Path}: this needs a Llama-family decoder, but the model is '{Decoder.Architecture}' (supported there: generate, logits, perplexity, tokenize, info, bench llm, serve, and as the decoder of a composed VLM)");

    public Tokenizer Tokenizer { get; }

    /// <summary>The recognised chat template of the checkpoint, or null when it has none we know.</summary>
    public ChatTemplate? Template { get; }

    public string Path { get; }

    public static LanguageModel Open(string path) => Open(path, null);

    /// <summary>As Open, with a LoRA adapter merged into the decoder at load when given.</summary>
    public static LanguageModel Open(string path, LoraAdapter? lora, float loraScale = 1f)
    {
        IDecoder model = ModelLoader.OpenDecoder(path, lora, loraScale);
        try
        {
            Tokenizer tok = Tokenizer.Open(path);
            if (tok.VocabSize > model.VocabSize)
                throw new FurnaceException($"{path}: the tokenizer has {tok.VocabSize} tokens but the model only {model.VocabSize}");
            return new LanguageModel(model, tok, ChatTemplate.Detect(tok.ChatTemplateSource), path);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Prompt token ids: a chat rendered with the template (specials parsed), or raw text with BOS as the model wants.</summary>
    public int[] EncodePrompt(string text, bool chat, string? system = null, ChatTemplate? templateOverride = null)
    {
        if (!chat) return Tokenizer.Encode(text, addSpecial: true, parseSpecial: false);
        ChatTemplate t = templateOverride ?? Template
            ?? throw new FurnaceException($"{Path}: the model has no chat template Furnace recognises; pass --template NAME ({string.Join(", ", ChatTemplate.Names)})");
        var messages = new List<ChatMessage>();
        if (!string.IsNullOrEmpty(system)) messages.Add(new ChatMessage("system", system));
        messages.Add(new ChatMessage("user", text));
        string rendered = t.Render(messages, addGenerationPrompt: true);
        int[] ids = Tokenizer.Encode(rendered, addSpecial: !t.RendersBos, parseSpecial: true);
        return ids;
    }

    public void Dispose() => Decoder.Dispose();
}
