using MixLens.Engine.Gradients;
using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Analysis.Cost;

/// <summary>The method options that change a request's cost.</summary>
/// <param name="FlowAllLayers">flow: every layer (true) or only the last one.</param>
/// <param name="Rows">flow, value-zeroing: the number of output rows computed per layer (null: all n).</param>
/// <param name="Steps">integrated-gradients, attattr: the steps (null: their defaults).</param>
public sealed record CostOptions(bool FlowAllLayers = true, int? Rows = null, int? Steps = null);

/// <summary>
/// The cost of the context-mixing methods on one text, before running them: work and peak memory from the shapes
/// (n tokens, L layers, d hidden, f FFN width, H heads) and the method's options, turned into seconds with this
/// machine's measured GEMM speed (<see cref="GemmSpeed"/>) and a per-method efficiency (the fraction of that speed the
/// method reaches, measured on all-MiniLM-L6-v2; docs/robustness.md lists estimate against measurement).
/// <code>
/// forward     F(n)  = 2·L·(n·(4d² + 2d·f) + 2n²·d)                       Q, K, V, O, both FFN matrices, QKᵀ and AV
/// flow        Σ_{l} r·n·((l−1)·n² + 2n)·P edge visits + r·n problems     r rows per layer, n sinks, P ≈ 3 Dinic phases
/// value-zero  L·2·(n_r·n·(d·f + (H+1)·f + H·d) + n·d² + n·H·d·f + 2n·d·f) + GELU increments n_r·n·f
/// hta         n·d tangents × F(n) (forward mode: each tangent costs a forward's GEMMs, attention twice)
/// int. grads  (3m + 2)·F(n)                                               m forwards + m backwards (2 F each) + 2
/// attattr     m·(L + 1)/2·3·F(n) + 2F(n)                                   layers l..L−1 forward and back, per l
/// </code>
/// The numbers are estimates: the flow's phase count depends on the attention, the garbage a method leaves on the
/// heap depends on when the collector runs. They are meant to be right within a factor of about two, enough to tell
/// seconds from hours and to refuse what cannot finish.
/// </summary>
public static class CostModel
{
    // Fractions of the calibration GEMM's speed the methods reach, fitted to CPU time on all-MiniLM-L6-v2 and
    // minilm-l6-sst2 (docs/robustness.md, "Heavy requests", lists the runs).
    const double ForwardEfficiency = 0.55;
    const double ValueZeroingEfficiency = 0.45;
    const double TangentEfficiency = 0.75;
    const double IntegratedGradientsEfficiency = 0.85;
    const double GradientEfficiency = 0.55;
    const double VectorNormEfficiency = 0.25;
    /// <summary>GEMM-equivalent operations per residual-edge visit of the max-flow searches (a visit is a few loads,
    /// a compare and a branch, not a multiply-add; about 1 ns on the 2-core development machine).</summary>
    const double FlowOperationsPerVisit = 52;
    /// <summary>GEMM-equivalent operations of each (layer, output row, input token) max-flow problem beyond its edge
    /// visits: resetting the flows, the level arrays, the phases that push little (about 100 µs).</summary>
    const double FlowOperationsPerProblem = 5.5e6;
    /// <summary>Dinic phases per (source, sink) pair, typical of attention graphs.</summary>
    const double FlowPhases = 3;
    /// <summary>Work floor per request (JIT, thread start, small loops): 20 ms of GEMM work is not worth estimating below.</summary>
    const double FloorSeconds = 0.02;

