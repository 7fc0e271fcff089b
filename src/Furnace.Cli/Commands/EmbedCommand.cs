// `furnace embed IMAGE...`: image embeddings — CLIP's image_embeds (get_image_features: visual_projection of the pooled
// CLS; the pooler output for a checkpoint without projection) or an ONNX encoder's pooled features (ResNet18: 512-d);
// with --projected, a VLM directory's (LLaVA, DeepSeek-VL) projected image features, the rows spliced into the
// language model at the image slots, flattened row-major with their "shape" (tokens, dim).
using System.CommandLine;
using System.Text.Json;
using Furnace.Models.Clip;
using Furnace.Models.Onnx;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class EmbedCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("images") { Description = "Image files or data: URLs", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model", "-m") { Description = "A CLIP directory, an .onnx image encoder, or a directory holding ResNet18.onnx; with --projected a VLM directory (LLaVA, DeepSeek-VL)" };
        var projected = new Option<bool>("--projected") { Description = "The VLM's projected image features (tokens x decoder dim), as spliced into its language model" };
        var normalize = new Option<bool>("--normalize") { Description = "L2-normalize the embeddings" };
        var threads = Cli.ThreadsOption();
        var json = new Option<bool>("--json") { Description = "One JSON object per image: image, dim, embedding (with --projected also shape)" };
        var cmd = new Command("embed", "Embed images with CLIP or an ONNX image encoder.\n\nExamples:\n  furnace embed cat.jpg --model ./clip-vit-base-patch32 --json\n  furnace embed a.jpg b.jpg --model ./models/resnet18\n  furnace embed cat.jpg --model ./deepseek-vl-1.3b-chat --projected --json")
        {
            images, model, normalize, projected, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            string path = r.GetValue(model) ?? throw new FurnaceException("--model is required for now (no default image encoder is embedded yet): pass a CLIP directory or an .onnx file");
            string[] paths = r.GetValue(images)!;
            using var ctx = new KernelContext(Cli.CheckThreads(r.GetValue(threads)));
            var decoded = paths.Select(VlmCli.LoadImage).ToArray();
            float[] all;
            int dim;
            int[]? shape = null;
            if (r.GetValue(projected))
            {
                if (r.GetValue(normalize)) throw new FurnaceException("--normalize does not apply to --projected features");
                if (!Directory.Exists(path)) throw new FurnaceException($"{path}: --projected needs a VLM directory (LLaVA or DeepSeek-VL)");
                using var vlm = LlavaModel.Load(path);
                all = vlm.ProjectImages(decoded, ctx);
                shape = [vlm.TokensPerImage, vlm.Projector.OutDim];
                dim = shape[0] * shape[1];
            }
            else if (Directory.Exists(path) && !File.Exists(Path.Combine(path, ResNet18.ModelFile)))
            {
                using var encoder = ClipVisionEncoder.Load(path);
                float[] pixels = encoder.Pixels(decoded);
                all = encoder.Tower.EmbeddingDim is int e
                    ? encoder.Tower.EncodeImages(pixels, decoded.Length, ctx)
                    : encoder.Tower.PooledOutput(pixels, decoded.Length, ctx);
                dim = encoder.Tower.EmbeddingDim ?? encoder.Tower.Config.HiddenSize;
            }
            else
            {
                var onnx = File.Exists(path) ? new OnnxImageEncoder(new OnnxEncoderConfig(path)) : ResNet18.Open(path);
                using var encoder = new OnnxVisionEncoder(onnx);
                all = encoder.Encode(decoded, ctx);
                dim = encoder.TokensPerImage * encoder.FeatureDim;
            }
            for (int i = 0; i < paths.Length; i++)
            {
                float[] v = all.AsSpan(i * dim, dim).ToArray();
                if (r.GetValue(normalize))
                {
                    double norm = Math.Sqrt(v.Sum(x => (double)x * x));
                    if (norm > 0) for (int k = 0; k < v.Length; k++) v[k] = (float)(v[k] / norm);
                }
                if (r.GetValue(json))
                {
                    var o = new Dictionary<string, object> { ["image"] = VlmCli.Label(paths[i]), ["dim"] = dim };
                    if (shape != null) o["shape"] = shape;
                    o["embedding"] = v;
                    Console.WriteLine(JsonSerializer.Serialize(o, Cli.Json));
                }
                else Console.WriteLine((paths.Length > 1 ? VlmCli.Label(paths[i]) + "\t" : "") + string.Join(' ', v.Select(x => x.ToString("G6", System.Globalization.CultureInfo.InvariantCulture))));
            }
            return 0;
        }));
        return cmd;
    }
}
