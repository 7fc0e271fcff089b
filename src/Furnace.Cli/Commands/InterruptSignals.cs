// Ctrl-C and SIGTERM for a long, resumable command (train, eval --model): the first one cancels Token so the command
// stops at a safe point, keeps what it has and says how to resume; ExitCode is then 130 (Ctrl-C) or 143 (SIGTERM),
// as a shell reports a process ended by that signal. A second Ctrl-C is left to the runtime and ends the process.
using System.Runtime.InteropServices;

namespace Furnace.Cli.Commands;

internal sealed class InterruptSignals : IDisposable
{
    public const int ExitInterrupted = 130;
    public const int ExitTerminated = 143;

    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration _term;
    private int _signal;

    public InterruptSignals()
    {
        Console.CancelKeyPress += OnCancelKeyPress;
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            _signal = ExitTerminated;
            _cts.Cancel();
        });
    }

    public CancellationToken Token => _cts.Token;

    /// <summary>Whether a signal has cancelled Token.</summary>
    public bool Interrupted => _cts.IsCancellationRequested;

    /// <summary>The exit code of an interrupted command: 130 for Ctrl-C, 143 for SIGTERM.</summary>
    public int ExitCode => _signal == 0 ? ExitInterrupted : _signal;

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        if (_cts.IsCancellationRequested) return; // a second Ctrl-C ends the process at once
        e.Cancel = true;
        _signal = ExitInterrupted;
        _cts.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        _term.Dispose();
        _cts.Dispose();
    }
}
