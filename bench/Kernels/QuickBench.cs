using System.Diagnostics;
using MixLens.Bench.Common;
using MixLens.Bench.Kernels;
using MixLens.Bench.Peak;
using MixLens.Engine.Model;
using MixLens.Engine;
using MixLens.Kernels;

namespace MixLens.Bench;

/// <summary>
/// A Stopwatch run of the numbers bench/RESULTS.md reports, fast enough for a loaded machine (seconds, not minutes):
/// GEMM GFLOP/s of y = x Wᵀ + b at M = 128 on the MiniLM and BERT-base shapes on 1 thread and on all cores (the
/// <c>gemm</c> suite's Linear layers and inputs, <see cref="LinearUnderTest"/>, packed and unpacked), and the
/// all-MiniLM-L6-v2 forward (batch 1) at n = 16 and 128 with the bytes it allocates. Each number is the median of
/// several timed batches. Run: <c>dotnet run -c Release --project bench -- quick [gemm] [forward] [profile] [peak] [pool] [forward-base] [gemm-cold]</c>
/// (no argument: gemm and forward).
/// </summary>
public static class QuickBench
{
    public static void Run(string[] args)
    {
        bool all = args.Length <= 1;
        Console.WriteLine($"vector path {VectorPaths.Active}, {Environment.ProcessorCount} logical cores, load average {MachineInfo.LoadAverage()}");
        if (all || args.Contains("gemm")) Gemms();
        if (all || args.Contains("forward")) Forwards();
        if (args.Contains("profile")) Profile();
        if (args.Contains("forward-base")) Forwards("/tmp/mixlens-peers/bert-base-random", [128]);
        if (args.Contains("gemm-cold")) GemmCold();
        if (args.Contains("pool")) Pool();
        if (args.Contains("peak")) Peak();
        if (args.Contains("vz")) ValueZeroing();
        Console.WriteLine($"load average {MachineInfo.LoadAverage()}");
    }

    static void Gemms()
    {
        const int M = 128;
        Console.WriteLine("GEMM y = x Wᵀ + b, M = 128 (GFLOP/s, median)");
        Console.WriteLine("GFLOP/s = 2·M·N·K / time: median and best wall-clock batch, and per CPU-second (all threads' CPU time)");
        Console.WriteLine($"{"N x K",-10} {"threads",7} {"median",7} {"best",7} {"per-cpu",7}");
        foreach (var (_, k, n) in LinearUnderTest.EncoderShapes)
        {
            var linear = LinearUnderTest.Random(n, k);
            var a = LinearUnderTest.RandomArray(M * k, 7);
            var c = new float[M * n];
            foreach (var (name, gemm) in GemmUnderTest.Variants(linear))
                foreach (int threads in new[] { 1, Environment.ProcessorCount })
                {
                    var t = Time(() => gemm(a, c, M, threads), targetSeconds: 0.25);
                    double flop = 2.0 * M * n * k / 1e9;
                    Console.WriteLine($"{n + "x" + k,-10} {threads,7} {flop / t.Median,7:F1} {flop / t.Min,7:F1} {flop / t.Cpu,7:F1}  {name}");
                }
        }
    }

    /// <summary>
    /// <c>gemm-cold</c>: y = x Wᵀ + b at M = 128 on the BERT-base shapes (d = 768, f = 3072), cycling through 12 different
    /// packed weights per shape (as a forward does: 12 × 9.4 MB for the FFN shapes, more than L3), so B streams from
    /// memory rather than staying in cache as in <see cref="Gemms"/>; 1 thread and all cores.
    /// </summary>
    static void GemmCold()
    {
        const int M = 128, L = 12;
        var rnd = new Random(1);
        foreach (var (n, k) in new[] { (768, 768), (3072, 768), (768, 3072), (2304, 768) })
        {
            var ws = Enumerable.Range(0, L).Select(_ => PackedMatrix.FromTransposed(Random(rnd, n * k), n, k)).ToArray();
            var bias = Random(rnd, n);
            var x = Random(rnd, M * k);
            var y = new float[M * n];
            foreach (int threads in new[] { 1, Environment.ProcessorCount })
            {
                using var _ = GemmUnderTest.Threads(threads);
                for (int round = 0; round < 3; round++)
                {
                    var t = Time(() => { for (int l = 0; l < L; l++) Gemm.MatMul(x, k, ws[l], y, n, M, new GemmEpilogue { Bias = bias }); }, targetSeconds: 0.3);
                    double flop = 2.0 * M * n * k * L / 1e9;
                    Console.WriteLine($"{n}x{k} x{L} cold, threads {threads}: GFLOP/s median {flop / t.Median,6:F1} best {flop / t.Min,6:F1} per-cpu {flop / t.Cpu,6:F1}");
                }
            }
        }
    }

    /// <summary><c>forward</c> (all-MiniLM-L6-v2 at n = 16 and 128); <c>forward-base</c> runs the same on the
    /// BERT-base-shaped model the <c>peers</c> runner creates (/tmp/mixlens-peers/bert-base-random; run peers once first) at n = 128.</summary>
    static void Forwards() => Forwards(SharedPaths.Model("all-MiniLM-L6-v2"), [16, 128]);

