// Progress of a long loop (i/N, items per second, ETA) on stderr — the one progress type the commands report into
// (the library's progress callbacks end here). The renderer depends on where stderr goes:
//   a terminal: a Spectre.Console progress bar (ProgressBars), one per live ProgressLine, so several show at once
//               when the work has parts (stages, calibration then encoding, …), with ETA and throughput;
//   anything else (CI logs, files): one plain line per ~5 % (and the last), "[done/total] detail, rate unit/s, ETA 3m05s".
using System.Diagnostics;
using System.Globalization;

namespace Furnace.Cli.Commands;

internal sealed class ProgressLine
{
    private readonly int _total;
    private readonly int _start;
    private readonly string _unit;
    private readonly TextWriter? _lines; // null: the terminal's bars
    private readonly Func<TimeSpan> _elapsed;
    private readonly ProgressBars.Bar? _bar;
    private int _lastStep = -1;

    /// <param name="start">Items already done before this run (resumed); the rate counts only this run's.</param>
    /// <param name="name">The part this line counts, shown beside its bar on a terminal.</param>
    public ProgressLine(int total, int start, string unit, string? name = null)
        : this(total, start, unit, ProgressBars.Terminal ? null : Console.Error, null, name)
    {
    }

    /// <summary>A line renderer writing to <paramref name="lines"/> (or the terminal's bars when null), timed by <paramref name="elapsed"/>.</summary>
    internal ProgressLine(int total, int start, string unit, TextWriter? lines, Func<TimeSpan>? elapsed, string? name = null)
    {
        _total = total;
        _start = start;
        _unit = unit;
        _lines = lines;
        var clock = Stopwatch.StartNew();
        _elapsed = elapsed ?? (() => clock.Elapsed);
        if (lines is null) _bar = ProgressBars.Add(name ?? unit, total, start, unit);
    }

    public void Report(int done) => Report(done, null);

    /// <summary>As Report, with a detail after the count ("loss 2.31, lr 2.0e-4").</summary>
    public void Report(int done, string? detail)
    {
        double seconds = _elapsed().TotalSeconds, rate = (done - _start) / Math.Max(seconds, 1e-9);
        TimeSpan? eta = done >= _total || rate <= 0 ? null : TimeSpan.FromSeconds((_total - done) / rate);
        if (_bar is not null)
        {
            _bar.Update(done, detail, rate, eta);
            return;
        }
        int step = _total == 0 ? 20 : done * 20 / _total;
        if (step == _lastStep && done != _total) return;
        _lastStep = step;
        _lines!.WriteLine(Format(done, _total, detail, rate, _unit, eta));
    }

    /// <summary>Ends the bars early (interruption, an error) so the next message starts on its own line.</summary>
    public void Break()
    {
        if (_bar is not null) ProgressBars.Stop();
    }

    /// <summary>A status line for people on stderr, above the bars while they show.</summary>
    public static void Message(string line)
    {
        if (ProgressBars.Terminal) ProgressBars.WriteLine(line);
        else Console.Error.WriteLine(line);
    }

    /// <summary>The line: "[done/total] detail, 2.50 unit/s, ETA 1m05s" (no ETA once done or before any rate).</summary>
    internal static string Format(int done, int total, string? detail, double rate, string unit, TimeSpan? eta) =>
        string.Create(CultureInfo.InvariantCulture,
            $"[{done}/{total}] {(detail == null ? "" : detail + ", ")}{rate:F2} {unit}/s{(eta is TimeSpan t ? ", ETA " + Duration(t) : "")}");

    internal static string Duration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:D2}s" : $"{t.Seconds}s";
}
