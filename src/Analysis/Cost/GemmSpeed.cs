using System.Diagnostics;
using MixLens.Kernels;

namespace MixLens.Analysis.Cost;

/// <summary>
/// This machine's GEMM speed, measured once per process: the rate (float operations per second, a multiply-add counted
/// as 2) of a small packed GEMM, [256, 384] × [384, 384], on <see cref="Parallelism.MaxThreads"/> threads, the best of
/// repeated runs within about 25 ms. It turns the work of <see cref="CostModel"/> into seconds: the encoder and the
/// expensive methods spend most of their time in this GEMM or in loops whose speed follows it.
/// <para>
/// The measurement sees the machine as it is at that moment: on cores busy with other processes it is lower, and so
/// the estimates are longer, as the run will be. A value set through <see cref="Override"/> (tests, or a caller who has
/// measured it) replaces the measurement.
/// </para>
/// </summary>
public static class GemmSpeed
{
    const int M = 256, K = 384, N = 384;
    const double BudgetMilliseconds = 25;

    static readonly Lock Gate = new();
    static double s_measured;
    static TimeSpan s_calibration;
    static double? s_override;

    /// <summary>Float operations per second (2 per multiply-add) of the calibration GEMM; measured on first use.</summary>
    public static double FlopsPerSecond
    {
        get
        {
            if (s_override is double fixedRate) return fixedRate;
            lock (Gate)
            {
                if (s_measured == 0) s_measured = Measure(out s_calibration);
                return s_measured;
            }
        }
    }

    /// <summary>How long the calibration behind <see cref="FlopsPerSecond"/> took (zero before it ran, or when overridden).</summary>
    public static TimeSpan CalibrationTime { get { lock (Gate) return s_calibration; } }

    /// <summary>Replaces the measurement by <paramref name="flopsPerSecond"/> (null: measure again on next use).</summary>
    /// <exception cref="ArgumentOutOfRangeException">not a positive finite rate.</exception>
    public static void Override(double? flopsPerSecond)
    {
        if (flopsPerSecond is double r && (!(r > 0) || double.IsInfinity(r)))
            throw new ArgumentOutOfRangeException(nameof(flopsPerSecond), flopsPerSecond, "a GEMM speed must be a positive number of operations per second");
        lock (Gate)
        {
            s_override = flopsPerSecond;
            if (flopsPerSecond is null) s_measured = 0;
        }
    }

    /// <summary>How long the first calibration GEMM took: the compilation of the GEMM code and the start of the kernel
    /// threads, which the request would pay anyway (zero before the calibration ran).</summary>
    public static TimeSpan FirstCallTime { get; private set; }

    /// <summary>Runs the calibration now and returns the rate; <paramref name="elapsed"/> is the time of the timed runs
    /// (about 25 ms), after a first untimed call (see <see cref="FirstCallTime"/>).</summary>
    public static double Measure(out TimeSpan elapsed)
    {
        long first = Stopwatch.GetTimestamp();
        var random = new Random(17);
        var a = new float[M * K];
        var w = new float[N * K];
        for (int e = 0; e < a.Length; e++) a[e] = (float)(random.NextDouble() - 0.5);
        for (int e = 0; e < w.Length; e++) w[e] = (float)(random.NextDouble() - 0.5);
        var packed = PackedMatrix.FromTransposed(w, N, K);
        var c = new float[M * N];
        Gemm.MatMul(a, K, packed, c, N, M);   // warm-up: JIT, worker threads, caches
        FirstCallTime = Stopwatch.GetElapsedTime(first);
        var clock = Stopwatch.StartNew();
        double best = double.PositiveInfinity;
        long start = Stopwatch.GetTimestamp();
        for (int run = 0; run < 200; run++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Gemm.MatMul(a, K, packed, c, N, M);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
            if (run >= 2 && Stopwatch.GetElapsedTime(start).TotalMilliseconds > BudgetMilliseconds) break;
        }
        elapsed = clock.Elapsed;
        return 2.0 * M * K * N / Math.Max(best, 1e-9);
    }
}
