// Entry point of the `furnace` command: builds the verb tree and maps user errors to one-line messages.
using System.CommandLine;
using Furnace.Cli.Commands;

namespace Furnace.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Furnace — vision-language models in .NET: load GGUF and Hugging Face checkpoints, generate, score captions, benchmark.")
        {
            InfoCommand.Create(),
            GenerateCommand.Create(),
            TokenizeCommand.Create(),
            LogitsCommand.Create(),
            ConvertCommand.Create(),
            ConvertMmprojCommand.Create(),
            BenchCommand.Create(),
            EvalCommand.Create(),
            PreprocessCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
