// ImagePreprocessor against a PIL + numpy transcription of transformers' slow CLIP/SigLIP/LLaVA processors
// (Oracles/pil_oracle.py "clip"), on real COCO photos: every float within 1e-6 (in practice identical).
using System.Text;
using System.Text.Json.Nodes;
using Furnace.Formats.Images;
using Furnace.Tests.Support;
using Xunit.Abstractions;

namespace Furnace.Tests.Formats.Images;

public sealed class PreprocessorOracleTests(ITestOutputHelper output)
{
    public static readonly TheoryData<string, string> Configs = new()
    {
        { "clip-vit-base-patch32", """{"crop_size": {"height": 224, "width": 224}, "do_center_crop": true, "do_convert_rgb": true, "do_normalize": true, "do_rescale": true, "do_resize": true, "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_processor_type": "CLIPImageProcessor", "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 224}}""" },
        { "clip-336 legacy ints", """{"crop_size": 336, "do_center_crop": true, "do_normalize": true, "do_resize": true, "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 336}""" },
        { "llava pad 336", """{"image_processor_type": "CLIPImageProcessor", "crop_size": {"height": 336, "width": 336}, "size": {"shortest_edge": 336}, "image_aspect_ratio": "pad", "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711]}""" },
        { "siglip 384", """{"do_normalize": true, "do_rescale": true, "do_resize": true, "image_mean": [0.5, 0.5, 0.5], "image_processor_type": "SiglipImageProcessor", "image_std": [0.5, 0.5, 0.5], "resample": 3, "rescale_factor": 0.00392156862745098, "size": {"height": 384, "width": 384}}""" },
        { "crop larger than image", """{"image_processor_type": "CLIPImageProcessor", "size": {"shortest_edge": 200}, "crop_size": {"height": 256, "width": 224}, "resample": 2}""" },
        { "no rescale, bilinear", """{"image_processor_type": "CLIPImageProcessor", "size": {"height": 160, "width": 240}, "do_center_crop": false, "do_rescale": false, "resample": 2, "image_mean": [120, 110, 100], "image_std": [60, 60, 60]}""" },
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Preprocess_RealPhotos_MatchesTransformersReproduction(string name, string json)
    {
        using var dir = new TempDir();
        string[] photos = SharedPaths.CocoPhotos().Take(8).Concat(SharedPaths.CocoPhotos("train2017").Take(4)).ToArray();
        var config = PreprocessorConfigFile.ToConfig(PreprocessorConfigFile.Parse(Encoding.UTF8.GetBytes(json), name), name);
        var pre = new ImagePreprocessor(config);
        var cfgNode = JsonNode.Parse(json)!;
        var jobs = photos.Select((p, i) => PilOracle.Job("clip", p, dir.File($"{i}.f32"), new { config = cfgNode })).ToList();
        var sizes = PilOracle.Run(dir.Path, jobs);
        double worst = 0;
        for (int i = 0; i < photos.Length; i++)
        {
            PixelValues ours = pre.Preprocess(ImageDecoder.Load(photos[i]));
            Assert.Equal((sizes[i].Width, sizes[i].Height), (ours.Width, ours.Height));
            float[] pil = PilOracle.ReadFloats(dir.File($"{i}.f32"));
            Assert.Equal(pil.Length, ours.Data.Length);
            for (int k = 0; k < pil.Length; k++) worst = Math.Max(worst, Math.Abs(pil[k] - ours.Data[k]));
        }
        output.WriteLine($"{name}: {photos.Length} photos, max |ours − transformers| = {worst:G3}");
        Assert.True(worst <= 1e-6, $"{name}: max difference {worst}");
    }
}
