using System.Diagnostics;
using MixLens.Bench.Common;
using MixLens.Bench.Peak;
using MixLens.Kernels;

namespace MixLens.Bench.Kernels;

/// <summary>
/// <c>gemm</c>: the encoder's Linear layers (<see cref="LinearUnderTest.EncoderShapes"/>) at M = 128 tokens through
/// <see cref="LinearUnderTest"/>, on 1 thread (<c>parallel: false</c>, the calling thread only) and on all threads (the
/// GEMM's own thread-pool split), in GFLOP/s (2·M·N·K / time) and as a share of this machine's FMA peak for the vector
/// path the kernels take, measured first in the same process (<see cref="FmaPeak"/>, best of 21 short loops, same
/// thread count).
/// Timing: warm-up for ≥ 0.3 s (tiered JIT reaches its optimised code), then <see cref="Samples"/> samples of enough
/// calls to last ≥ 50 ms each; the median sample's time per call is reported (min in brackets), inputs fixed
/// (uniform in [−0.5, 0.5), seed 42). On a shared machine wall-clock rates also count time spent waiting for a core,
/// so each sample also reads the process CPU clock (<see cref="CpuClock"/>): FLOP per CPU-second is the GEMM's rate per
/// core while it runs (thread-pool fork/join and spinning included), compared with one core's FMA peak per
/// CPU-second. Run: <c>dotnet run -c Release --project bench -- gemm [--m ROWS]</c>.
/// </summary>
public static class GemmSuite
{
    const int Samples = 9;

    /// <param name="args"><c>--m ROWS</c> changes M (default 128, the encoder's tokens per call; a batch of 32 texts
    /// of 128 tokens is M = 4096).</param>
    public static int Run(string[] args)
    {
        int M = args.Length >= 2 && args[0] == "--m" ? int.Parse(args[1]) : 128;
        Console.WriteLine(MachineInfo.Summary());
        var isa = VectorPaths.Active switch
        {
            VectorPath.Vector512 => PeakIsa.Vector512,
            VectorPath.Vector256 => PeakIsa.Vector256,
            VectorPath.Vector128 => PeakIsa.Vector128,
            _ => PeakIsa.Scalar,
        };
        var peaks = PeakCommand.ThreadCounts().ToDictionary(t => t, t => FmaPeak.Measure(isa, t));
        foreach (var (t, p) in peaks) Console.WriteLine($"// {isa} FMA peak, {t} thread(s): {p.Best:F1} GFLOP/s wall, {p.PerCoreCpu:F1} per CPU-second of a core");
        double corePeak = peaks[1].PerCoreCpu;

        var table = new MarkdownTable("model", "K×N", "threads", "median µs/call (min)", "GFLOP/s (wall)", $"% of {isa} peak (wall)",
            "GFLOP per CPU-second", $"% of one core's {isa} peak (CPU time)");
        foreach (var (model, k, n) in LinearUnderTest.EncoderShapes)
        {
            var linear = LinearUnderTest.Random(n, k);
            var x = LinearUnderTest.RandomArray(M * k, 7);
            var y = new float[M * n];
            foreach (int threads in PeakCommand.ThreadCounts())
            {
                bool parallel = threads > 1;
                var (median, min, cpuMedian) = Time(() => linear.Forward(x, M, y, parallel));
                double flop = 2.0 * M * n * k;
                double gflops = flop / median / 1e3; // µs → GFLOP/s
                double perCpu = flop / cpuMedian / 1e3;
                table.Add(model, $"{k}×{n}", threads, $"{median:F0} ({min:F0})", gflops.ToString("F1"), (100 * gflops / peaks[threads].Best).ToString("F0") + " %",
                    perCpu.ToString("F1"), (100 * perCpu / corePeak).ToString("F0") + " %");
                Console.WriteLine($"// {model} {k}×{n} {threads} thread(s): {median:F0} µs, {gflops:F1} GFLOP/s, {perCpu:F1} GFLOP per CPU-second");
            }
        }
        Console.WriteLine();
        Console.WriteLine($"M = {M}; wall peak = best {isa} FMA loop at the same thread count ({string.Join(", ", peaks.Select(p => $"{p.Key} thread(s): {p.Value.Best:F1}"))} GFLOP/s); " +
                          $"one core's peak per CPU-second {corePeak:F1} GFLOP; load average {MachineInfo.LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine(table);
        return 0;
    }

    /// <summary>Median and minimum wall µs per call, and median process-CPU µs per call, over <see cref="Samples"/> samples.</summary>
    static (double Median, double Min, double CpuMedian) Time(Action call)
    {
        var sw = Stopwatch.StartNew();
        int calls = 0;
        while (sw.Elapsed.TotalSeconds < 0.3 || calls < 5) { call(); calls++; }
        int perSample = Math.Max(1, (int)(0.05 / (sw.Elapsed.TotalSeconds / calls)));
        var us = new double[Samples];
        var cpuUs = new double[Samples];
        for (int s = 0; s < Samples; s++)
        {
            double cpu0 = CpuClock.ProcessSeconds();
            sw.Restart();
            for (int i = 0; i < perSample; i++) call();
            us[s] = sw.Elapsed.TotalMicroseconds / perSample;
            cpuUs[s] = (CpuClock.ProcessSeconds() - cpu0) * 1e6 / perSample;
        }
        return (Stats.Median(us), us.Min(), Stats.Median(cpuUs));
    }
}