    /// <summary>The cost of <paramref name="method"/> on one text of <paramref name="n"/> tokens, the forward pass it
    /// needs included.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> &lt; 1, or a row count outside 1..n.</exception>
    public static CostEstimate Estimate(MixingMethod method, EncoderConfig config, int n, CostOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        options ??= new CostOptions();
        if (options.Rows is int r && (r < 1 || r > n))
            throw new ArgumentOutOfRangeException(nameof(options), r, $"rows must be 1..{n}");
        double rate = GemmSpeed.FlopsPerSecond;
        var s = new Shapes(config, n);
        string what = $"{MixingMethods.NameOf(method)} on {n} tokens";
        long threads = Parallelism.MaxThreads;
        double forward = s.ForwardOperations;
        long forwardBytes = s.ForwardWorkspaceBytes;
        long result = 4L * s.L * n * n;

        (double Operations, long Bytes, double Efficiency) cost = method switch
        {
            MixingMethod.Attention => (forward + 2.0 * s.L * s.H * n * n, s.ProbsTraceBytes + forwardBytes + result, ForwardEfficiency),
            MixingMethod.Rollout => (forward + 2.0 * s.L * n * n * n, s.ProbsTraceBytes + forwardBytes + 3 * result, ForwardEfficiency),
            MixingMethod.AttentionNorm or MixingMethod.Alti or MixingMethod.AltiRollout or MixingMethod.GlobEnc
                or MixingMethod.GlobEncRollout or MixingMethod.AttentionNormResLn =>
                (forward + 2.0 * s.L * (n * s.D2 + (double)n * n * s.H * s.D),
                    s.FullTraceBytes + forwardBytes + 4L * s.H * n * s.D + threads * 4L * n * (s.H + s.D) + 2 * result,
                    VectorNormEfficiency),
            MixingMethod.Flow => Flow(s, options, threads),
            MixingMethod.ValueZeroing or MixingMethod.ValueZeroingRollout => ValueZeroing(s, options, threads),
            MixingMethod.Hta => ((double)n * s.D * forward * 1.5,
                forwardBytes + 4096L * 4 * (7 * s.D + s.F) * 7 / 2 + 8L * s.L * n * n + result, TangentEfficiency),
            MixingMethod.IntegratedGradients => Gradient(s, 3.0 * (options.Steps ?? Methods.IntegratedGradients.DefaultSteps) + 2,
                options.Steps ?? Methods.IntegratedGradients.DefaultSteps, IntegratedGradientsEfficiency),
            // attattr: a batch of copies per layer, and the collector lets about half the layers' batches pile up
            MixingMethod.AttAttr => Gradient(s, (options.Steps ?? Methods.AttentionAttribution.DefaultSteps) * (s.L + 1) / 2.0 * 3 + 2,
                options.Steps ?? Methods.AttentionAttribution.DefaultSteps, GradientEfficiency, batches: s.L / 2 + 1,
                extraBytes: 4L * s.L * s.H * n * n + 8L * s.H * n * n),
            MixingMethod.Saliency or MixingMethod.GradientXInput or MixingMethod.Chefer => Gradient(s, 4, 1, GradientEfficiency),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };
        double seconds = Math.Max(FloorSeconds, cost.Operations / (rate * cost.Efficiency));
        return new CostEstimate(what, cost.Operations, cost.Bytes, seconds);
    }

    /// <summary>
    /// The cost of one sentence of <c>evaluate</c>: the traced forward, each method (flow and hta only up to their
    /// token limits; flow only the [CLS] row of the last layer, as evaluate reads), the blank-out forwards (one per
    /// non-special token) and the AOPC and ERASER forwards (up to 25 masked copies per method).
    /// </summary>
    public static CostEstimate EvaluateSentence(IReadOnlyList<MixingMethod> methods, EncoderConfig config, int n,
        int flowMaxTokens, int htaMaxTokens, int? steps = null)
    {
        var s = new Shapes(config, n);
        double rate = GemmSpeed.FlopsPerSecond;
        double forwardSeconds = s.ForwardOperations / (rate * ForwardEfficiency);
        int copies = Math.Max(0, n - 2) + 25 * methods.Count;
        var total = new CostEstimate($"evaluate on {n} tokens", s.ForwardOperations * (1 + copies), s.FullTraceBytes * 2 + s.ForwardWorkspaceBytes,
            forwardSeconds * (1 + copies));
        foreach (var m in methods)
        {
            if ((m == MixingMethod.Flow && n > flowMaxTokens) || (m == MixingMethod.Hta && n > htaMaxTokens)) continue;
            var one = Estimate(m, config, n, new CostOptions(FlowAllLayers: false, Rows: m == MixingMethod.Flow ? 1 : null, Steps: steps));
            total = total with
            {
                Operations = total.Operations + one.Operations,
                PeakBytes = Math.Max(total.PeakBytes, one.PeakBytes + s.FullTraceBytes),
                Seconds = total.Seconds + one.Seconds,
            };
        }
        return total;
    }

    /// <summary>The cost of several methods on one text, one after the other (the view, a corpus line).</summary>
    public static CostEstimate Several(IReadOnlyList<MixingMethod> methods, EncoderConfig config, int n, CostOptions? options = null)
    {
        var total = CostEstimate.None($"{methods.Count} methods on {n} tokens");
        foreach (var m in methods)
        {
            var one = Estimate(m, config, n, options);
            total = total with
            {
                Operations = total.Operations + one.Operations,
                PeakBytes = Math.Max(total.PeakBytes, one.PeakBytes),
                Seconds = total.Seconds + one.Seconds,
            };
        }
        return methods.Count == 1 ? total with { What = Estimate(methods[0], config, n, options).What } : total;
    }