    static void Forwards(string path, int[] shapes)
    {
        var loadClock = Stopwatch.StartNew();
        using var model = EncoderModel.Load(path);
        Console.WriteLine($"EncoderModel.Load (config, memory map, tokenizer, weights packed for the GEMM): {loadClock.Elapsed.TotalMilliseconds:F0} ms");
        string text = string.Join(' ', Enumerable.Repeat("the quick brown fox jumps over the lazy dog", 64));
        Console.WriteLine($"Forward {Path.GetFileName(path)}, batch 1: ms per call (median and best wall-clock batch, CPU ms of all threads); bytes allocated per call (all threads)");
        Console.WriteLine($"{"tokens",6} {"threads",7} {"median",8} {"best",8} {"cpu",8} {"allocated",12}");
        foreach (int tokens in shapes)
        {
            var input = EncoderInput.From(model.Tokenizer.Encode(text, maxLength: tokens));
            for (int i = 0; i < 200; i++) model.Encoder.Forward(input);   // every method past tiered compilation
            foreach (int threads in new[] { 1, Environment.ProcessorCount })
            {
                using var _ = GemmUnderTest.Threads(threads);
                for (int i = 0; i < 5; i++) model.Encoder.Forward(input);
                long before = GC.GetTotalAllocatedBytes(true);
                model.Encoder.Forward(input);
                long allocated = GC.GetTotalAllocatedBytes(true) - before;
                var t = Time(() => model.Encoder.Forward(input), targetSeconds: 0.4);
                Console.WriteLine($"{tokens,6} {threads,7} {t.Median * 1e3,8:F2} {t.Min * 1e3,8:F2} {t.Cpu * 1e3,8:F2} {allocated,12:N0}");
            }
        }
    }

    /// <summary>Value Zeroing (the fast path, all layers) on all-MiniLM-L6-v2 at n = 32 and 128, all cores: wall and CPU
    /// seconds of single runs after one warm-up run.</summary>
    static void ValueZeroing()
    {
        using var model = EncoderModel.Load(SharedPaths.Model("all-MiniLM-L6-v2"));
        string text = string.Join(' ', Enumerable.Repeat("the quick brown fox jumps over the lazy dog", 64));
        var process = Process.GetCurrentProcess();
        foreach (int tokens in new[] { 32, 128 })
        {
            var input = EncoderInput.From(model.Tokenizer.Encode(text, maxLength: tokens));
            MixLens.Analysis.MixingMethods.Compute(MixLens.Analysis.MixingMethod.ValueZeroing, model.Encoder, input);
            for (int run = 0; run < 4; run++)
            {
                Parallelism.MaxThreads = run % 2 == 0 ? 0 : 1;   // kernels on all cores, then on the calling thread only
                int threads = Parallelism.MaxThreads;
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                long bytes0 = GC.GetTotalAllocatedBytes(true);
                var clock = Stopwatch.StartNew();
                MixLens.Analysis.MixingMethods.Compute(MixLens.Analysis.MixingMethod.ValueZeroing, model.Encoder, input);
                double wall = clock.Elapsed.TotalSeconds;
                Parallelism.MaxThreads = 0;
                process.Refresh();
                Console.WriteLine($"value zeroing n = {tokens}, kernel threads {threads}: {wall * 1e3:F0} ms wall, {(process.TotalProcessorTime - cpu0).TotalMilliseconds:F0} ms CPU, {(GC.GetTotalAllocatedBytes(true) - bytes0) / 1e6:F1} MB allocated");
            }
        }
    }

    /// <summary>One thread's Vector512 FMA peak, the ceiling the GEMM micro-kernel works against (<see cref="FmaPeak"/>).</summary>
    static void Peak()
    {
        if (!FmaPeak.IsSupported(PeakIsa.Vector512)) { Console.WriteLine("peak: no Vector512"); return; }
        var r = FmaPeak.Measure(PeakIsa.Vector512, 1);
        Console.WriteLine($"peak: 1 thread, Vector512 FMA chains: {r.Median:F1} GFLOP/s median, {r.Best:F1} best, {r.PerCoreCpu:F1} per CPU-second");
    }

    /// <summary>Spinning tasks on <see cref="Parallelism.For"/>: which threads took part, and the wall time against the work.</summary>
    static void Pool()
    {
        var body = new Spinner();
        for (int round = 0; round < 3; round++)
        {
            body.Threads.Clear();
            var clock = Stopwatch.StartNew();
            Parallelism.For(8, body);
            Console.WriteLine($"pool: 8 tasks of 50 ms on {body.Threads.Count} threads took {clock.Elapsed.TotalMilliseconds:F0} ms (MaxThreads {Parallelism.MaxThreads})");
        }
    }

    sealed class Spinner : IParallelBody
    {
        public readonly System.Collections.Concurrent.ConcurrentDictionary<int, int> Threads = new();
        public void Invoke(int index)
        {
            Threads.AddOrUpdate(Environment.CurrentManagedThreadId, 1, (_, v) => v + 1);
            var clock = Stopwatch.StartNew();
            while (clock.ElapsedMilliseconds < 50) { }
        }
    }

