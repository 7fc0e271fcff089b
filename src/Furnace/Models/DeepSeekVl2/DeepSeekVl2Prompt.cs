// DeepSeek-VL2's prompt ids, as DeepseekVLV2Processor.format_messages_v2 + tokenize_with_images build them for
// inference (processing_deepseek_vl_v2.py, conversation.py's "deepseek" template, at DeepSeek-VL2 ef9f91e):
//   BOS once; a system message (first only) as its bare text; each user turn as
//   "<|User|>: {content.strip()}\n\n<|Assistant|>:" (or "<|User|>:" when the content is empty), split at every
//   "<image>": the text pieces are encoded without special tokens and each image becomes ImageTokenCount copies of the
//   image token id (the slots prepare_inputs_embeds fills); an assistant turn is its stripped text + EOS.
// The final empty assistant turn of an inference conversation leaves only its EOS, which inference_mode drops.
// Tiling is decided once for the whole prompt: cropping only when it holds at most two images.
using Furnace.Formats.ChatTemplates;
using Furnace.Formats.Tokenizers;

namespace Furnace.Models.DeepSeekVl2;

public sealed record DeepSeekVl2Prompt(
    /// <summary>(T,) token ids, the image token id at image slots.</summary>
    int[] InputIds,
    /// <summary>(T,) images_seq_mask: true at the slots the image rows fill.</summary>
    bool[] ImageMask,
    /// <summary>Each image's tile grid, in prompt order.</summary>
    DeepSeekVl2TileGrid[] Grids,
    /// <summary>Each image's slot count (num_image_tokens).</summary>
    int[] ImageTokenCounts)
{
    public const string UserRole = "<|User|>";
    public const string AssistantRole = "<|Assistant|>";

    public int Positions => InputIds.Length;

    /// <summary>
    /// The ids of a conversation for generation: messages with roles system / user (or &lt;|User|&gt;) / assistant
    /// (or &lt;|Assistant|&gt;); the last must be the user turn being answered or an assistant turn after it (whose
    /// text the answer continues; its EOS is dropped as inference_mode does).
    /// imageSizes are the (width, height) of the images the &lt;image&gt; placeholders stand for, in order.
    /// </summary>
    public static DeepSeekVl2Prompt Build(IReadOnlyList<ChatMessage> messages, IReadOnlyList<(int Width, int Height)> imageSizes,
        Tokenizer tokenizer, DeepSeekVl2ProcessorConfig processor)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (messages.Count == 0) throw new FurnaceException("a DeepSeek-VL2 prompt needs at least one user message");
        for (int i = 0; i < messages.Count; i++) Role(messages[i].Role, i); // an unknown role fails naming its message
        var list = messages.ToList();
        if (Role(list[^1].Role, list.Count - 1) == "user") list.Add(new ChatMessage("assistant", ""));
        if (Role(list[^1].Role, list.Count - 1) != "assistant")
            throw new FurnaceException("a DeepSeek-VL2 prompt for generation must end with a user message (or an assistant turn after it)");

        string image = processor.ImageToken;
        int placeholders = list.Where(m => Role(m.Role, 0) == "user").Sum(m => Count(m.Content.Trim(), image));
        if (list.Any(m => Role(m.Role, 0) != "user" && m.Content.Contains(image, StringComparison.Ordinal)))
            throw new FurnaceException($"only user messages may hold the image placeholder {image}");
        if (placeholders != imageSizes.Count)
            throw new FurnaceException($"the prompt has {placeholders} {image} placeholder(s) but {imageSizes.Count} image(s) were given");

        int bos = tokenizer.BosId ?? throw new FurnaceException("the tokenizer defines no BOS token (DeepSeek-VL2 prompts begin with it)");
        int eos = tokenizer.EosId ?? throw new FurnaceException("the tokenizer defines no EOS token");
        int imageId = tokenizer.TokenId(image) ?? throw new FurnaceException($"the tokenizer has no token '{image}' (processor_config.json 'image_token')");
        bool cropping = DeepSeekVl2Tiling.Cropping(imageSizes.Count);
        int side = DeepSeekVl2Tiling.TokensPerSide(processor);

        var ids = new List<int> { bos };
        var grids = new List<DeepSeekVl2TileGrid>();
        var counts = new List<int>();
        int next = 0;
        for (int i = 0; i < list.Count; i++)
        {
            string content = list[i].Content.Trim();
            switch (Role(list[i].Role, i))
            {
                case "system":
                    if (i != 0) throw new FurnaceException($"message {i}: a system message may only come first");
                    ids.AddRange(Encode(tokenizer, content));
                    break;
                case "user":
                    string turn = (content.Length > 0 ? UserRole + ": " + content + "\n\n" : UserRole + ":") + AssistantRole + ":";
                    string[] pieces = turn.Split(image);
                    for (int k = 0; k < pieces.Length; k++)
                    {
                        ids.AddRange(Encode(tokenizer, pieces[k]));
                        if (k == pieces.Length - 1) break;
                        var (w, h) = imageSizes[next++];
                        var grid = DeepSeekVl2Tiling.Grid(w, h, processor, cropping);
                        int n = DeepSeekVl2Tiling.ImageTokenCount(side, grid);
                        grids.Add(grid);
                        counts.Add(n);
                        for (int t = 0; t < n; t++) ids.Add(imageId);
                    }
                    break;
                default:
                    ids.AddRange(Encode(tokenizer, content));
                    ids.Add(eos);
                    break;
            }
        }
        ids.RemoveAt(ids.Count - 1); // inference_mode: the closing assistant turn's EOS

        // images_seq_mask: the image token id marks exactly the expanded slots, since "<image>" was split out of the text
        var idArray = ids.ToArray();
        var mask = new bool[idArray.Length];
        int slots = 0;
        for (int t = 0; t < idArray.Length; t++) slots += (mask[t] = idArray[t] == imageId) ? 1 : 0;
        if (slots != counts.Sum()) throw new FurnaceException($"the prompt text itself encodes to the image token '{image}'");
        return new DeepSeekVl2Prompt(idArray, mask, [.. grids], [.. counts]);
    }

    /// <summary>A single question about images: "&lt;image&gt;\n" × images in front unless it places them itself.</summary>
    public static string Question(string text, int images, string imageToken = "<image>")
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains(imageToken, StringComparison.Ordinal) || images == 0) return text;
        return string.Concat(Enumerable.Repeat(imageToken + "\n", images)) + text;
    }

    private static int[] Encode(Tokenizer t, string text) => text.Length == 0 ? [] : t.Encode(text, addSpecial: false, parseSpecial: true);

    private static int Count(string s, string sub)
    {
        int n = 0;
        for (int i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private static string Role(string role, int index) => role switch
    {
        "user" or UserRole => "user",
        "assistant" or AssistantRole => "assistant",
        "system" or "deepseekapi-sys" => "system",
        _ => throw new FurnaceException($"message {index}: role '{role}' is not supported (system, user, assistant)"),
    };
}
