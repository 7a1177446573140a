using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MixLens.Bench.Common;
using MixLens.Bench.Peak;
using MixLens.Kernels;
using MixLens.Kernels.Internal;

namespace MixLens.Bench.Kernels;

/// <summary>
/// <c>ukernel</c>: how the packed GEMM's micro-kernel on L1-resident operands (<see cref="GemmSuite.InCacheReference"/>)
/// compares with the register-only FMA loop (<see cref="FmaPeak"/>) moment by moment, on one thread. Each of
/// <see cref="Pairs"/> rounds runs ~15 ms of the FMA loop, ~15 ms of the micro-kernel and ~15 ms of a control loop
/// with the micro-kernel's 12 FMAs per step but only 2 vector loads (B's two vectors, no broadcasts of A), and records
/// both rates as a share of the FMA loop's rate of that round. The distribution over rounds (not only its median) is
/// the point: on the 2-core Zen 3 guest of bench/RESULTS.md the micro-kernel alternates between ~90 % and ~70 % of the
/// FMA loop in phases of a few hundred milliseconds while the FMA loop keeps its rate, and the control stays near the
/// FMA loop throughout. Run: <c>dotnet run -c Release --project bench -- ukernel [--pairs N]</c>.
/// </summary>
public static unsafe class MicroKernelPhases
{
    const int DefaultPairs = 60;

    public static int Run(string[] args)
    {
        int pairs = args.Length >= 2 && args[0] == "--pairs" ? int.Parse(args[1]) : DefaultPairs;
        Console.WriteLine(MachineInfo.Summary());
        var (isa, control) = VectorPaths.Active switch
        {
            VectorPath.Vector512 => (PeakIsa.Vector512, (Func<nint, long, float>)ControlLoop<Vector512<float>, Simd512>),
            VectorPath.Vector256 => (PeakIsa.Vector256, ControlLoop<Vector256<float>, Simd256>),
            _ => (PeakIsa.Scalar, null),
        };
        if (control is null)
        {
            Console.Error.WriteLine("ukernel: needs the Vector256 or Vector512 path (FMA); this process runs " + VectorPaths.Active);
            return 1;
        }
        int w = isa == PeakIsa.Vector512 ? 16 : 8;
        float* panel = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(64 * 2 * 16 * sizeof(float), 64);
        for (int i = 0; i < 64 * 2 * 16; i++) panel[i] = 0.001f * (i % 5);
        var reference = GemmSuite.InCacheReference.Create();

        // warm-up past tier-up (the GEMM entry points are tiered), then calibrate each to ~15 ms
        for (int i = 0; i < 3000; i++) reference.Call();
        long peakIters = Calibrate(n => FmaPeak.Run(isa, n), 1 << 16);
        long controlIters = Calibrate(n => control((nint)panel, n), 1 << 16);
        long refCalls = Calibrate(n => { for (long i = 0; i < n; i++) reference.Call(); return 0; }, 16);
        double peakFlop = peakIters * FmaPeak.FlopPerIteration(isa), controlFlop = controlIters * 12.0 * 2 * w;
        double refFlop = refCalls * reference.Flop;

        var kernelShare = new double[pairs];
        var controlShare = new double[pairs];
        var sw = new Stopwatch();
        float sink = 0;
        for (int r = 0; r < pairs; r++)
        {
            sw.Restart(); sink += FmaPeak.Run(isa, peakIters); double peak = peakFlop / sw.Elapsed.TotalSeconds;
            sw.Restart(); for (long i = 0; i < refCalls; i++) reference.Call(); double kernel = refFlop / sw.Elapsed.TotalSeconds;
            sw.Restart(); sink += control((nint)panel, controlIters); double ctl = controlFlop / sw.Elapsed.TotalSeconds;
            kernelShare[r] = kernel / peak;
            controlShare[r] = ctl / peak;
        }
        if (float.IsNaN(sink)) Console.Error.WriteLine("unexpected NaN");
        Console.WriteLine($"{pairs} rounds of ~15 ms each, one thread, {isa}; load average {MachineInfo.LoadAverage()}");
        Console.WriteLine();
        var table = new MarkdownTable("loop", "min", "q1", "median", "q3", "max", "rounds < 80 %", "rounds ≥ 85 %");
        foreach (var (name, shares) in new[] { ("micro-kernel, operands in L1 (8 loads / 12 FMAs)", kernelShare), ("control (2 loads / 12 FMAs)", controlShare) })
        {
            var sorted = shares.OrderBy(x => x).ToArray();
            string P(double q) => $"{100 * sorted[(int)Math.Round(q * (sorted.Length - 1))]:F0} %";
            table.Add(name, P(0), P(0.25), P(0.5), P(0.75), P(1), sorted.Count(x => x < 0.80), sorted.Count(x => x >= 0.85));
        }
        Console.WriteLine("Share of the register-only FMA loop's rate in the same round:");
        Console.WriteLine(table);
        Console.WriteLine("Round by round (micro-kernel %): " + string.Join(" ", kernelShare.Select(x => (100 * x).ToString("F0"))));
        return 0;
    }

