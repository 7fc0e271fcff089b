// Opens a DeepSeek-VL directory (MultiModalityCausalLM: config.json model_type multi_modality, processor_config.json,
// preprocessor_config.json, tokenizer.json, model.safetensors or shards) as a LlavaModel: the SigLIP tower at
// vision_model.vision_tower.* behind DeepSeek's VLMImageProcessor (and the tower's own pixel_mean/pixel_std when
// given), the MlpProjector at aligner.layers.*, the Llama decoder at language_model.*, and DeepSeek's "deepseek"
// conversation as the prompt format. The forward is modeling_vlm.prepare_inputs_embeds: the aligner's rows replace the
// embeddings at each image slot, num_image_tokens per placeholder, then LlamaForCausalLM.
using Furnace.Formats.Images;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Tokenizers;
using Furnace.Formats.Weights;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Models.Projectors;
using Furnace.Models.Siglip;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Models.DeepSeekVl;

public static class DeepSeekVlLoader
{
    public static LlavaModel Load(string dir, LoraAdapter? lora = null, float loraScale = 1f)
    {
        if (!Directory.Exists(dir)) throw new FurnaceException($"{dir}: not a DeepSeek-VL model directory");
        DeepSeekVlConfig c = DeepSeekVlConfig.FromHuggingFace(dir);
        DeepSeekVlProcessorConfig processor = DeepSeekVlProcessorConfig.Load(dir);
        DeepSeekVlImageProcessor images = DeepSeekVlImageProcessor.Load(dir);
        if (images.ImageSize != c.Vision.ImageSize)
            throw new FurnaceException($"{Path.Combine(dir, "preprocessor_config.json")}: image_size {images.ImageSize} differs from the vision tower's {c.Vision.ImageSize} (config.json vision_config.params.image_size)");
        if (processor.NumImageTokens != c.Vision.Patches)
            throw new FurnaceException($"{Path.Combine(dir, DeepSeekVlProcessorConfig.FileName)}: num_image_tokens {processor.NumImageTokens} differs from the vision tower's {c.Vision.Patches} feature rows");
        string tj = Path.Combine(dir, "tokenizer.json");
        if (!File.Exists(tj)) throw new FurnaceException($"{tj}: file not found (a DeepSeek-VL directory needs its tokenizer)");
        Tokenizer tokenizer = Tokenizer.FromHuggingFace(tj);
        int imageId = tokenizer.TokenId(processor.ImageTag)
            ?? throw new FurnaceException($"{tj}: the image tag '{processor.ImageTag}' of {DeepSeekVlProcessorConfig.FileName} is not a token");

        ITensorSource source = SafeTensorsCheckpoint.Open(dir);
        PackedWeights? merged = null;
        try
        {
            var vb = new WeightLoader(source);
            var tower = SiglipVisionTower.Load(vb.Prefix("vision_model.vision_tower"), c.Vision);
            var aligner = vb.Prefix("aligner.layers");
            Projector projector = c.Aligner == DeepSeekVlAligner.Linear
                ? Projector.Load(aligner, ProjectorKind.Linear, c.Vision.Width, c.Text.Dim, first: null)
                : Projector.Load(aligner, c.AlignerDepth == 1 ? ProjectorKind.Linear : ProjectorKind.Mlp2xGelu, c.Vision.Width, c.Text.Dim, first: "0", second: "2");
            var weights = LlamaWeights.Load(vb.Prefix("language_model"), c.Text, CheckpointNaming.HuggingFace);
            if (lora != null)
            {
                merged = new PackedWeights();
                weights = LoraMerge.Apply(weights, c.Text, lora, merged, ggufRowOrder: false, loraScale, source: dir);
            }
            var decoder = new LlamaModel(c.Text, weights, RopeStyle.HalfSplit, packed: merged);
            var encoder = new SiglipVisionEncoder(tower, Preprocess(images, c.PixelMean, c.PixelStd));
            IDisposable[] owned = merged == null ? [source] : [decoder, source];
            // template null: the "deepseek" conversation renders the prompt and the tokenizer adds BOS once
            return new LlavaModel(encoder, projector, decoder, tokenizer, null, imageId, dir, owned)
            {
                PromptFormat = new DeepSeekVlPromptFormat(processor.ImageTag),
            };
        }
        catch
        {
            merged?.Dispose();
            source.Dispose();
            throw;
        }
    }

    // VLMImageProcessor, then CLIPVisionTower's torchvision Normalize(pixel_mean, pixel_std) when the tower has one
    private static Func<RgbImage, PixelValues> Preprocess(DeepSeekVlImageProcessor images, double[]? mean, double[]? std)
    {
        if (mean == null || std == null) return images.Preprocess;
        float[] m = mean.Select(v => (float)v).ToArray(), s = std.Select(v => (float)v).ToArray();
        return image =>
        {
            PixelValues px = images.Preprocess(image);
            int plane = px.Width * px.Height;
            for (int ch = 0; ch < 3; ch++)
            {
                Span<float> p = px.Data.AsSpan(ch * plane, plane);
                for (int i = 0; i < p.Length; i++) p[i] = (p[i] - m[ch]) / s[ch];
            }
            return px;
        };
    }
}
