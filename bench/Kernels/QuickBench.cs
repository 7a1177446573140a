using System.Diagnostics;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Bench;

/// <summary>
/// A Stopwatch run of the numbers bench/RESULTS.md reports, fast enough for a loaded machine (seconds, not minutes):
/// GEMM GFLOP/s of y = x Wᵀ + b at M = 128 on the MiniLM and BERT-base shapes on 1 thread and on all cores, and the
/// all-MiniLM-L6-v2 forward (batch 1) at n = 16 and 128 with the bytes it allocates. Each number is the median of
/// several timed batches. Run: <c>dotnet run -c Release --project bench -- quick [gemm] [forward]</c>.
/// </summary>
public static class QuickBench
{
    static readonly (int N, int K)[] Shapes = [(384, 384), (384, 1536), (1536, 384), (768, 768), (768, 3072), (3072, 768)];

    public static void Run(string[] args)
    {
        bool all = args.Length <= 1;
        Console.WriteLine($"vector path {VectorPaths.Active}, {Environment.ProcessorCount} logical cores, load average {LoadAverage()}");
        if (all || args.Contains("gemm")) Gemms();
        if (all || args.Contains("forward")) Forwards();
        Console.WriteLine($"load average {LoadAverage()}");
    }

    static void Gemms()
    {
        const int M = 128;
        var rnd = new Random(42);
        Console.WriteLine("GEMM y = x Wᵀ + b, M = 128 (GFLOP/s, median)");
        Console.WriteLine($"{"N x K",-10} {"threads",7} {"GFLOP/s",9}");
        foreach (var (n, k) in Shapes)
        {
            var a = Random(rnd, M * k);
            var w = Random(rnd, n * k);
            var bias = Random(rnd, n);
            var c = new float[M * n];
            foreach (var (name, gemm) in GemmUnderTest.Variants(w, bias, n, k))
                foreach (int threads in new[] { 1, Environment.ProcessorCount })
                {
                    double seconds = Median(() => gemm(a, c, M, threads), targetSeconds: 0.25);
                    Console.WriteLine($"{n + "x" + k,-10} {threads,7} {2.0 * M * n * k / seconds / 1e9,9:F1}  {name}");
                }
        }
    }

    static void Forwards()
    {
        using var model = EncoderModel.Load(SharedPaths.Model("all-MiniLM-L6-v2"));
        string text = string.Join(' ', Enumerable.Repeat("the quick brown fox jumps over the lazy dog", 64));
        Console.WriteLine("Forward all-MiniLM-L6-v2, batch 1 (ms, median; bytes allocated per call, all threads)");
        Console.WriteLine($"{"tokens",6} {"threads",7} {"ms",8} {"allocated",12}");
        foreach (int tokens in new[] { 16, 128 })
        {
            var input = EncoderInput.From(model.Tokenizer.Encode(text, maxLength: tokens));
            foreach (int threads in new[] { 1, Environment.ProcessorCount })
            {
                using var _ = GemmUnderTest.Threads(threads);
                for (int i = 0; i < 5; i++) model.Encoder.Forward(input);
                long before = GC.GetTotalAllocatedBytes(true);
                model.Encoder.Forward(input);
                long allocated = GC.GetTotalAllocatedBytes(true) - before;
                double seconds = Median(() => model.Encoder.Forward(input), targetSeconds: 0.4);
                Console.WriteLine($"{tokens,6} {threads,7} {seconds * 1e3,8:F2} {allocated,12:N0}");
            }
        }
    }

    /// <summary>Median over 7 batches of the seconds one call takes; each batch runs about targetSeconds / 7.</summary>
    static double Median(Action call, double targetSeconds)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < 0.2) call();   // past tiered compilation
        clock.Restart();
        call();
        double once = Math.Max(clock.Elapsed.TotalSeconds, 1e-6);
        int reps = Math.Max(1, (int)(targetSeconds / 7 / once));
        var times = new double[7];
        for (int b = 0; b < times.Length; b++)
        {
            clock.Restart();
            for (int r = 0; r < reps; r++) call();
            times[b] = clock.Elapsed.TotalSeconds / reps;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }

    static float[] Random(Random rnd, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)rnd.NextDouble() - 0.5f;
        return x;
    }

    static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
    }
}
