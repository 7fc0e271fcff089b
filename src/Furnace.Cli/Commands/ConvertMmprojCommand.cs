// `furnace convert-mmproj`: a Hugging Face CLIP or LLaVA checkpoint's vision side -> llama.cpp mmproj GGUF
// (general.architecture = clip; ClipMmprojExport), a separate verb so `convert` stays the LLM converter.
using System.CommandLine;
using Furnace.Models.Clip;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class ConvertMmprojCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "A Hugging Face directory: LlavaForConditionalGeneration (vision_tower + multi_modal_projector) or CLIP (CLIPModel / CLIPVisionModel)", Required = true };
        var to = new Option<string>("--to") { Description = "Output mmproj .gguf file (written atomically)", Required = true };
        var type = new Option<string>("--type") { Description = "Weight type of 2-D tensors: f32, f16, bf16, q8_0, q4_0 (the patch kernel is f16 unless f32)", DefaultValueFactory = _ => "f16" };
        var cmd = new Command("convert-mmproj", "Convert a CLIP vision tower (and LLaVA projector) to a llama.cpp mmproj GGUF. A LLaVA file keeps the layers up to vision_feature_layer and drops post_layernorm, as llama.cpp's converter does; a bare CLIP file loads in Furnace (ClipMmproj) but llama.cpp's mtmd needs a projector.\n\nExamples:\n  furnace convert-mmproj --from ./llava-1.5-7b-hf --to mmproj-f16.gguf\n  furnace convert-mmproj --from ./clip-vit-base-patch32 --to clip-b32-f32.gguf --type f32")
        {
            from,
            to,
            type,
        };
        cmd.SetAction(r => Cli.Run(() => Run(r.GetValue(from)!, r.GetValue(to)!, r.GetValue(type)!)));
        return cmd;
    }

    private static int Run(string from, string to, string typeName)
    {
        if (!DTypes.TryParse(typeName, out DType type)) throw new FurnaceException($"--type '{typeName}' is not one of {DTypes.WeightTypeNames}");
        ClipMmprojExport.FromHuggingFace(from, to, type);
        Console.Error.WriteLine($"wrote {to} ({DTypes.Name(type)}, {new FileInfo(to).Length / 1e6:F1} MB)");
        return 0;
    }
}
