// User-facing errors: a file, key or argument that is wrong, with a one-line message naming it.
// The CLI prints Message alone and exits non-zero; anything else is a bug and keeps its stack trace.
namespace Furnace;

public class FurnaceException : Exception
{
    public FurnaceException(string message)
        : base(message)
    {
    }

    public FurnaceException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>A file that is not what it claims to be: truncated, corrupt, or of an unsupported layout.</summary>
public sealed class FurnaceFormatException : FurnaceException
{
    public FurnaceFormatException(string path, string problem)
        : base($"{path}: {problem}")
    {
        Path = path;
    }

    public string Path { get; }
}
