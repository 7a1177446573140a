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
/// <para>On one thread a last column compares each shape with the same micro-kernel on operands that stay in L1
/// (<see cref="InCacheReference"/>), sample by sample, each GEMM sample right after a reference sample: the share of the
/// in-cache rate the whole GEMM keeps once its operands come from L2, L3 and DRAM. On a shared virtual machine the
/// rate of the load-heavy micro-kernel moves by a quarter between phases of a few hundred milliseconds while the
/// register-only FMA loop does not (bench/RESULTS.md, 2026-12-08), so this ratio is the steadier measure of what the
/// blocking and prefetching lose.</para>
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
            "GFLOP per CPU-second", $"% of one core's {isa} peak (CPU time)", "% of the in-cache micro-kernel, same moment (1 thread)");
        var reference = InCacheReference.Create();
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
                string inCache = parallel ? "" : $"{100 * PairedRatio(() => linear.Forward(x, M, y, false), flop, reference):F0} %";
                table.Add(model, $"{k}×{n}", threads, $"{median:F0} ({min:F0})", gflops.ToString("F1"), (100 * gflops / peaks[threads].Best).ToString("F0") + " %",
                    perCpu.ToString("F1"), (100 * perCpu / corePeak).ToString("F0") + " %", inCache);
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

    /// <summary>
    /// The packed GEMM on operands that stay in L1: M = 24 rows (4 tiles of 6) of A [24, 384] (36 KiB, read as
    /// broadcasts) against one 16-column panel of B [384, 16] (24 KiB), so the rate is the micro-kernel's own, with its
    /// write-backs and call overhead, and no wait on L2 or memory.
    /// </summary>
    internal sealed class InCacheReference
    {
        const int M = 24, K = 384, N = 16;
        readonly LinearUnderTest _linear = LinearUnderTest.Random(N, K);
        readonly float[] _x = LinearUnderTest.RandomArray(M * K, 11), _y = new float[M * N];
        public static InCacheReference Create() => new();
        public double Flop => 2.0 * M * N * K;
        public void Call() => _linear.Forward(_x, M, _y, parallel: false);
    }

    /// <summary>Median over 15 pairs of (GEMM GFLOP/s) / (in-cache reference GFLOP/s), each pair ~20 ms of the
    /// reference then ~20 ms of the GEMM on the calling thread.</summary>
    static double PairedRatio(Action call, double flop, InCacheReference reference)
    {
        int refCalls = CallsFor(reference.Call, 0.05, 3, 0.02), gemmCalls = CallsFor(call, 0.05, 3, 0.02);
        var ratios = new double[15];
        var sw = new Stopwatch();
        for (int r = 0; r < ratios.Length; r++)
        {
            sw.Restart();
            for (int i = 0; i < refCalls; i++) reference.Call();
            double refRate = refCalls * reference.Flop / sw.Elapsed.TotalSeconds;
            sw.Restart();
            for (int i = 0; i < gemmCalls; i++) call();
            double gemmRate = gemmCalls * flop / sw.Elapsed.TotalSeconds;
            ratios[r] = gemmRate / refRate;
        }
        return Stats.Median(ratios);
    }

    /// <summary>Calls of <paramref name="call"/> that last about <paramref name="seconds"/>, from a warm-up of at least
    /// <paramref name="warmSeconds"/> and <paramref name="warmCalls"/> calls (tiered JIT reaches its optimised code).</summary>
    static int CallsFor(Action call, double warmSeconds, int warmCalls, double seconds)
    {
        var sw = Stopwatch.StartNew();
        int calls = 0;
        while (sw.Elapsed.TotalSeconds < warmSeconds || calls < warmCalls) { call(); calls++; }
        return Math.Max(1, (int)(seconds / (sw.Elapsed.TotalSeconds / calls)));
    }

    /// <summary>Median and minimum wall µs per call, and median process-CPU µs per call, over <see cref="Samples"/> samples.</summary>
    static (double Median, double Min, double CpuMedian) Time(Action call)
    {
        int perSample = CallsFor(call, 0.3, 5, 0.05);
        var sw = new Stopwatch();
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
