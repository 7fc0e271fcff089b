// `furnace data info PATH`: what a training file holds — its format, samples, images found and missing on disk,
// text-only samples, turns per sample and answer (caption) lengths; --json for tools.
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Furnace.Data;

namespace Furnace.Cli.Commands;

internal static class DataInfoCommand
{
    public static Command Create()
    {
        var path = DataCommand.PathArgument();
        var imageFolder = DataCommand.ImageFolderOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the table" };
        var cmd = new Command("info", """
            Summarise a training file: format detected, samples, images found / missing, text-only samples, turns per
            sample and answer lengths (the captions of a caption dataset). Missing images are counted, not errors;
            malformed samples are errors naming the file, the sample index and the field.

            Examples:
              furnace data info llava_v1_5_mix665k.json --image-folder ./playground/data
              furnace data info coco/annotations/captions_train2017.json --json
            """)
        {
            path,
            imageFolder,
            json,
        };
        cmd.SetAction(r => Cli.Run(() => Run(r.GetValue(path)!, r.GetValue(imageFolder), r.GetValue(json))));
        return cmd;
    }

    private static int Run(string path, string? imageFolder, bool json)
    {
        var set = TrainingSet.Load(path, new TrainingSetOptions { ImageFolder = imageFolder, RequireImages = false });
        var s = TrainingSetStats.Of(set);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["path"] = path,
                ["format"] = set.Format.ToString().ToLowerInvariant(),
                ["samples"] = s.Samples,
                ["images"] = s.Images,
                ["images_found"] = s.ImagesFound,
                ["images_missing"] = s.ImagesMissing,
                ["text_only"] = s.TextOnly,
                ["duplicate_ids"] = s.DuplicateIds,
                ["turns"] = new Dictionary<string, object> { ["min"] = s.MinTurns, ["mean"] = Math.Round(s.MeanTurns, 3), ["max"] = s.MaxTurns },
                ["answer_chars"] = Stats(s.AnswerChars),
                ["answer_words"] = Stats(s.AnswerWords),
                ["missing_examples"] = s.MissingImages,
            }, Cli.Json));
            return 0;
        }
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"{path}: {DataCommand.FormatName(set.Format)}");
        Console.WriteLine($"  samples        {s.Samples:N0}{(s.TextOnly > 0 ? $" ({s.TextOnly:N0} text-only)" : "")}{(s.DuplicateIds > 0 ? $", {s.DuplicateIds:N0} repeated ids" : "")}");
        Console.WriteLine($"  images         {s.Images:N0}: {s.ImagesFound:N0} found, {s.ImagesMissing:N0} missing");
        Console.WriteLine(string.Create(inv, $"  turns          {(s.MinTurns == s.MaxTurns ? $"{s.MinTurns}" : $"{s.MinTurns}–{s.MaxTurns}")} per sample (mean {s.MeanTurns:F2})"));
        Console.WriteLine(string.Create(inv, $"  answer chars   min {s.AnswerChars.Min}, mean {s.AnswerChars.Mean:F1}, median {s.AnswerChars.Median:F1}, max {s.AnswerChars.Max}"));
        Console.WriteLine(string.Create(inv, $"  answer words   min {s.AnswerWords.Min}, mean {s.AnswerWords.Mean:F1}, median {s.AnswerWords.Median:F1}, max {s.AnswerWords.Max}"));
        if (s.ImagesMissing > 0)
        {
            Console.WriteLine($"  missing, e.g.  {string.Join(", ", s.MissingImages)}");
            if (set.Format == TrainingDataFormat.Llava && imageFolder is null) Console.WriteLine("  (give the image folder with --image-folder)");
        }
        return 0;
    }

    private static Dictionary<string, object> Stats(LengthStats s) => new()
    {
        ["min"] = s.Min,
        ["mean"] = Math.Round(s.Mean, 3),
        ["median"] = s.Median,
        ["max"] = s.Max,
    };
}
