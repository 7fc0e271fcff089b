// `furnace tokenize`: token ids (and pieces) of a text under a model's tokenizer.
using System.CommandLine;
using System.Text;
using System.Text.Json;
using Furnace.Formats.Tokenizers;

namespace Furnace.Cli.Commands;

internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = Cli.ModelOption();
        var text = new Argument<string>("text") { Description = "The text to tokenize" };
        var json = new Option<bool>("--json") { Description = "Print JSON: {\"ids\":[…],\"pieces\":[…]}" };
        var noBos = new Option<bool>("--no-bos") { Description = "Do not add BOS even if the model wants it" };
        var special = new Option<bool>("--special") { Description = "Parse special-token text such as <|im_start|> into its token" };
        var cmd = new Command("tokenize", "Print the token ids (and pieces) of TEXT.\n\nExamples:\n  furnace tokenize -m deepseek-llm-7b-chat.gguf \"Hello world\"\n  furnace tokenize -m ./Qwen2-0.5B --json --special \"<|im_start|>user\"")
        {
            model, text, json, noBos, special,
        };
        cmd.SetAction(r => Cli.Run(() => Run(r.GetValue(model)!, r.GetValue(text)!, r.GetValue(json), !r.GetValue(noBos), r.GetValue(special))));
        return cmd;
    }

    private static int Run(string path, string text, bool json, bool addSpecial, bool parseSpecial)
    {
        Tokenizer tok = Tokenizer.Open(path);
        int[] ids = tok.Encode(text, addSpecial, parseSpecial);
        string[] pieces = ids.Select(id => tok.TokenText(id)).ToArray();
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["ids"] = ids, ["pieces"] = pieces }, Cli.Json));
            return 0;
        }
        var sb = new StringBuilder();
        for (int i = 0; i < ids.Length; i++) sb.Append(ids[i]).Append('\t').Append(pieces[i]).Append('\n');
        Console.Write(sb.ToString());
        return 0;
    }
}
