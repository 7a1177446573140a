using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using MixLens.Analysis.Methods;
using MixLens.Bench.Common;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Engine;
using MixLens.Kernels;

namespace MixLens.Bench;

/// <summary>
/// Side-by-side Stopwatch timings of the analyses whose single calls take seconds to minutes, where BenchmarkDotNet's
/// warm-up and iteration counts would take far too long: exact attention flow (last layer at n = 64, 128, 256; all
/// layers and all pairs at n = 20 and 32) and Value Zeroing's fast path against the literal re-run at n = 128 (the
/// two alternate, so a change of machine load hits both). One untimed warm-up call each, then the median of the
/// timed calls: wall-clock time, and the CPU time the process used during the call (user + system, all threads),
/// which is the steadier of the two on a machine shared with other work.
/// Run: <c>dotnet run -c Release --project bench -- stopwatch [flow|vz|all] [--runs N]</c>
/// </summary>
public static class StopwatchRunner
{
    public static int Run(string[] args)
    {
        string what = args.Length > 0 && !args[0].StartsWith("--") ? args[0] : "all";
        int runs = 3;
        int at = Array.IndexOf(args, "--runs");
        if (at >= 0 && at + 1 < args.Length) runs = int.Parse(args[at + 1], CultureInfo.InvariantCulture);
        Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores; .NET {Environment.Version}; " +
                          $"Vector512 {(Vector512.IsHardwareAccelerated ? "on" : "off")}, Vector256 {(Vector256.IsHardwareAccelerated ? "on" : "off")}; " +
                          $"load average {MachineInfo.LoadAverage()}");
        using var model = EncoderModel.Load(SharedPaths.Model("all-MiniLM-L6-v2"));
        if (what is "flow" or "all") Flow(model, runs);
        if (what is "vz" or "all") ValueZeroingSideBySide(model, runs);
        Console.WriteLine($"load average at the end {MachineInfo.LoadAverage()}");
        return 0;
    }

    static void Flow(EncoderModel model, int runs)
    {
        Console.WriteLine("| case | tokens | runs | median wall | min wall | median CPU |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (tokens, allLayers) in new[] { (20, true), (32, true), (64, false), (128, false), (256, false) })
        {
            var headMean = HeadMean(model, tokens);
            int count = tokens >= 256 ? 1 : runs;   // one call at n = 256 takes minutes
            var cpu = new List<double>();
            var times = Time(() => AttentionFlow.Compute(headMean, allLayers), count, warmUp: tokens < 256, cpu);
            Console.WriteLine($"| flow, {(allLayers ? "all layers, all pairs" : "last layer")} | {tokens} | {count} | {Format(Stats.Median(times))} | {Format(times.Min())} | {Format(Stats.Median(cpu))} |");
        }
    }

    static void ValueZeroingSideBySide(EncoderModel model, int runs)
    {
        const int tokens = 128;
        var input = Input(model, tokens);
        var trace = model.Encoder.Forward(input, ValueZeroing.Requirements).Trace;
        ValueZeroing.Compute(model.Encoder, input, trace: trace);            // warm-up
        ValueZeroing.ComputeByRerun(model.Encoder, input, hiddenStates: trace);
        var outputGemm = OutputGemmAlone(model.Encoder, tokens);
        outputGemm();                                                         // warm-up
        List<double> fast = [], rerun = [], bound = [], fastCpu = [], rerunCpu = [], boundCpu = [];
        for (int r = 0; r < runs; r++)
        {
            fast.AddRange(Time(() => ValueZeroing.Compute(model.Encoder, input, trace: trace), 1, warmUp: false, fastCpu));
            rerun.AddRange(Time(() => ValueZeroing.ComputeByRerun(model.Encoder, input, hiddenStates: trace), 1, warmUp: false, rerunCpu));
            bound.AddRange(Time(outputGemm, 1, warmUp: false, boundCpu));
        }
        Console.WriteLine("| Value Zeroing, all 6 layers | tokens | runs | median wall | min wall | median CPU |");
        Console.WriteLine("|---|---|---|---|---|---|");
        Console.WriteLine($"| fast path (`ValueZeroing.Compute`) | {tokens} | {runs} | {Format(Stats.Median(fast))} | {Format(fast.Min())} | {Format(Stats.Median(fastCpu))} |");
        Console.WriteLine($"| re-run (`ValueZeroing.ComputeByRerun`) | {tokens} | {runs} | {Format(Stats.Median(rerun))} | {Format(rerun.Min())} | {Format(Stats.Median(rerunCpu))} |");
        Console.WriteLine($"| W_out GEMM of the n² pair rows alone (no exact method can skip it) | {tokens} | {runs} | {Format(Stats.Median(bound))} | {Format(bound.Min())} | {Format(Stats.Median(boundCpu))} |");
        Console.WriteLine($"speed-up (re-run / fast path): median wall {Stats.Median(rerun) / Stats.Median(fast):0.0}x, min wall {rerun.Min() / fast.Min():0.0}x, median CPU {Stats.Median(rerunCpu) / Stats.Median(fastCpu):0.0}x");
        Console.WriteLine($"ceiling (re-run / W_out GEMM alone): median wall {Stats.Median(rerun) / Stats.Median(bound):0.0}x, median CPU {Stats.Median(rerunCpu) / Stats.Median(boundCpu):0.0}x; " +
                          $"fast path / W_out GEMM alone: median CPU {Stats.Median(fastCpu) / Stats.Median(boundCpu):0.00}x");
    }

    /// <summary>
    /// The one product an exact Value Zeroing needs for every (i, j) pair: ΔG_ij [f] through W_out, i.e. an
    /// [n², f] × [f, d] GEMM per layer on the packed kernel the fast path uses (GELU sits between W_in and W_out, so
    /// ΔG_ij differs for every pair; LayerNorm 2 and the cosine need the whole ΔF_ij). Timing it alone gives the
    /// ceiling of any exact fast path's speed-up over the re-run on this machine. The ΔG rows are arbitrary values.
    /// </summary>
    static Func<Tensor> OutputGemmAlone(BertEncoder encoder, int tokens)
    {
        var config = encoder.Config;
        int pairs = tokens * tokens, f = config.IntermediateSize, d = config.HiddenSize;
        var outputWeights = encoder.Weights.Layers.Select(w => PackedMatrix.FromTransposed(w.OutputWeight.Span, d, f)).ToArray();
        var deltaG = new float[pairs * f];
        var random = new Random(7);
        for (int k = 0; k < deltaG.Length; k++) deltaG[k] = (float)(random.NextDouble() - 0.5) * 1e-3f;
        var deltaF = Tensor.Zeros(pairs, d);
        return () =>
        {
            foreach (var w in outputWeights) Gemm.MatMul(deltaG, f, w, deltaF.Data, d, pairs);
            return deltaF;
        };
    }

    static Tensor HeadMean(EncoderModel model, int tokens)
    {
        var trace = model.Encoder.Forward(Input(model, tokens), AttentionFlow.Requirements).Trace;
        return RawAttention.HeadMean(trace, model.Encoder.Config.NumHiddenLayers);
    }

    /// <summary>An English text cut to exactly <paramref name="tokens"/> tokens ([CLS] … [SEP]).</summary>
    static EncoderInput Input(EncoderModel model, int tokens)
    {
        string text = string.Join(' ', Enumerable.Repeat("the quick brown fox jumps over the lazy dog while a cat watches", 60));
        var input = EncoderInput.From(model.Tokenizer.Encode(text, maxLength: tokens));
        if (input.Length != tokens) throw new InvalidOperationException($"the text gave {input.Length} tokens, not {tokens}");
        return input;
    }

    static List<double> Time(Func<Tensor> action, int count, bool warmUp, List<double>? cpu = null)
    {
        if (warmUp) action();
        var times = new List<double>();
        for (int r = 0; r < count; r++)
        {
            double cpuStart = CpuClock.ProcessSeconds();
            var clock = Stopwatch.StartNew();
            GC.KeepAlive(action());
            times.Add(clock.Elapsed.TotalSeconds);
            cpu?.Add(CpuClock.ProcessSeconds() - cpuStart);
        }
        return times;
    }

    static string Format(double seconds) => seconds >= 1
        ? seconds.ToString("0.00", CultureInfo.InvariantCulture) + " s"
        : (seconds * 1000).ToString("0.0", CultureInfo.InvariantCulture) + " ms";
}
