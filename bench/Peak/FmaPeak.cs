using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MixLens.Bench.Peak;

/// <summary>The ISA a peak loop uses.</summary>
public enum PeakIsa { Vector512, Vector256, Vector128, Scalar }

/// <summary>
/// This machine's fused-multiply-add peak, measured with a register-only loop: 12 independent accumulators
/// c_i ← c_i·a + b (no loads or stores in the loop), enough to cover FMA latency × FMA ports (4 cycles × 2 pipes on
/// Zen 4 and on recent Intel cores). One FMA = 2 FLOP, so an iteration is 12·2·lanes FLOP
/// (Vector512: 384, Vector256: 192, Vector128: 96, scalar: 24). a is just below 1, so the accumulators converge to b/(1−a) and stay
/// normal numbers (no denormal slow-down). On all threads every thread runs the same loop, started together behind a
/// barrier; GFLOP/s = threads·FLOP / wall time. Each thread also reads its own CPU clock (<see cref="Common.CpuClock"/>):
/// FLOP per CPU-second of a thread is the core's peak while it runs, unaffected by time lost to other processes on a
/// shared machine (reported per core: the mean over the threads).
/// </summary>
public static class FmaPeak
{
    const int Accumulators = 12;

    /// <summary>Whether this process can run <paramref name="isa"/>'s loop with FMA instructions.</summary>
    public static bool IsSupported(PeakIsa isa) => isa switch
    {
        PeakIsa.Vector512 => Avx512F.IsSupported,
        PeakIsa.Vector256 => Fma.IsSupported,
        PeakIsa.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true, // MathF.FusedMultiplyAdd: a hardware vfmadd*ss where FMA exists, else a (slow) software fallback
    };

    /// <summary>FLOP per loop iteration.</summary>
    public static long FlopPerIteration(PeakIsa isa) => Accumulators * 2L * isa switch
    {
        PeakIsa.Vector512 => 16,
        PeakIsa.Vector256 => 8,
        PeakIsa.Vector128 => 4,
        _ => 1,
    };

    /// <summary>One peak measurement: best and median wall-clock GFLOP/s over all threads, and the best GFLOP per
    /// CPU-second of one core.</summary>
    public sealed record Result(double Best, double Median, double PerCoreCpu);

    /// <summary>
    /// Best and median GFLOP/s of <paramref name="repeats"/> measurements on <paramref name="threads"/> threads, each
    /// lasting about <paramref name="seconds"/> (many short ones: on a shared machine the best is the one least
    /// disturbed by other processes, and the peak is what the cores can do undisturbed), and the best per-core rate
    /// per CPU-second.
    /// </summary>
    public static Result Measure(PeakIsa isa, int threads, int repeats = 21, double seconds = 0.05)
    {
        Run(isa, 100_000); // JIT to the optimised tier before calibrating
        for (int i = 0; i < 30; i++) Run(isa, 10_000);
        long iterations = Calibrate(isa, seconds);
        var results = new double[repeats];
        var perCore = new double[repeats];
        for (int r = 0; r < repeats; r++)
            (results[r], perCore[r]) = RunOnThreads(isa, threads, iterations);
        return new Result(results.Max(), Common.Stats.Median(results), perCore.Max());
    }

    static long Calibrate(PeakIsa isa, double seconds)
    {
        long iterations = 1_000_000;
        while (true)
        {
            var sw = Stopwatch.StartNew();
            Run(isa, iterations);
            double t = sw.Elapsed.TotalSeconds;
            if (t > 0.05) return Math.Max(1, (long)(iterations * seconds / t));
            iterations *= 4;
        }
    }