    /// <summary>The kernels of one MiniLM layer at T tokens, timed one by one on 1 thread (CPU ms per call).</summary>
    static void Profile()
    {
        foreach (int threads in new[] { 1, Environment.ProcessorCount })
        {
            Parallelism.MaxThreads = threads;
            Profile(threads);
        }
        Parallelism.MaxThreads = 0;
    }

    static void Profile(int threads)
    {
        var rnd = new Random(1);
        const int d = 384, f = 1536;
        foreach (int T in new[] { 16, 128 })
        {
            var x = Random(rnd, T * d);
            var x2 = Random(rnd, T * d);
            var h = Random(rnd, T * f);
            var y = new float[T * f];
            var wd = PackedMatrix.FromTransposed(Random(rnd, d * d), d, d);
            var wIn = PackedMatrix.FromTransposed(Random(rnd, f * d), f, d);
            var wOut = PackedMatrix.FromTransposed(Random(rnd, d * f), d, f);
            var bd = Random(rnd, d);
            var bf = Random(rnd, f);
            var gamma = Random(rnd, d);
            var scores = Random(rnd, 12 * T * T);
            var parts = new (string, Action)[]
            {
                ("4 x Linear d->d (+bias)", () => { for (int i = 0; i < 4; i++) Gemm.MatMul(x, d, wd, y, d, T, new GemmEpilogue { Bias = bd }); }),
                ("Linear d->f +bias+GELU", () => Gemm.MatMul(x, d, wIn, y, f, T, new GemmEpilogue { Bias = bf, Activation = GemmActivation.Gelu })),
                ("Linear d->f +bias", () => Gemm.MatMul(x, d, wIn, y, f, T, new GemmEpilogue { Bias = bf })),
                ("Linear d->f +bias+GELU(tanh)", () => Gemm.MatMul(x, d, wIn, y, f, T, new GemmEpilogue { Bias = bf, Activation = GemmActivation.GeluTanh })),
                ("Linear f->d +bias+residual", () => Gemm.MatMul(h, f, wOut, y, d, T, new GemmEpilogue { Bias = bd, Residual = x, ResidualStride = d })),
                ("2 x LayerNorm", () => { LayerNorm.Forward(x, gamma, bd, 1e-12f, y.AsSpan(0, T * d), T, d); LayerNorm.Forward(x, gamma, bd, 1e-12f, y.AsSpan(0, T * d), T, d); }),
                ("softmax 12 x T x T", () => Softmax.Rows(scores, 12 * T, T)),
                ("12 x (pack K_h, S = Q Kᵀ, pack V_h, A V)", () =>
                {
                    var kp = new float[Gemm.PackedSize(T, 32)];
                    var vp = new float[Gemm.PackedSize(32, T)];
                    for (int hd = 0; hd < 12; hd++)
                    {
                        Gemm.PackTransposed(x.AsSpan(hd * 32), d, T, 32, kp);
                        Gemm.MatMulPacked(x2.AsSpan(hd * 32), d, kp, T, 32, scores, T, T, parallel: false);
                        Gemm.Pack(x.AsSpan(hd * 32), d, T, 32, vp);
                        Gemm.MatMulPacked(scores, T, vp, 32, T, y.AsSpan(hd * 32), d, T, parallel: false);
                    }
                }),
            };
            Console.WriteLine($"one layer's kernels at T = {T}, {threads} thread(s): µs per call, median wall / best wall / CPU (attention and softmax: 1 thread)");
            foreach (var (name, call) in parts)
            {
                var t = Time(call, targetSeconds: 0.3);
                Console.WriteLine($"  {name,-42} {t.Median * 1e6,9:F1} {t.Min * 1e6,9:F1} {t.Cpu * 1e6,9:F1}");
            }
        }
    }

    /// <summary>
    /// Seconds per call over 7 batches of about targetSeconds / 7 each: the median and the minimum of the wall-clock
    /// time, and the process CPU time per call (all threads) of the median batch, which a loaded machine inflates less
    /// (time spent descheduled does not count).
    /// </summary>
    static (double Median, double Min, double Cpu) Time(Action call, double targetSeconds)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < 1.0) call();   // past tiered compilation
        clock.Restart();
        call();
        double once = Math.Max(clock.Elapsed.TotalSeconds, 1e-6);
        int reps = Math.Max(1, (int)(targetSeconds / 7 / once));
        var times = new (double Wall, double Cpu)[7];
        var process = Process.GetCurrentProcess();
        for (int b = 0; b < times.Length; b++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            clock.Restart();
            for (int r = 0; r < reps; r++) call();
            double wall = clock.Elapsed.TotalSeconds / reps;
            process.Refresh();
            times[b] = (wall, (process.TotalProcessorTime - cpu0).TotalSeconds / reps);
        }
        Array.Sort(times);
        return (times[times.Length / 2].Wall, times[0].Wall, times[times.Length / 2].Cpu);
    }

    static float[] Random(Random rnd, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)rnd.NextDouble() - 0.5f;
        return x;
    }
}
