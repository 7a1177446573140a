using MixLens.Bench.Common;

namespace MixLens.Bench.Peak;

/// <summary>
/// <c>peak</c>: prints the FMA peak (<see cref="FmaPeak"/>) per ISA on 1 thread and on all logical cores as a Markdown
/// table. Run: <c>dotnet run -c Release --project bench -- peak</c>.
/// </summary>
public static class PeakCommand
{
    /// <summary>One measured peak.</summary>
    public sealed record PeakResult(PeakIsa Isa, int Threads, double BestGflops, double MedianGflops);

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
                var (best, median) = FmaPeak.Measure(isa, threads);
                results.Add(new PeakResult(isa, threads, best, median));
                Console.WriteLine($"// peak {isa,-9} {threads} thread(s): best {best:F1} GFLOP/s, median {median:F1}");
            }
        }
        return results;
    }

    public static int[] ThreadCounts() => Environment.ProcessorCount > 1 ? [1, Environment.ProcessorCount] : [1];

    public static string Table(IEnumerable<PeakResult> results)
    {
        var table = new MarkdownTable("ISA", "threads", "FLOP/iteration", "best GFLOP/s", "median GFLOP/s");
        foreach (var r in results)
            table.Add(r.Isa, r.Threads, FmaPeak.FlopPerIteration(r.Isa), r.BestGflops.ToString("F1"), r.MedianGflops.ToString("F1"));
        return table.ToString();
    }
}
