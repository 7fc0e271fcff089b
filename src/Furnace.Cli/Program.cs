// Entry point of the `furnace` command.
namespace Furnace.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.WriteLine("furnace");
        return 0;
    }
}
