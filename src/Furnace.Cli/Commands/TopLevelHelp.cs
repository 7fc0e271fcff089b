// `furnace --help`: the verbs grouped by what a user wants to do, one line each (as `git` and `dotnet` do); each
// verb's own `--help` keeps System.CommandLine's full page with options and examples.
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Furnace.Cli.Commands;

internal sealed class TopLevelHelp(Command root, HelpAction standard) : SynchronousCommandLineAction
{
    // group title, verbs in the order shown; a verb in no group is listed under "other" so none is hidden
    private static readonly (string Title, string[] Verbs)[] Groups =
    [
        ("run a model", ["caption", "ask", "generate", "embed", "similarity", "tokenize", "logits"]),
        ("data and training", ["data", "train", "lora", "preprocess", "mpi-check"]),
        ("evaluation and benchmarks", ["eval", "perplexity", "bench"]),
        ("serving", ["serve"]),
        ("models and files", ["info", "convert", "convert-mmproj", "quantize", "imatrix"]),
    ];

    // one-liners where a verb's description opens with more than a line
    private static readonly Dictionary<string, string> Short = new()
    {
        ["data"] = "Inspect, split and build training data (LLaVA JSON, COCO captions, package-served image sets)",
        ["train"] = "Train a vision-language model: projector, LoRA or full fine-tuning, contrastive alignment",
        ["mpi-check"] = "Check the MPI binding across the ranks of an mpirun job; measure the gradient sum",
        ["preprocess"] = "Preprocess an image as the model's Hugging Face image processor does, to a .npy file",
        ["eval"] = "Score captions as coco-caption does (BLEU, ROUGE-L, CIDEr-D), or caption a dataset and score it",
        ["serve"] = "Serve a model over an OpenAI-compatible HTTP API, with metrics and a web page",
        ["perplexity"] = "Perplexity over a text as llama.cpp measures it (and KL from a base model), or caption perplexity",
    };

    public override int Invoke(ParseResult parseResult)
    {
        if (parseResult.CommandResult.Command != root) return standard.Invoke(parseResult);
        Console.Out.Write(Render(root));
        return 0;
    }

    public static string Render(Command root)
    {
        var verbs = root.Subcommands.Where(c => !c.Hidden).ToDictionary(c => c.Name);
        var w = new StringWriter();
        w.WriteLine(root.Description);
        w.WriteLine();
        w.WriteLine("Usage: furnace <command> [options]      furnace <command> --help   shows a command's options and examples");
        var shown = new HashSet<string>();
        foreach (var (title, names) in Groups)
        {
            var present = names.Where(verbs.ContainsKey).ToList();
            if (present.Count == 0) continue;
            Section(w, title, present.Select(n => verbs[n]));
            shown.UnionWith(present);
        }
        var rest = verbs.Values.Where(c => !shown.Contains(c.Name)).OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
        if (rest.Count > 0) Section(w, "other", rest);
        w.WriteLine();
        w.WriteLine("Options: -h, --help  this overview      --version  the version");
        w.WriteLine("Start with: furnace caption samples/images/lollipops-and-rabbit.png   (docs/cli.md has every command with examples)");
        return w.ToString();
    }

    private static void Section(StringWriter w, string title, IEnumerable<Command> commands)
    {
        w.WriteLine();
        w.WriteLine(title + ":");
        foreach (Command c in commands) w.WriteLine($"  {c.Name,-16}{Short.GetValueOrDefault(c.Name) ?? Summary(c.Description)}");
    }

    // the first sentence of a description's first paragraph, without its final period
    public static string Summary(string? description)
    {
        string paragraph = (description ?? "").Replace("\r", "").Split("\n\n")[0];
        string s = string.Join(' ', paragraph.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        int stop = s.IndexOf(". ", StringComparison.Ordinal);
        if (stop >= 0) s = s[..stop];
        return s.TrimEnd('.');
    }
}
