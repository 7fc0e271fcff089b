// `furnace preprocess IMAGE --model PATH --out FILE.npy`: decode an image and preprocess it exactly as the
// model's Hugging Face image processor would, writing pixel_values (1, 3, H, W) float32 as a NumPy .npy file.
using System.CommandLine;
using Furnace.Formats.Images;
using Furnace.Formats.Npy;

namespace Furnace.Cli.Commands;

internal static class PreprocessCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("image") { Description = "Image file (JPEG, PNG, WebP, GIF, BMP) or a data:image/…;base64 URL" };
        var model = new Option<string>("--model", "-m")
        {
            Description = "Model directory containing preprocessor_config.json, or that json file itself",
            Required = true,
        };
        var output = new Option<string>("--out", "-o") { Description = "Output .npy file", Required = true };
        var pad = new Option<bool>("--pad") { Description = "Pad to a square of the mean colour first (LLaVA image_aspect_ratio=pad), whatever the config says" };
        var maxPixels = new Option<long>("--max-pixels")
        {
            Description = "Refuse images with more pixels than this (decompression-bomb guard)",
            DefaultValueFactory = _ => ImageLoadOptions.DefaultMaxPixels,
        };
        var cmd = new Command("preprocess", "Decode an image and preprocess it as the model's Hugging Face image processor does (CLIP, SigLIP, LLaVA pad), writing pixel_values (1, 3, H, W) float32 to a .npy file.\n\nExamples:\n  furnace preprocess cat.jpg --model ./clip-vit-large-patch14-336 --out cat.npy\n  furnace preprocess cat.png --model preprocessor_config.json --out cat.npy --pad")
        {
            image,
            model,
            output,
            pad,
            maxPixels,
        };
        cmd.SetAction(r => Cli.Run(() => Run(r.GetValue(image)!, r.GetValue(model)!, r.GetValue(output)!, r.GetValue(pad), r.GetValue(maxPixels))));
        return cmd;
    }

    private static int Run(string imagePath, string modelPath, string outPath, bool pad, long maxPixels)
    {
        if (maxPixels <= 0) throw new FurnaceException($"--max-pixels {maxPixels} must be positive");
        ImagePreprocessorConfig config = PreprocessorConfigFile.Load(modelPath);
        if (pad) config = config with { PadToSquare = true };
        var options = new ImageLoadOptions { MaxPixels = maxPixels };
        RgbImage img = DataUrl.IsDataUrl(imagePath) ? ImageDecoder.DecodeDataUrl(imagePath, options) : ImageDecoder.Load(imagePath, options);
        PixelValues px = new ImagePreprocessor(config).Preprocess(img);
        NpyWriter.WriteFloat32(outPath, [1, px.Channels, px.Height, px.Width], px.Data);
        string source = DataUrl.IsDataUrl(imagePath) ? "data URL" : imagePath;
        Console.WriteLine($"{outPath}: pixel_values (1, {px.Channels}, {px.Height}, {px.Width}) float32 from {source} ({img.Width}x{img.Height}, {config.ProcessorType}{(config.PadToSquare ? ", padded to square" : "")})");
        return 0;
    }
}
