// `furnace data`: the training-data command group. Each subcommand lives in its own file (DataInfoCommand,
// DataSplitCommand, DataBuildCommand); a new one is one more line here.
using System.CommandLine;

namespace Furnace.Cli.Commands;

internal static class DataCommand
{
    public static Command Create() => new("data", """
        Inspect and prepare training data: LLaVA conversation JSON (LLaVA-Pretrain / LLaVA-Instruct), COCO captions
        JSON, captions JSONL ({"image", "captions"} per line) or a folder of images with .txt captions; build
        captioned image sets from freely licensed packages (npm, Debian).

        Examples:
          furnace data info llava_instruct_150k.json --image-folder ./coco
          furnace data info captions.jsonl --json
          furnace data split blip_laion_cc_sbu_558k.json --val 0.05 --out splits/
          furnace data build openmoji --out data/openmoji
        """)
    {
        DataInfoCommand.Create(),
        DataSplitCommand.Create(),
        DataBuildCommand.Create(),
    };

    /// <summary>The dataset argument shared by the subcommands.</summary>
    public static Argument<string> PathArgument() => new("path")
    {
        Description = "LLaVA conversation .json, COCO captions .json, captions .jsonl, or a folder of images with .txt captions",
    };

    public static Option<string?> ImageFolderOption() => new("--image-folder")
    {
        Description = "LLaVA JSON: the folder its \"image\" paths are relative to (default: beside the JSON, then the folders next to it)",
    };

    public static string FormatName(Furnace.Data.TrainingDataFormat format) => format switch
    {
        Furnace.Data.TrainingDataFormat.Llava => "LLaVA conversations",
        Furnace.Data.TrainingDataFormat.Coco => "COCO captions",
        Furnace.Data.TrainingDataFormat.Jsonl => "captions JSONL",
        _ => "image folder with .txt captions",
    };
}
