// `furnace info PATH`: metadata and tensor table of a checkpoint.
using System.CommandLine;
using Furnace.Formats.Gguf;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class InfoCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "A .gguf file, a .safetensors file, or a Hugging Face model directory" };
        var all = new Option<bool>("--all") { Description = "Print every metadata array in full and every tensor" };
        var cmd = new Command("info", "Show metadata and the tensor table of a GGUF/safetensors file or HF directory.\n\nExamples:\n  furnace info model.gguf\n  furnace info ./deepseek-llm-7b-chat --all")
        {
            path,
            all,
        };
        cmd.SetAction(r => Cli.Run(() => Run(r.GetValue(path)!, r.GetValue(all))));
        return cmd;
    }

    private static int Run(string path, bool all)
    {
        if (File.Exists(path) && GgufFile.HasMagic(path))
        {
            using var f = GgufFile.Open(path);
            PrintGguf(f, all);
            return 0;
        }
        throw new FurnaceException($"{path}: not a GGUF file, safetensors file or model directory");
    }

    private static void PrintGguf(GgufFile f, bool all)
    {
        Console.WriteLine($"file:      {f.Path}");
        Console.WriteLine($"format:    GGUF v{f.Version}, alignment {f.Alignment}, {f.Metadata.Count} metadata keys, {f.Tensors.Count} tensors");
        Console.WriteLine();
        foreach (string key in f.MetadataKeys)
        {
            GgufValue v = f.Metadata[key];
            string text = v.IsArray && !all ? $"[{v.ElementType} x {v.ArrayLength}]" + Preview(v) : Full(v);
            Console.WriteLine($"  {key,-44} {text}");
        }
        Console.WriteLine();
        Console.WriteLine($"  {"tensor",-40} {"type",-6} {"shape (ggml order)",-24} {"bytes",14}");
        long total = 0;
        int shown = 0;
        foreach (var t in f.Tensors)
        {
            total += t.ByteLength;
            if (!all && shown++ >= 40) continue;
            Console.WriteLine($"  {t.Name,-40} {DTypes.Name(t.Type),-6} {t.ShapeText,-24} {t.ByteLength,14:N0}");
        }
        if (!all && f.Tensors.Count > 40) Console.WriteLine($"  … {f.Tensors.Count - 40} more (use --all)");
        Console.WriteLine($"  total tensor bytes: {total:N0}");
    }

    private static string Preview(GgufValue v) => v.Value is Array a && a.Length > 0
        ? " " + string.Join(", ", a.Cast<object>().Take(5).Select(x => x is string s ? $"\"{s}\"" : x?.ToString())) + (a.Length > 5 ? ", …" : "")
        : "";

    private static string Full(GgufValue v) => v.Value is Array a
        ? "[" + string.Join(", ", a.Cast<object>().Select(x => x is string s ? $"\"{s}\"" : x?.ToString())) + "]"
        : v.Value is string str ? (str.Length > 200 && !str.Contains('\n') ? str[..200] + "…" : str.ReplaceLineEndings("\\n")) : v.ToString();
}