    /// <summary>GFLOP/s of <paramref name="threads"/> threads each running <paramref name="iterations"/> iterations,
    /// and the mean GFLOP per CPU-second of one thread.</summary>
    static (double Wall, double PerCoreCpu) RunOnThreads(PeakIsa isa, int threads, long iterations)
    {
        using var start = new Barrier(threads + 1);
        var workers = new Thread[threads];
        float sink = 0;
        double cpuSeconds = 0;
        for (int t = 0; t < threads; t++)
        {
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                double cpu0 = Common.CpuClock.ThreadSeconds();
                float r = Run(isa, iterations);
                double cpu = Common.CpuClock.ThreadSeconds() - cpu0;
                lock (workers) { sink += r; cpuSeconds += cpu; }
            }) { IsBackground = true };
            workers[t].Start();
        }
        start.SignalAndWait();
        var sw = Stopwatch.StartNew();
        foreach (var w in workers) w.Join();
        double seconds = sw.Elapsed.TotalSeconds;
        if (float.IsNaN(sink)) Console.Error.WriteLine("unexpected NaN"); // keeps the results alive
        double flopPerThread = (double)iterations * FlopPerIteration(isa);
        return (threads * flopPerThread / seconds / 1e9, threads * flopPerThread / cpuSeconds / 1e9);
    }

    /// <summary>One run of <paramref name="isa"/>'s register-only loop on the calling thread (a sum to keep alive).</summary>
    internal static float Run(PeakIsa isa, long iterations) => isa switch
    {
        PeakIsa.Vector512 => Loop512(iterations),
        PeakIsa.Vector256 => Loop256(iterations),
        PeakIsa.Vector128 => Loop128(iterations),
        _ => LoopScalar(iterations),
    };

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Loop512(long iterations)
    {
        var a = Vector512.Create(0.999f);
        var b = Vector512.Create(0.001f);
        Vector512<float> c0 = Vector512.Create(0.0f), c1 = Vector512.Create(0.1f), c2 = Vector512.Create(0.2f),
            c3 = Vector512.Create(0.3f), c4 = Vector512.Create(0.4f), c5 = Vector512.Create(0.5f),
            c6 = Vector512.Create(0.6f), c7 = Vector512.Create(0.7f), c8 = Vector512.Create(0.8f),
            c9 = Vector512.Create(0.9f), c10 = Vector512.Create(1.0f), c11 = Vector512.Create(1.1f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, a, b); c1 = Avx512F.FusedMultiplyAdd(c1, a, b);
            c2 = Avx512F.FusedMultiplyAdd(c2, a, b); c3 = Avx512F.FusedMultiplyAdd(c3, a, b);
            c4 = Avx512F.FusedMultiplyAdd(c4, a, b); c5 = Avx512F.FusedMultiplyAdd(c5, a, b);
            c6 = Avx512F.FusedMultiplyAdd(c6, a, b); c7 = Avx512F.FusedMultiplyAdd(c7, a, b);
            c8 = Avx512F.FusedMultiplyAdd(c8, a, b); c9 = Avx512F.FusedMultiplyAdd(c9, a, b);
            c10 = Avx512F.FusedMultiplyAdd(c10, a, b); c11 = Avx512F.FusedMultiplyAdd(c11, a, b);
        }
        var sum = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
        return Vector512.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Loop256(long iterations)
    {
        var a = Vector256.Create(0.999f);
        var b = Vector256.Create(0.001f);
        Vector256<float> c0 = Vector256.Create(0.0f), c1 = Vector256.Create(0.1f), c2 = Vector256.Create(0.2f),
            c3 = Vector256.Create(0.3f), c4 = Vector256.Create(0.4f), c5 = Vector256.Create(0.5f),
            c6 = Vector256.Create(0.6f), c7 = Vector256.Create(0.7f), c8 = Vector256.Create(0.8f),
            c9 = Vector256.Create(0.9f), c10 = Vector256.Create(1.0f), c11 = Vector256.Create(1.1f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Fma.MultiplyAdd(c0, a, b); c1 = Fma.MultiplyAdd(c1, a, b);
            c2 = Fma.MultiplyAdd(c2, a, b); c3 = Fma.MultiplyAdd(c3, a, b);
            c4 = Fma.MultiplyAdd(c4, a, b); c5 = Fma.MultiplyAdd(c5, a, b);
            c6 = Fma.MultiplyAdd(c6, a, b); c7 = Fma.MultiplyAdd(c7, a, b);
            c8 = Fma.MultiplyAdd(c8, a, b); c9 = Fma.MultiplyAdd(c9, a, b);
            c10 = Fma.MultiplyAdd(c10, a, b); c11 = Fma.MultiplyAdd(c11, a, b);
        }
        var sum = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
        return Vector256.Sum(sum);
    }

    /// <summary>
    /// The Vector128 loop (SSE or NEON) with <c>MultiplyAddEstimate</c>, as the kernels' Vector128 path computes: a fused
    /// multiply-add where the hardware has one at this width (NEON; x64 with FMA), else a multiply and an add (x64 with
    /// <c>DOTNET_EnableAVX2=0</c>, which in .NET 10 turns FMA off with AVX2), counted as 2 FLOP either way.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Loop128(long iterations)
    {
        var a = Vector128.Create(0.999f);
        var b = Vector128.Create(0.001f);
        Vector128<float> c0 = Vector128.Create(0.0f), c1 = Vector128.Create(0.1f), c2 = Vector128.Create(0.2f),
            c3 = Vector128.Create(0.3f), c4 = Vector128.Create(0.4f), c5 = Vector128.Create(0.5f),
            c6 = Vector128.Create(0.6f), c7 = Vector128.Create(0.7f), c8 = Vector128.Create(0.8f),
            c9 = Vector128.Create(0.9f), c10 = Vector128.Create(1.0f), c11 = Vector128.Create(1.1f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector128.MultiplyAddEstimate(c0, a, b); c1 = Vector128.MultiplyAddEstimate(c1, a, b);
            c2 = Vector128.MultiplyAddEstimate(c2, a, b); c3 = Vector128.MultiplyAddEstimate(c3, a, b);
            c4 = Vector128.MultiplyAddEstimate(c4, a, b); c5 = Vector128.MultiplyAddEstimate(c5, a, b);
            c6 = Vector128.MultiplyAddEstimate(c6, a, b); c7 = Vector128.MultiplyAddEstimate(c7, a, b);
            c8 = Vector128.MultiplyAddEstimate(c8, a, b); c9 = Vector128.MultiplyAddEstimate(c9, a, b);
            c10 = Vector128.MultiplyAddEstimate(c10, a, b); c11 = Vector128.MultiplyAddEstimate(c11, a, b);
        }
        var sum = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
        return Vector128.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float LoopScalar(long iterations)
    {
        float a = 0.999f, b = 0.001f;
        float c0 = 0.0f, c1 = 0.1f, c2 = 0.2f, c3 = 0.3f, c4 = 0.4f, c5 = 0.5f,
            c6 = 0.6f, c7 = 0.7f, c8 = 0.8f, c9 = 0.9f, c10 = 1.0f, c11 = 1.1f;
        for (long i = 0; i < iterations; i++)
        {
            c0 = MathF.FusedMultiplyAdd(c0, a, b); c1 = MathF.FusedMultiplyAdd(c1, a, b);
            c2 = MathF.FusedMultiplyAdd(c2, a, b); c3 = MathF.FusedMultiplyAdd(c3, a, b);
            c4 = MathF.FusedMultiplyAdd(c4, a, b); c5 = MathF.FusedMultiplyAdd(c5, a, b);
            c6 = MathF.FusedMultiplyAdd(c6, a, b); c7 = MathF.FusedMultiplyAdd(c7, a, b);
            c8 = MathF.FusedMultiplyAdd(c8, a, b); c9 = MathF.FusedMultiplyAdd(c9, a, b);
            c10 = MathF.FusedMultiplyAdd(c10, a, b); c11 = MathF.FusedMultiplyAdd(c11, a, b);
        }
        return ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
    }
}
