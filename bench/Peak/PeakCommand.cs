using MixLens.Bench.Common;

namespace MixLens.Bench.Peak;

/// <summary>
/// <c>peak</c>: prints the FMA peak (<see cref="FmaPeak"/>) per ISA on 1 thread and on all logical cores as a Markdown
/// table: wall-clock GFLOP/s over all threads (best and median of 21), and GFLOP per CPU-second of one core. Run: <c>dotnet run -c Release --project bench -- peak</c>.
/// </summary>
public static class PeakCommand
{
    /// <summary>One measured peak.</summary>
    public sealed record PeakResult(PeakIsa Isa, int Threads, FmaPeak.Result Gflops);

    public static int Run(string[] args)
    {
        Console.WriteLine(MachineInfo.Summary());
        var results = MeasureAll();
        Console.WriteLine();
        Console.WriteLine(Table(results));
        return 0;
    }

    /// <summary>Every supported ISA on 1 thread and on <see cref="Environment.ProcessorCount"/> threads.</summary>
    public static List<PeakResult> MeasureAll()
    {
        var results = new List<PeakResult>();
        foreach (var isa in Enum.GetValues<PeakIsa>())
        {
            if (!FmaPeak.IsSupported(isa)) { Console.WriteLine($"// {isa}: not supported here, skipped"); continue; }
            foreach (int threads in ThreadCounts())
            {
                var r = FmaPeak.Measure(isa, threads);
                results.Add(new PeakResult(isa, threads, r));
                Console.WriteLine($"// peak {isa,-9} {threads} thread(s): best {r.Best:F1} GFLOP/s, median {r.Median:F1}, per core per CPU-second {r.PerCoreCpu:F1}");
            }
        }
        return results;
    }

    public static int[] ThreadCounts() => Environment.ProcessorCount > 1 ? [1, Environment.ProcessorCount] : [1];

    public static string Table(IEnumerable<PeakResult> results)
    {
        var table = new MarkdownTable("ISA", "threads", "FLOP/iteration", "best GFLOP/s (wall)", "median GFLOP/s (wall)", "GFLOP per CPU-second, one core (best)");
        foreach (var r in results)
            table.Add(r.Isa, r.Threads, FmaPeak.FlopPerIteration(r.Isa), r.Gflops.Best.ToString("F1"), r.Gflops.Median.ToString("F1"), r.Gflops.PerCoreCpu.ToString("F1"));
        return table.ToString();
    }
}
