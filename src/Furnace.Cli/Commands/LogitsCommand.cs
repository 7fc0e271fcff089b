// `furnace logits`: evaluate token ids from position 0 and print the last position's logits as JSON
// (the engine-comparison primitive).
using System.CommandLine;
using System.Globalization;
using System.Text;
using Furnace.Generation;
using Furnace.Models;
using Furnace.Models.Lora;
using Furnace.Tensors;

namespace Furnace.Cli.Commands;

internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = Cli.ModelOption();
        var tokens = new Option<string>("--tokens") { Description = "Comma-separated token ids, e.g. 1,450,4996", Required = true };
        var threads = Cli.ThreadsOption();
        var lora = new LoraOptions();
        var cmd = new Command("logits", "Print {\"logits\":[…],\"argmax\":k} for the last of the given token ids, evaluated from position 0.\n\nExample:\n  furnace logits --model tiny.gguf --tokens 1,2,3 --threads 2")
        {
            model,
            tokens,
            threads,
        };
        foreach (var o in lora.All) cmd.Add(o);
        cmd.SetAction(r => Cli.Run(() => Run(r.GetValue(model)!, r.GetValue(tokens)!, Cli.CheckThreads(r.GetValue(threads)), lora.Load(r), lora.ScaleOf(r))));
        return cmd;
    }

    public static int[] ParseTokens(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new FurnaceException("--tokens: no token ids given");
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
                throw new FurnaceException($"--tokens: '{parts[i]}' is not a token id");
        }
        return ids;
    }

    private static int Run(string path, string tokenText, int threads, LoraAdapter? adapter, float loraScale)
    {
        int[] ids = ParseTokens(tokenText);
        using var m = ModelLoader.OpenDecoder(path, adapter, loraScale);
        var state = m.NewDecoderState(Math.Min(m.MaxPositions, Math.Max(ids.Length, 1)));
        using var ctx = new KernelContext(threads);
        m.Forward(ids, state, ctx);
        ReadOnlySpan<float> logits = state.Logits.AsSpan(0, m.VocabSize);
        var sb = new StringBuilder(logits.Length * 12);
        sb.Append("{\"logits\":[");
        for (int i = 0; i < logits.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(logits[i].ToString("R", CultureInfo.InvariantCulture));
        }
        sb.Append("],\"argmax\":").Append(Sampler.ArgMax(logits)).Append('}');
        Console.WriteLine(sb.ToString());
        return 0;
    }
}
