// A progress line on stderr for long loops (i/N, items per second, ETA): redrawn in place with \r when stderr is a
// terminal, otherwise one line per ~5% so logs stay short.
using System.Diagnostics;
using System.Globalization;

namespace Furnace.Cli.Commands;

internal sealed class ProgressLine
{
    private readonly int _total;
    private readonly int _start;
    private readonly string _unit;
    private readonly bool _terminal = !Console.IsErrorRedirected;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _lastStep = -1;
    private int _drawn;

    /// <param name="start">Items already done before this run (resumed); the rate counts only this run's.</param>
    public ProgressLine(int total, int start, string unit)
    {
        _total = total;
        _start = start;
        _unit = unit;
    }

    public void Report(int done) => Report(done, null);

    /// <summary>As Report, with a detail after the count ("loss 2.31, lr 2.0e-4").</summary>
    public void Report(int done, string? detail)
    {
        int step = _total == 0 ? 20 : done * 20 / _total;
        if (!_terminal && step == _lastStep && done != _total) return;
        _lastStep = step;
        double seconds = _clock.Elapsed.TotalSeconds, rate = (done - _start) / Math.Max(seconds, 1e-9);
        string eta = done >= _total || rate <= 0 ? "" : ", ETA " + Format(TimeSpan.FromSeconds((_total - done) / rate));
        string line = string.Create(CultureInfo.InvariantCulture, $"[{done}/{_total}] {(detail == null ? "" : detail + ", ")}{rate:F2} {_unit}/s{eta}");
        if (_terminal)
        {
            Console.Error.Write("\r" + line.PadRight(_drawn));
            _drawn = line.Length;
            if (done >= _total) Console.Error.WriteLine();
        }
        else Console.Error.WriteLine(line);
    }

    /// <summary>Ends a redrawn line early (interruption) so the next message starts on its own line.</summary>
    public void Break()
    {
        if (_terminal && _drawn > 0) Console.Error.WriteLine();
        _drawn = 0;
    }

    private static string Format(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:D2}s" : $"{t.Seconds}s";
}
