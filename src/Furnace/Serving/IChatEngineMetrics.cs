// An optional hook an IChatEngine may implement so the server can observe how it batches (the /metrics batch size
// histogram). Engines without it simply report nothing.
namespace Furnace.Serving;

public interface IChatEngineMetrics
{
    /// <summary>Set by the server: called after each decode step with the number of sequences that stepped together.</summary>
    Action<int>? DecodeStepObserved { get; set; }
}