    static long Calibrate(Func<long, float> run, long start)
    {
        long n = start;
        for (int i = 0; i < 3; i++) run(n); // warm-up, tier-up
        while (true)
        {
            var sw = Stopwatch.StartNew();
            run(n);
            double s = sw.Elapsed.TotalSeconds;
            if (s > 0.003) return Math.Max(1, (long)(n * 0.015 / s));
            n *= 2;
        }
    }

    /// <summary>12 accumulators, each step two vector loads from a 64-step L1 panel and 12 FMAs (the 6 × 2-vector
    /// micro-tile with A's six broadcasts replaced by two fixed registers).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float ControlLoop<TV, TOps>(nint panelAddress, long steps) where TV : struct where TOps : struct, ISimdOps<TV>
    {
        float* panel = (float*)panelAddress;
        int w = TOps.Count;
        TV x = TOps.Create(0.999f), y = TOps.Create(0.001f);
        TV c00 = TOps.Zero, c01 = TOps.Zero, c10 = TOps.Zero, c11 = TOps.Zero, c20 = TOps.Zero, c21 = TOps.Zero;
        TV c30 = TOps.Zero, c31 = TOps.Zero, c40 = TOps.Zero, c41 = TOps.Zero, c50 = TOps.Zero, c51 = TOps.Zero;
        float* b = panel;
        for (long s = 0; s < steps; s++)
        {
            TV b0 = TOps.Load(b), b1 = TOps.Load(b + w);
            c00 = TOps.MultiplyAdd(x, b0, c00); c01 = TOps.MultiplyAdd(x, b1, c01);
            c10 = TOps.MultiplyAdd(y, b0, c10); c11 = TOps.MultiplyAdd(y, b1, c11);
            c20 = TOps.MultiplyAdd(x, b0, c20); c21 = TOps.MultiplyAdd(x, b1, c21);
            c30 = TOps.MultiplyAdd(y, b0, c30); c31 = TOps.MultiplyAdd(y, b1, c31);
            c40 = TOps.MultiplyAdd(x, b0, c40); c41 = TOps.MultiplyAdd(x, b1, c41);
            c50 = TOps.MultiplyAdd(y, b0, c50); c51 = TOps.MultiplyAdd(y, b1, c51);
            b = (s & 63) == 63 ? panel : b + 2 * w;
        }
        TV sum = TOps.Add(TOps.Add(TOps.Add(c00, c01), TOps.Add(c10, c11)), TOps.Add(TOps.Add(c20, c21), TOps.Add(c30, c31)));
        sum = TOps.Add(sum, TOps.Add(TOps.Add(c40, c41), TOps.Add(c50, c51)));
        return TOps.Sum(sum);
    }
}
