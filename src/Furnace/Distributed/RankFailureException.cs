// A collective that did not complete: another rank died, hangs, or failed. The message names the ranks that did not
// answer; the run cannot go on (the CLI ends the whole job), and a restart resumes from the last complete checkpoint.
namespace Furnace.Distributed;

public sealed class RankFailureException : FurnaceException
{
    public RankFailureException(string message)
        : base(message)
    {
    }
}