    /// <summary>The longest text (at most <paramref name="limit"/> tokens) whose cost stays within the budget, or 0
    /// when not even one token fits.</summary>
    public static int LongestWithin(Func<int, CostEstimate> estimate, int limit, double maxSeconds, long maxBytes)
    {
        bool Fits(int n) { var e = estimate(n); return e.Seconds <= maxSeconds && e.PeakBytes <= maxBytes; }
        if (limit < 1 || !Fits(1)) return 0;
        int lo = 1, hi = limit;
        if (Fits(hi)) return hi;
        while (hi - lo > 1)
        {
            int mid = lo + (hi - lo) / 2;
            if (Fits(mid)) lo = mid; else hi = mid;
        }
        return lo;
    }

    static (double, long, double) Flow(Shapes s, CostOptions options, long threads)
    {
        int n = s.N, rows = options.Rows ?? n;
        int first = options.FlowAllLayers ? 1 : s.L;
        double visits = 0, problems = 0;
        for (int l = first; l <= s.L; l++)
        {
            visits += (double)rows * n * ((l - 1.0) * n * n + 2.0 * n) * (l == 1 ? 1 : FlowPhases);
            if (l > 1) problems += (double)rows * n;
        }
        long capacity = 8L * s.L * n * n;
        long bytes = s.ProbsTraceBytes + s.ForwardWorkspaceBytes + capacity + 4L * s.L * n * n * 2
            + Math.Min(threads, (long)rows * (s.L - first + 1)) * (capacity + 32L * (s.L + 1) * n);
        return (s.ForwardOperations + visits * FlowOperationsPerVisit + problems * FlowOperationsPerProblem, bytes, 1.0);
    }

    static (double, long, double) ValueZeroing(Shapes s, CostOptions options, long threads)
    {
        double n = s.N, rows = options.Rows ?? s.N, d = s.D, f = s.F, h = s.H;
        const double GeluIncrementOperations = 24;   // erf-GELU difference per element, in multiply-add equivalents
        double perLayer = 2 * (rows * n * (d * f + (h + 1) * f + h * d) + n * d * d + n * h * d * f + 2 * n * d * f)
            + rows * n * f * GeluIncrementOperations;
        long nl = s.N;
        // per layer: ũ and γ₁ũ [n·H, d], w [n·H, f], c, γ₁c [n, d], q, z, Φ(z) [n, f], Y wide [n, d] f64, distances f64,
        // W_in and W_out packed, per-thread pair buffers; a layer's arrays are garbage after it, and the collector
        // often lets all L layers' garbage pile up before it runs.
        long layerBytes = 4L * nl * s.H * s.D * 2 + 4L * nl * s.H * s.F + 4L * nl * s.D * 2 + 4L * nl * s.F * 3 + 8L * nl * s.D
            + 8L * nl * nl + 4L * 2 * s.D * s.F + threads * 4L * 64 * (s.H + 2 * s.D + 2 * s.F);
        long bytes = s.ValueZeroingTraceBytes + s.ForwardWorkspaceBytes + s.L * layerBytes + 4L * s.L * nl * nl;
        return (s.ForwardOperations + s.L * perLayer, bytes, ValueZeroingEfficiency);
    }

    static (double, long, double) Gradient(Shapes s, double forwards, int steps, double efficiency, int batches = 1, long extraBytes = 0)
    {
        int copies = Math.Min(steps, EncoderGradients.CopiesPerBatch(s.Config, s.N));
        long tape = EncoderGradients.TapeBytes(s.Config, s.N) * copies;
        return (forwards * s.ForwardOperations, batches * 2 * tape + s.ForwardWorkspaceBytes * copies + extraBytes, efficiency);
    }

    /// <summary>The shapes of one request and the sizes derived from them.</summary>
    readonly struct Shapes(EncoderConfig config, int n)
    {
        public EncoderConfig Config { get; } = config;
        public int N { get; } = n;
        public int L { get; } = config.NumHiddenLayers;
        public int D { get; } = config.HiddenSize;
        public int F { get; } = config.IntermediateSize;
        public int H { get; } = config.NumAttentionHeads;
        public double D2 => (double)D * D;

        /// <summary>F(n) = 2·L·(n·(4d² + 2d·f) + 2n²·d).</summary>
        public double ForwardOperations => 2.0 * L * (N * (4 * D2 + 2.0 * D * F) + 2.0 * N * N * D);
        /// <summary>A forward's pooled activations: 11·d + f floats per token, and the scores [H, n, n].</summary>
        public long ForwardWorkspaceBytes => 4L * N * (11 * D + F) + 8L * H * N * N;
        public long ProbsTraceBytes => 4L * L * H * N * N;
        public long ValueZeroingTraceBytes => 4L * L * ((long)H * N * N + 6L * N * D);
        public long FullTraceBytes => 4L * L * (2L * H * N * N + 12L * N * D + 2L * N * F);
    }
}
