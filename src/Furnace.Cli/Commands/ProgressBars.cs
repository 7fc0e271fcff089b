// The terminal renderer of ProgressLine: one Spectre.Console live progress display on stderr for the process,
// holding a bar per part (description and detail, bar, percentage, done/total, rate, ETA). The display runs on its
// own thread (Spectre's Progress.Start blocks while it shows) and stops when every bar is complete, when a line
// breaks off (interruption, an error), or before the process prints an error; status lines go above the bars.
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Furnace.Cli.Commands;

internal static class ProgressBars
{
    private static readonly object Gate = new();
    private static IAnsiConsole? _console;
    private static Thread? _thread;
    private static ProgressContext? _context;
    private static ManualResetEventSlim? _stop;
    private static readonly List<Bar> Bars = [];
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> Stats = new(); // by task id

    /// <summary>Whether stderr is a terminal that shows bars (not redirected, TERM not "dumb").</summary>
    public static bool Terminal { get; } = !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") != "dumb";

    private static IAnsiConsole Stderr => _console ??= AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    public sealed class Bar(ProgressTask task, string name, string unit)
    {
        internal ProgressTask Task { get; } = task;

        public void Update(int done, string? detail, double rate, TimeSpan? eta)
        {
            Task.Description = detail is null ? Markup.Escape(name) : $"{Markup.Escape(name)} [grey]{Markup.Escape(detail)}[/]";
            string stats = string.Create(CultureInfo.InvariantCulture,
                $"{done}/{Task.MaxValue:0} {unit}, {rate:F2} {unit}/s{(eta is TimeSpan t ? ", ETA " + ProgressLine.Duration(t) : "")}");
            Stats[Task.Id] = stats;
            Task.Value = done;
            if (done >= Task.MaxValue) Completed();
        }
    }

    public static Bar Add(string name, int total, int start, string unit)
    {
        lock (Gate)
        {
            ProgressContext ctx = _context ?? Start();
            var task = ctx.AddTask(Markup.Escape(name), maxValue: Math.Max(total, 1));
            task.Value = start;
            var bar = new Bar(task, name, unit);
            Bars.Add(bar);
            return bar;
        }
    }

    /// <summary>Writes a line above the bars (or plainly when none show).</summary>
    public static void WriteLine(string line)
    {
        lock (Gate)
        {
            if (_context is null) Console.Error.WriteLine(line);
            else Stderr.WriteLine(line);
        }
    }

    /// <summary>Stops the display, leaving the bars as last drawn; the next bar starts a new one.</summary>
    public static void Stop()
    {
        Thread? thread;
        lock (Gate)
        {
            if (_context is null) return;
            _stop!.Set();
            thread = _thread;
            _context = null;
            _thread = null;
            Bars.Clear();
        }
        thread!.Join();
        Stats.Clear(); // task ids start again in the next display
    }

    private static void Completed()
    {
        bool all;
        lock (Gate) all = Bars.All(b => b.Task.Value >= b.Task.MaxValue);
        if (all) Stop();
    }

    private static ProgressContext Start()
    {
        var ready = new TaskCompletionSource<ProgressContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stop = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            try
            {
                Stderr.Progress()
                    .AutoClear(false)
                    .HideCompleted(false)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new StatsColumn())
                    .Start(ctx =>
                    {
                        ready.SetResult(ctx);
                        stop.Wait();
                        ctx.Refresh();
                    });
            }
            catch (Exception e) when (!ready.Task.IsCompleted)
            {
                ready.SetException(e);
            }
        }) { IsBackground = true, Name = "progress bars" };
        thread.Start();
        _context = ready.Task.GetAwaiter().GetResult();
        _thread = thread;
        _stop = stop;
        return _context;
    }

    // done/total, rate and ETA as ProgressLine computes them (the same figures as the plain lines)
    private sealed class StatsColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(Stats.TryGetValue(task.Id, out string? stats) ? stats : "", new Style(Color.Grey));
    }
}
