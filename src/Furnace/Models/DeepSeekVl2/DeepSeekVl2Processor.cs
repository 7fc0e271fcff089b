// DeepseekVLV2Processor as one object (processing_deepseek_vl_v2.py at DeepSeek-VL2 ef9f91e): a model directory's
// processor_config.json and tokenizer.json turned into what the model consumes — the prompt ids with their image
// slots, and each image's global view and tiles — with the tiling decided once for the whole prompt.
using Furnace.Formats.ChatTemplates;
using Furnace.Formats.Images;
using Furnace.Formats.Tokenizers;

namespace Furnace.Models.DeepSeekVl2;

/// <summary>A prompt ready for the tower and the decoder: Views[i] are the views of the image filling the i-th run of slots.</summary>
public sealed record DeepSeekVl2Inputs(DeepSeekVl2Prompt Prompt, DeepSeekVl2ImageViews[] Images);

public sealed class DeepSeekVl2Processor
{
    public DeepSeekVl2Processor(DeepSeekVl2ProcessorConfig config, Tokenizer tokenizer)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Images = new DeepSeekVl2ImageProcessor(config);
    }

    public DeepSeekVl2ProcessorConfig Config { get; }

    public Tokenizer Tokenizer { get; }

    public DeepSeekVl2ImageProcessor Images { get; }

    /// <summary>From a model directory: processor_config.json and tokenizer.json (each missing one is a one-line error).</summary>
    public static DeepSeekVl2Processor Load(string dir)
    {
        var config = DeepSeekVl2ProcessorConfig.Load(dir);
        return new DeepSeekVl2Processor(config, Tokenizer.FromHuggingFace(Path.Combine(dir, "tokenizer.json")));
    }

    /// <summary>The conversation's ids and the images' views; images fill the &lt;image&gt; placeholders in order.</summary>
    public DeepSeekVl2Inputs Prepare(IReadOnlyList<ChatMessage> messages, IReadOnlyList<RgbImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var prompt = DeepSeekVl2Prompt.Build(messages, images.Select(i => (i.Width, i.Height)).ToArray(), Tokenizer, Config);
        var views = Images.ProcessAll(images);
        for (int i = 0; i < views.Length; i++)
        {
            if (views[i].Grid != prompt.Grids[i]) throw new InvalidOperationException($"image {i}: the prompt and the pixels disagree on the tile grid");
        }
        return new DeepSeekVl2Inputs(prompt, views);
    }

    /// <summary>One question about the images, as DeepSeek-VL2's README asks it: a user turn ("&lt;image&gt;\n" per
    /// image in front unless the question places them) and the empty assistant turn.</summary>
    public DeepSeekVl2Inputs Ask(string question, IReadOnlyList<RgbImage> images) =>
        Prepare([new ChatMessage("user", DeepSeekVl2Prompt.Question(question, images.Count, Config.ImageToken))], images);
}
