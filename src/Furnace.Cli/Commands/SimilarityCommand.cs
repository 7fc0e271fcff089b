// `furnace similarity IMAGE TEXT...`: CLIP zero-shot scoring (CLIPModel.forward): logits_per_image =
// cos(image, text) · exp(logit_scale) and their softmax over the texts.
using System.CommandLine;
using System.Text.Json;
using Furnace.Models.Clip;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class SimilarityCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("image") { Description = "Image file or data: URL" };
        var texts = new Argument<string[]>("texts") { Description = "Candidate texts", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model", "-m") { Description = "A CLIP directory (CLIPModel: both towers, with its tokenizer)" };
        var threads = Cli.ThreadsOption();
        var json = new Option<bool>("--json") { Description = "One JSON object: image and per text its score (logit) and probability" };
        var cmd = new Command("similarity", "Score texts against an image with CLIP (logits and softmax probabilities).\n\nExample:\n  furnace similarity cat.jpg \"a photo of a cat\" \"a photo of a dog\" --model ./clip-vit-base-patch32")
        {
            image, texts, model, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            string dir = r.GetValue(model) ?? throw new FurnaceException("--model is required for now (no default CLIP model is embedded yet): pass a CLIP directory");
            if (!Directory.Exists(dir)) throw new FurnaceException($"{dir}: not a CLIP model directory");
            string[] candidates = r.GetValue(texts)!;
            string path = r.GetValue(image)!;
            using var ctx = new KernelContext(Cli.CheckThreads(r.GetValue(threads)));
            using var clip = ClipModel.Load(dir);
            var img = VlmCli.LoadImage(path);
            var encoder = new ClipVisionEncoder(clip.Vision, ClipVisionEncoder.PreprocessorFor(dir, clip.Config.Vision.ImageSize), ownsTower: false);
            ClipSimilarity s = clip.Similarity(encoder.Pixels([img]), 1, candidates, ctx);
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["image"] = VlmCli.Label(path),
                    ["results"] = candidates.Select((t, j) => new Dictionary<string, object> { ["text"] = t, ["score"] = s.LogitsPerImage[j], ["probability"] = s.Probabilities[j] }).ToArray(),
                }, Cli.Json));
                return 0;
            }
            foreach (int j in Enumerable.Range(0, candidates.Length).OrderByDescending(j => s.Probabilities[j]))
                Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{s.Probabilities[j],8:F4}  {s.LogitsPerImage[j],8:F3}  {candidates[j]}"));
            return 0;
        }));
        return cmd;
    }
}
