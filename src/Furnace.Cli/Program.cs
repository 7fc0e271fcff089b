// Entry point of the `furnace` command: builds the verb tree and maps user errors to one-line messages.
using System.CommandLine;
using System.CommandLine.Help;
using Furnace.Cli.Commands;

namespace Furnace.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        // A plain Command named "furnace" (RootCommand would name itself after the assembly, Furnace.Cli).
        var root = new Command("furnace", "Furnace — vision-language models in .NET: load GGUF and Hugging Face checkpoints, generate, caption, score captions, benchmark.")
        {
            new HelpOption(),
            new VersionOption(),
            InfoCommand.Create(),
            GenerateCommand.Create(),
            TokenizeCommand.Create(),
            LogitsCommand.Create(),
            PerplexityCommand.Create(),
            ConvertCommand.Create(),
            ConvertMmprojCommand.Create(),
            QuantizeCommand.Create(),
            ImatrixCommand.Create(),
            BenchCommand.Create(),
            EvalCommand.Create(),
            PreprocessCommand.Create(),
            CaptionCommand.Create(),
            AskCommand.Create(),
            EmbedCommand.Create(),
            SimilarityCommand.Create(),
            DataCommand.Create(),
            ServeCommand.Create(),
            LoraCommand.Create(),
            TrainCommand.Create(),
            MpiCheckCommand.Create(),
        };
        // `furnace --help` groups the verbs one line each; `furnace VERB --help` is System.CommandLine's full page
        HelpOption help = root.Options.OfType<HelpOption>().Single();
        help.Action = new TopLevelHelp(root, (HelpAction)help.Action!);
        return root.Parse(args).Invoke();
    }
}
