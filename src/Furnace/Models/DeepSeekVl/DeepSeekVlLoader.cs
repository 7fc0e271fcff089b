// Opens a DeepSeek-VL directory (MultiModalityCausalLM: config.json model_type multi_modality, processor_config.json,
// preprocessor_config.json, tokenizer.json, model.safetensors or shards) as a LlavaModel: the SigLIP tower at
// vision_model.vision_tower.* behind DeepSeek's VLMImageProcessor (and the tower's own pixel_mean/pixel_std when
// given), the MlpProjector at aligner.layers.*, the Llama decoder at language_model.*, and DeepSeek's "deepseek"
// conversation as the prompt format. The forward is modeling_vlm.prepare_inputs_embeds: the aligner's rows replace the
// embeddings at each image slot, num_image_tokens per placeholder, then LlamaForCausalLM.
// The 7B hybrid (HybridVisionTower): HybridVisionEncoder runs the SAM tower at vision_model.vision_tower_high.*, the
// SigLIP tower at vision_model.vision_tower_low.vision_tower.* and the aligner up to its last Linear; that Linear
// (aligner.layers.{2·depth − 3}) is the Projector.
using Furnace.Formats.Images;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Tokenizers;
using Furnace.Formats.Weights;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Models.Projectors;
using Furnace.Models.Sam;
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
        if (images.ImageSize != c.InputSize)
            throw new FurnaceException($"{Path.Combine(dir, "preprocessor_config.json")}: image_size {images.ImageSize} differs from the vision tower's {c.InputSize} (config.json vision_config.params{(c.HighRes != null ? ".high_res_cfg" : "")}.image_size)");
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
            IVisionEncoder encoder;
            Projector projector;
            var aligner = vb.Prefix("aligner.layers");
            if (c.HighRes is { } highRes && c.HybridAligner is { } ha)
            {
                var high = new SamVisionTower(highRes, SamVitWeights.Load(vb, highRes, SamCheckpointNaming.DeepSeekVl));
                var low = SiglipVisionTower.Load(vb.Prefix("vision_model.vision_tower_low.vision_tower"), c.Vision);
                encoder = new HybridVisionEncoder(high, low, HybridAligner.Load(vb, ha, SamCheckpointNaming.DeepSeekVl), images.Preprocess, c.PixelMean, c.PixelStd);
                projector = Projector.Load(aligner.Prefix((2 * ha.Depth - 3).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    ProjectorKind.Linear, ha.NEmbed, c.Text.Dim, first: null);
            }
            else
            {
                var tower = SiglipVisionTower.Load(vb.Prefix("vision_model.vision_tower"), c.Vision);
                projector = c.Aligner == DeepSeekVlAligner.Linear
                    ? Projector.Load(aligner, ProjectorKind.Linear, c.Vision.Width, c.Text.Dim, first: null)
                    : Projector.Load(aligner, c.AlignerDepth == 1 ? ProjectorKind.Linear : ProjectorKind.Mlp2xGelu, c.Vision.Width, c.Text.Dim, first: "0", second: "2");
                encoder = new SiglipVisionEncoder(tower, Preprocess(images, c.PixelMean, c.PixelStd));
            }
            var weights = LlamaWeights.Load(vb.Prefix("language_model"), c.Text, CheckpointNaming.HuggingFace);
            if (lora != null)
            {
                merged = new PackedWeights();
                weights = LoraMerge.Apply(weights, c.Text, lora, merged, ggufRowOrder: false, loraScale, source: dir);
            }
            var decoder = new LlamaModel(c.Text, weights, RopeStyle.HalfSplit, packed: merged);
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
        return image =>
        {
            PixelValues px = images.Preprocess(image);
            HybridVisionEncoder.Normalize(px.Data, px.Width * px.Height, mean, std);
            return px;
        };
    }
}
