using System.Diagnostics;
using System.Globalization;
using MixLens.Analysis.Cost;
using Spectre.Console;

namespace MixLens.Cli;

/// <summary>
/// Progress of one expensive request with its ETA on stderr: a Spectre.Console progress bar when stderr is a terminal,
/// plain lines otherwise (the estimate first, then a line every <see cref="PlainLineSeconds"/> seconds, then the time it
/// took against the estimate). Requests estimated under <see cref="QuietBelowSeconds"/> print nothing. The analysis
/// reports fractions through <see cref="IProgress{T}"/> from any thread; they are stored, never drawn, on the calling
/// thread, so the hot loops pay one store per task.
/// </summary>
internal static class WorkProgress
{
    /// <summary>Seconds between plain progress lines.</summary>
    public const double PlainLineSeconds = 10;

    /// <summary>Requests estimated shorter than this show no progress and no estimate.</summary>
    public const double QuietBelowSeconds = 2;

    /// <summary>Runs <paramref name="work"/> with progress on <paramref name="stderr"/> when it is the process's own
    /// stderr (a test's writer gets none).</summary>
    public static T Run<T>(TextWriter? stderr, CostEstimate estimate, Func<IProgress<double>?, T> work)
    {
        if (stderr is null || !ReferenceEquals(stderr, Console.Error) || estimate.Seconds < QuietBelowSeconds) return work(null);
        return Console.IsErrorRedirected
            ? RunWithLines(stderr, estimate, work, PlainLineSeconds)
            : RunWithBar(estimate, work);
    }

    /// <summary>Plain lines on <paramref name="stderr"/>: the estimate, a line every <paramref name="every"/> seconds
    /// while <paramref name="work"/> runs, and the time it took.</summary>
    public static T RunWithLines<T>(TextWriter stderr, CostEstimate estimate, Func<IProgress<double>?, T> work, double every)
    {
        var fraction = new Fraction();
        var clock = Stopwatch.StartNew();
        stderr.WriteLine($"mixlens: {estimate.What}: estimated {estimate.Summary}");
        stderr.Flush();
        T result = default!;
        Exception? failure = null;
        var worker = new Thread(() =>
        {
            try { result = work(fraction); }
            catch (Exception e) { failure = e; }
        }) { IsBackground = true, Name = "mixlens-work" };
        worker.Start();
        while (!worker.Join(TimeSpan.FromSeconds(every)))
        {
            stderr.WriteLine($"mixlens: {estimate.What}: {Line(fraction.Value, clock.Elapsed.TotalSeconds, estimate)}");
            stderr.Flush();
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        stderr.WriteLine($"mixlens: {estimate.What}: done in {CostEstimate.Duration(clock.Elapsed.TotalSeconds)} (estimated {CostEstimate.Duration(estimate.Seconds)})");
        stderr.Flush();
        return result;
    }

    /// <summary>"34% done, 1 min 02 s elapsed, ETA 2 min 00 s".</summary>
    public static string Line(double fraction, double elapsed, CostEstimate estimate) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{100 * fraction:0}% done, {CostEstimate.Duration(elapsed)} elapsed, ETA {CostEstimate.Duration(Remaining(fraction, elapsed, estimate))}");

    /// <summary>Seconds left: from the rate so far once 2% is done, else from the estimate.</summary>
    public static double Remaining(double fraction, double elapsed, CostEstimate estimate) =>
        fraction >= 0.02 ? elapsed / fraction * (1 - fraction) : Math.Max(0, estimate.Seconds - elapsed);

    static T RunWithBar<T>(CostEstimate estimate, Func<IProgress<double>?, T> work)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var fraction = new Fraction();
        T result = default!;
        Exception? failure = null;
        var worker = new Thread(() =>
        {
            try { result = work(fraction); }
            catch (Exception e) { failure = e; }
        }) { IsBackground = true, Name = "mixlens-work" };
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(estimate.What), maxValue: 1000);
                var clock = Stopwatch.StartNew();
                worker.Start();
                while (true)
                {
                    bool finished = worker.Join(200);
                    double f = fraction.Value;
                    task.Value = 1000 * f;
                    task.Description = Markup.Escape($"{estimate.What} · ETA {CostEstimate.Duration(Remaining(f, clock.Elapsed.TotalSeconds, estimate))} (estimated {CostEstimate.Duration(estimate.Seconds)})");
                    if (finished) break;
                }
            });
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        return result;
    }

    /// <summary>The latest fraction reported (the largest: tasks finish out of order), readable from any thread.</summary>
    sealed class Fraction : IProgress<double>
    {
        long _bits;

        public double Value => BitConverter.Int64BitsToDouble(Volatile.Read(ref _bits));

        public void Report(double value)
        {
            long bits = BitConverter.DoubleToInt64Bits(Math.Clamp(value, 0, 1));
            long seen = Volatile.Read(ref _bits);
            while (BitConverter.Int64BitsToDouble(seen) < value)
            {
                long was = Interlocked.CompareExchange(ref _bits, bits, seen);
                if (was == seen) return;
                seen = was;
            }
        }
    }
}
