using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using MixLens.Analysis.Methods;
using MixLens.Bench.Common;
using MixLens.Engine;
using MixLens.Engine.Gradients;
using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Bench;

/// <summary>
/// Stopwatch timings of the gradient methods against the plain forward of the same text, interleaved call by call
/// so machine load hits both alike (issue 13's targets are ratios to one forward):
/// <list type="bullet">
/// <item>minilm-l6-sst2 at n = 16, 128, 512, on 1 thread and on all cores: the forward (untraced), the backward to
/// the word embeddings alone (on a taped forward), a whole gradient (taped forward + backward), integrated gradients
/// (50 steps), attention attribution (20 steps, all layers), Chefer.</item>
/// <item>hidden token attribution at n = 12, 20, 32 (all cores), with its floor: the Linear GEMMs of the n·d tangents
/// alone (one batch of tangent rows timed, scaled to all batches).</item>
/// </list>
/// Medians of wall-clock time and of process CPU time (user + system, all threads).
/// Run: <c>dotnet run -c Release --project bench -- gradients [--runs N] [--only vector|backward|hta] [--n 16,128,512]
/// [--threads 1,all]</c> (<c>backward</c>: the forward, the backward and the whole gradient only, seconds instead of
/// minutes at n = 512).
/// </summary>
public static class GradientStopwatch
{
    public static int Run(string[] args)
    {
        int runs = 3;
        int at = Array.IndexOf(args, "--runs");
        if (at >= 0 && at + 1 < args.Length) runs = int.Parse(args[at + 1], CultureInfo.InvariantCulture);
        int only = Array.IndexOf(args, "--only");
        string part = only >= 0 && only + 1 < args.Length ? args[only + 1] : "all";
        Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores; .NET {Environment.Version}; " +
                          $"ISA path {VectorPaths.Active}; Vector512 {(Vector512.IsHardwareAccelerated ? "on" : "off")}; " +
                          $"load average {MachineInfo.LoadAverage()}");
        using var model = EncoderModel.Load(SharedPaths.Model("minilm-l6-sst2"));
        int[] lengths = Option(args, "--n") is { } nList ? nList.Split(',').Select(int.Parse).ToArray() : [16, 128, 512];
        int[] threadCounts = Option(args, "--threads") is { } tList
            ? tList.Split(',').Select(t => t == "all" ? Environment.ProcessorCount : int.Parse(t, CultureInfo.InvariantCulture)).ToArray()
            : [1, Environment.ProcessorCount];
        if (part is "all" or "vector" or "backward") Methods(model, runs, lengths, threadCounts, backwardOnly: part == "backward");
        if (part is "all" or "hta") Hta(model, runs);
        Console.WriteLine($"load average at the end {MachineInfo.LoadAverage()}");
        return 0;
    }

    static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    static void Methods(EncoderModel model, int runs, int[] lengths, int[] threadCounts, bool backwardOnly)
    {
        var encoder = model.Encoder;
        var head = model.RequireClassifier();
        Console.WriteLine("| threads | n | step | runs | median wall | median CPU | wall / forward | CPU / forward |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (int threads in threadCounts)
        {
            Parallelism.MaxThreads = threads;
            foreach (int n in lengths)
            {
                var encoding = Encoding(model, n);
                var input = EncoderInput.From(encoding);
                var special = encoding.SpecialTokensMask.Select(m => m != 0).ToArray();
                var taped = EncoderGradients.Forward(encoder, [new GradientInput(input)]);
                var seed = ClassifierGradient.OfLogit(head, taped.LastHiddenState(0), 1);
                int heavyRuns = n >= 512 ? 1 : runs;
                var steps = new (string Name, Action Call, int Runs)[]
                {
                    ("forward", () => encoder.Forward(input), runs),
                    ("backward to the word embeddings (taped forward given)", () => EncoderGradients.Backward(taped, [seed]), runs),
                    ("gradient: taped forward + backward", () => ClassifierGradient.OfWordEmbeddings(encoder, head, input, 1), runs),
                    ("chefer", () => Chefer.Compute(encoder, head, input, 1), runs),
                    ("integrated-gradients, 50 steps", () => IntegratedGradients.Compute(encoder, head, input, special, model.Config.PadTokenId, 1), heavyRuns),
                    ("attattr, 20 steps, all layers", () => AttentionAttribution.ComputeHeads(encoder, head, input, 1), heavyRuns),
                };
                if (backwardOnly) steps = steps[..3];
                foreach (var s in steps) s.Call();                                  // warm-up
                var wall = steps.Select(_ => new List<double>()).ToArray();
                var cpu = steps.Select(_ => new List<double>()).ToArray();
                for (int r = 0; r < runs; r++)
                    for (int k = 0; k < steps.Length; k++)
                    {
                        if (r >= steps[k].Runs) continue;
                        var (w, c) = Time(steps[k].Call);
                        wall[k].Add(w);
                        cpu[k].Add(c);
                    }
                double fw = Stats.Median(wall[0]), fc = Stats.Median(cpu[0]);
                for (int k = 0; k < steps.Length; k++)
                    Console.WriteLine($"| {threads} | {n} | {steps[k].Name} | {wall[k].Count} | {Format(Stats.Median(wall[k]))} | {Format(Stats.Median(cpu[k]))} | " +
                                      $"{Stats.Median(wall[k]) / fw:0.0}x | {Stats.Median(cpu[k]) / fc:0.0}x |");
            }
        }
        Parallelism.MaxThreads = 0;
    }

    static void Hta(EncoderModel model, int runs)
    {
        var encoder = model.Encoder;
        var c = model.Config;
        int d = c.HiddenSize, f = c.IntermediateSize;
        Console.WriteLine("| n | tangents n·d | runs | HTA median wall | HTA median CPU | floor: Linear GEMMs of the tangents, wall | HTA / floor (wall) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (int n in new[] { 12, 20, 32 })
        {
            var input = EncoderInput.From(Encoding(model, n));
            HiddenTokenAttribution.Compute(encoder, input);                          // warm-up
            var floor = LinearFloor(encoder, n);
            floor();
            List<double> wall = [], cpu = [], floorWall = [];
            int count = n >= 32 ? 1 : runs;
            for (int r = 0; r < count; r++)
            {
                var (w, cp) = Time(() => HiddenTokenAttribution.Compute(encoder, input));
                wall.Add(w); cpu.Add(cp);
                floorWall.Add(Time(() => floor()).Wall);
            }
            Console.WriteLine($"| {n} | {n * d} | {count} | {Format(Stats.Median(wall))} | {Format(Stats.Median(cpu))} | {Format(Stats.Median(floorWall))} | {Stats.Median(wall) / Stats.Median(floorWall):0.00}x |");
        }
    }

    /// <summary>
    /// The Linear products every exact HTA must do: the n·d tangents of n rows each through W_Q, W_K, W_V, W_O, W_in and
    /// W_out of every layer (2·n²·d·(4d² + 2d·f)·L flops). Times one batch of 4096 tangent rows (the batch the method
    /// uses) on arbitrary values and scales it to all n²·d rows.
    /// </summary>
    static Action LinearFloor(BertEncoder encoder, int n)
    {
        var c = encoder.Config;
        int d = c.HiddenSize, f = c.IntermediateSize, rows = Math.Max(1, 4096 / n) * n;
        double batches = (double)n * d * n / rows;
        var packed = encoder.Weights.Layers.Select(w => new[]
        {
            PackedMatrix.FromTransposed(w.QueryWeight.Span, d, d), PackedMatrix.FromTransposed(w.KeyWeight.Span, d, d),
            PackedMatrix.FromTransposed(w.ValueWeight.Span, d, d), PackedMatrix.FromTransposed(w.AttentionOutputWeight.Span, d, d),
            PackedMatrix.FromTransposed(w.IntermediateWeight.Span, f, d), PackedMatrix.FromTransposed(w.OutputWeight.Span, d, f),
        }).ToArray();
        var random = new Random(3);
        var x = Enumerable.Range(0, rows * f).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var y = new float[rows * f];
        return () =>
        {
            int whole = (int)Math.Floor(batches);
            double part = batches - whole;
            // whole batches, then a last partial one of the right size
            for (int b = 0; b <= whole; b++)
            {
                int m = b < whole ? rows : (int)Math.Round(part * rows);
                if (m == 0) continue;
                foreach (var layer in packed)
                    foreach (var w in layer) Gemm.MatMul(x.AsSpan(0, m * w.K), w.K, w, y.AsSpan(0, m * w.N), w.N, m);
            }
        };
    }

    static Engine.Tokenization.Encoding Encoding(EncoderModel model, int tokens)
    {
        string text = string.Join(' ', Enumerable.Repeat("the film is a charming and often affecting journey , though its pacing drags", 60));
        var encoding = model.Tokenizer.Encode(text, maxLength: tokens);
        if (encoding.Length != tokens) throw new InvalidOperationException($"the text gave {encoding.Length} tokens, not {tokens}");
        return encoding;
    }

    static (double Wall, double Cpu) Time(Action action)
    {
        double cpuStart = CpuClock.ProcessSeconds();
        var clock = Stopwatch.StartNew();
        action();
        return (clock.Elapsed.TotalSeconds, CpuClock.ProcessSeconds() - cpuStart);
    }

    static string Format(double seconds) => seconds >= 1
        ? seconds.ToString("0.00", CultureInfo.InvariantCulture) + " s"
        : (seconds * 1000).ToString("0.00", CultureInfo.InvariantCulture) + " ms";
}
