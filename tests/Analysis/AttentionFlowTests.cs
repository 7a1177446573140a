using System.Diagnostics;
using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Tests.Encoder;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Analysis;

/// <summary>
/// Attention flow (<see cref="AttentionFlow"/>, Abnar &amp; Zuidema 2020) and its max-flow solver (<see cref="FlowGraph"/>):
/// the fixtures' <c>analysis.flow</c>, hand-worked examples, and a brute-force min-cut check.
/// </summary>
public class AttentionFlowTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> CasesWithFlow() => ModelFixtures.EncoderFixtureModels.SelectMany(m =>
        ModelFixtures.Load(m).Cases.Where(c => c.HasFlow).Select(c => new object[] { m, c.Id }));

    // ---- fixtures -------------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(CasesWithFlow))]
    public void AttentionFlow_FixtureCase_MatchesReference(string model, string caseId)
    {
        var fixtures = ModelFixtures.Load(model);
        var c = fixtures.Case(caseId);
        var encoder = ModelFixtures.Encoder(model);
        var input = new EncoderInput(c.InputIds, c.TokenTypeIds);
        var headMean = RawAttention.HeadMean(encoder.Forward(input, AttentionFlow.Requirements).Trace, fixtures.Layers);
        var clock = Stopwatch.StartNew();
        var actual = AttentionFlow.Compute(headMean);
        clock.Stop();
        Assert.Equal(new[] { fixtures.Layers, c.NTokens, c.NTokens }, actual.Shape);
        var reference = fixtures.Open(c).GetFloat32("analysis.flow").Span;
        output.WriteLine($"{model}/{caseId} (n = {c.NTokens}, L = {fixtures.Layers}) analysis.flow: max |diff| " +
                         $"{Compare.MaxAbsDiff(reference, actual.Data):G3}, flow {clock.Elapsed.TotalMilliseconds:F1} ms");
        Compare.AllClose($"{model}/{caseId} analysis.flow", reference, actual.Data, actual.Shape,
            EncoderParityTests.ToleranceFor(fixtures, "analysis.flow"));
    }

    [Fact]
    public void AttentionFlow_LastLayerOnly_MatchesAllLayersAndLeavesOthersZero()
    {
        var fixtures = ModelFixtures.Load("all-MiniLM-L6-v2");
        var c = fixtures.Case("fox");
        var encoder = ModelFixtures.Encoder("all-MiniLM-L6-v2");
        var input = new EncoderInput(c.InputIds, c.TokenTypeIds);
        var all = AttentionFlow.Compute(encoder, input);
        var last = AttentionFlow.Compute(encoder, input, allLayers: false);
        int L = fixtures.Layers, nn = c.NTokens * c.NTokens;
        Assert.Equal(all.Shape, last.Shape);
        Assert.All(last.Data.AsSpan(0, (L - 1) * nn).ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(all.Data.AsSpan((L - 1) * nn, nn).ToArray(), last.Data.AsSpan((L - 1) * nn, nn).ToArray());
    }

    [Fact]
    public void AttentionFlow_WordpieceCase_TimingIsReported()
    {
        // The 24-token MiniLM case, the largest with a reference (64 tokens: bench/Analysis/AttentionFlowBenchmarks.cs).
        var encoder = ModelFixtures.Encoder("all-MiniLM-L6-v2");
        var c = ModelFixtures.Load("all-MiniLM-L6-v2").Case("wordpiece");
        var input = new EncoderInput(c.InputIds, c.TokenTypeIds);
        var headMean = RawAttention.HeadMean(encoder.Forward(input, AttentionFlow.Requirements).Trace, 6);
        AttentionFlow.Compute(headMean); // warm-up
        var clock = Stopwatch.StartNew();
        var flow = AttentionFlow.Compute(headMean);
        output.WriteLine($"attention flow, n = {c.NTokens}, L = 6: {clock.Elapsed.TotalMilliseconds:F1} ms " +
                         $"({Environment.ProcessorCount} threads)");
        Assert.Equal(new[] { 6, c.NTokens, c.NTokens }, flow.Shape);

        AssertRowsSumToOne(flow);
    }

    // ---- hand-worked ----------------------------------------------------------------------------------------------

    [Fact]
    public void AttentionFlow_TwoLayersTwoTokens_MatchesHandSolution()
    {
        // Ā_1 = [[1, 0], [0.5, 0.5]] → Ã_1 = [[1, 0], [0.25, 0.75]];  Ā_2 = [[1, 0], [0.2, 0.8]] → Ã_2 = [[1, 0], [0.1, 0.9]].
        var a = new Tensor([1f, 0f, 0.5f, 0.5f, 1f, 0f, 0.2f, 0.8f], 2, 2, 2);
        var flow = AttentionFlow.Compute(a);
        // Layer 1: one edge per pair, rows of Ã_1 already sum to 1.
        // Layer 2, source (2,1): to (0,0) min(0.1, 1) + min(0.9, 0.25) = 0.35; to (0,1) min(0.1, 0) + min(0.9, 0.75) = 0.75;
        // row sum 1.1. Source (2,0) reaches (1,0) only: [1, 0]. (Rollout would give Ã_2 Ã_1 [1] = [0.325, 0.675].)
        double[] expected = [1, 0, 0.25, 0.75, 1, 0, 0.35 / 1.1, 0.75 / 1.1];
        for (int e = 0; e < expected.Length; e++) Assert.Equal(expected[e], flow.Data[e], 6);
    }

    [Fact]
    public void AttentionFlow_SymmetricMixingLayer_DiffersFromRollout()
    {
        // Ā_1 = [[1, 0], [0.5, 0.5]] → Ã_1 = [[1, 0], [0.25, 0.75]];  Ā_2 = [[0, 1], [1, 0]] → Ã_2 = 0.5 everywhere.
        // Source (2, i): to (0,0) min(0.5, 1) + min(0.5, 0.25) = 0.75; to (0,1) 0 + min(0.5, 0.75) = 0.5 → [0.6, 0.4];
        // rollout gives [0.625, 0.375].
        var flow = AttentionFlow.Compute(new Tensor([1f, 0f, 0.5f, 0.5f, 0f, 1f, 1f, 0f], 2, 2, 2));
        var rollout = Rollout.Compute(new Tensor([1f, 0f, 0.5f, 0.5f, 0f, 1f, 1f, 0f], 2, 2, 2), addIdentity: true);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(0.6, flow[1, i, 0], 6);
            Assert.Equal(0.4, flow[1, i, 1], 6);
            Assert.Equal(0.625, rollout[1, i, 0], 6);
        }
    }

    [Fact]
    public void AttentionFlow_ZeroAttention_GivesIdentity()
    {
        // Ā = 0 → Ã = I: each token only reaches itself.
        var flow = AttentionFlow.Compute(Tensor.Zeros(3, 4, 4));
        for (int l = 0; l < 3; l++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    Assert.Equal(i == j ? 1f : 0f, flow[l, i, j]);
    }

    [Theory]
    [InlineData(1, 1, 3)]
    [InlineData(2, 3, 11)]
    [InlineData(3, 3, 12)]
    [InlineData(3, 4, 13)]
    [InlineData(4, 3, 14)]
    public void AttentionFlow_RandomAttention_MatchesBruteForceMinCut(int layers, int n, int seed)
    {
        // Max-flow = min-cut (Ford–Fulkerson): enumerate every s–t cut of the full layered graph, layer-0 tokens
        // included, and compare with the solver — an independent check of both the graph and the solver.
        var random = new Random(seed);
        var a = Tensor.Zeros(layers, n, n);
        for (int e = 0; e < a.Length; e++) a.Data[e] = random.Next(4) == 0 ? 0f : (float)random.NextDouble();
        var flow = AttentionFlow.Compute(a);
        var cap = new double[layers, n, n];
        for (int k = 0; k < layers; k++)
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int j = 0; j < n; j++) sum += cap[k, i, j] = a[k, i, j] + (i == j ? 1.0 : 0.0);
                for (int j = 0; j < n; j++) cap[k, i, j] /= sum;
            }
        for (int l = 1; l <= layers; l++)
            for (int i = 0; i < n; i++)
            {
                var cuts = new double[n];
                for (int j = 0; j < n; j++) cuts[j] = BruteForceMinCut(cap, l, i, j, n);
                double sum = cuts.Sum();
                for (int j = 0; j < n; j++) Assert.Equal(cuts[j] / sum, flow[l - 1, i, j], 5);
            }
        AssertRowsSumToOne(flow);
    }

    [Theory]
    [InlineData(2, 16, 21)]
    [InlineData(6, 12, 22)]
    [InlineData(5, 20, 23)]
    public void AttentionFlow_RandomAttention_MatchesGenericMaxFlowOnFullGraph(int layers, int n, int seed)
    {
        // The full layered graph of the definition (all layer-0 tokens as nodes), solved by the generic FlowGraph.
        var random = new Random(seed);
        var a = Tensor.Zeros(layers, n, n);
        for (int e = 0; e < a.Length; e++) a.Data[e] = (float)Math.Pow(random.NextDouble(), 4); // peaked, like attention
        var flow = AttentionFlow.Compute(a);
        var cap = new double[layers * n * n];
        for (int r = 0; r < layers * n; r++)
        {
            double sum = 0;
            for (int j = 0; j < n; j++) sum += cap[r * n + j] = a.Data[r * n + j] + (r % n == j ? 1.0 : 0.0);
            for (int j = 0; j < n; j++) cap[r * n + j] /= sum;
        }
        var g = new FlowGraph((layers + 1) * n); // node (k, t) = k·n + t
        for (int k = 1; k <= layers; k++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    g.AddEdge(k * n + i, (k - 1) * n + j, cap[(k - 1) * n * n + i * n + j]);
        g.Freeze();
        var workspace = g.NewWorkspace();
        double worst = 0;
        for (int l = 1; l <= layers; l++)
            for (int i = 0; i < n; i++)
            {
                var values = new double[n];
                for (int j = 0; j < n; j++) values[j] = g.MaxFlow(l * n + i, j, g.NewResidual(), workspace);
                double sum = values.Sum();
                for (int j = 0; j < n; j++) worst = Math.Max(worst, Math.Abs(values[j] / sum - flow[l - 1, i, j]));
            }
        output.WriteLine($"L = {layers}, n = {n}: max |diff| vs generic Dinic {worst:G3}");
        Assert.True(worst < 1e-6, $"max |diff| {worst}");
    }

    /// <summary>Min over node sets S ∋ (l, i), ∌ (0, j) of layers 0..l of the capacity leaving S.</summary>
    static double BruteForceMinCut(double[,,] cap, int l, int source, int sink, int n)
    {
        // Free nodes: layers 0..l-1 (all tokens but the sink in layer 0). Node (k, a) is bit k·n + a.
        int bits = l * n;
        double best = double.PositiveInfinity;
        for (long mask = 0; mask < 1L << bits; mask++)
        {
            if ((mask >> sink & 1) != 0) continue;
            bool In(int k, int a) => k == l ? a == source : (mask >> (k * n + a) & 1) != 0;
            double cut = 0;
            for (int k = 1; k <= l; k++)
                for (int a = 0; a < n; a++)
                    if (In(k, a))
                        for (int b = 0; b < n; b++)
                            if (!In(k - 1, b)) cut += cap[k - 1, a, b];
            best = Math.Min(best, cut);
        }
        return best;
    }

    [Fact]
    public void AttentionFlow_BadShape_Throws()
    {
        Assert.Contains("[L, n, n]", Assert.Throws<ArgumentException>(() => AttentionFlow.Compute(Tensor.Zeros(2, 3))).Message);
        Assert.Throws<ArgumentException>(() => AttentionFlow.Compute(Tensor.Zeros(2, 3, 4)));
        Assert.Throws<ArgumentException>(() => AttentionFlow.Compute(Tensor.Zeros(0, 3, 3)));
        var negative = Tensor.Zeros(1, 2, 2);
        negative.Data[1] = -0.5f;
        Assert.Contains("non-negative", Assert.Throws<ArgumentException>(() => AttentionFlow.Compute(negative)).Message);
        var nan = Tensor.Zeros(1, 2, 2);
        nan.Data[2] = float.NaN;
        Assert.Throws<ArgumentException>(() => AttentionFlow.Compute(nan));
    }

    // ---- max-flow solver ------------------------------------------------------------------------------------------

    [Fact]
    public void MaxFlow_ClrsFigure26_1_Is23()
    {
        // Cormen et al., Introduction to Algorithms, Fig. 26.1: s=0, v1..v4 = 1..4, t=5; max flow 23.
        var g = new FlowGraph(6);
        g.AddEdge(0, 1, 16); g.AddEdge(0, 2, 13); g.AddEdge(2, 1, 4); g.AddEdge(1, 3, 12); g.AddEdge(3, 2, 9);
        g.AddEdge(2, 4, 14); g.AddEdge(4, 3, 7); g.AddEdge(3, 5, 20); g.AddEdge(4, 5, 4);
        g.Freeze();
        var residual = g.NewResidual();
        Assert.Equal(23, g.MaxFlow(0, 5, residual, g.NewWorkspace()), 12);
        // Reusing the graph with fresh residuals gives the same; the reverse direction has no path.
        Assert.Equal(23, g.MaxFlow(0, 5, g.NewResidual(), g.NewWorkspace()), 12);
        Assert.Equal(0, g.MaxFlow(5, 0, g.NewResidual(), g.NewWorkspace()));
    }

    [Fact]
    public void MaxFlow_BlockingFlowOnWrongPath_CancelsFlowOnReverseEdge()
    {
        // s=0, a=1, b=2, c=3, d=4, t=5. Shortest paths s-a-b-t, s-c-b-t, s-a-d-t (all unit); taking s-a-b-t first
        // blocks both others, and the second unit needs s-c-b-a-d-t through the reverse of a→b.
        var g = new FlowGraph(6);
        g.AddEdge(0, 1, 1); g.AddEdge(1, 2, 1); g.AddEdge(2, 5, 1); g.AddEdge(0, 3, 1); g.AddEdge(3, 2, 1);
        int ad = g.AddEdge(1, 4, 1); g.AddEdge(4, 5, 1);
        g.Freeze();
        var residual = g.NewResidual();
        Assert.Equal(2, g.MaxFlow(0, 5, residual, g.NewWorkspace()), 12);
        Assert.Equal(1, residual[ad ^ 1], 12); // flow on a→d
        Assert.Equal(0, residual[ad], 12);
    }

    [Fact]
    public void MaxFlow_FractionalCapacities_AreExact()
    {
        // Two disjoint routes of 0.1 + 0.2 and a bottleneck of 1e-3 on a third.
        var g = new FlowGraph(5);
        g.AddEdge(0, 1, 0.1); g.AddEdge(1, 4, 0.7); g.AddEdge(0, 2, 0.9); g.AddEdge(2, 4, 0.2);
        g.AddEdge(0, 3, 5); g.AddEdge(3, 4, 1e-3);
        g.Freeze();
        Assert.Equal(0.301, g.MaxFlow(0, 4, g.NewResidual(), g.NewWorkspace()), 14);
    }

    [Fact]
    public void MaxFlow_Misuse_Throws()
    {
        var g = new FlowGraph(3);
        Assert.Throws<ArgumentOutOfRangeException>(() => g.AddEdge(0, 3, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => g.AddEdge(0, 1, -1));
        Assert.Throws<InvalidOperationException>(() => g.NewResidual());
        g.AddEdge(0, 1, 1);
        g.Freeze();
        Assert.Throws<InvalidOperationException>(() => g.AddEdge(1, 2, 1));
        Assert.Throws<ArgumentException>(() => g.MaxFlow(0, 1, new double[1], g.NewWorkspace()));
        Assert.Equal(0, g.MaxFlow(1, 1, g.NewResidual(), g.NewWorkspace()));
    }

    static void AssertRowsSumToOne(Tensor flow)
    {
        int n = flow.Shape[2];
        for (int r = 0; r < flow.Length / n; r++)
        {
            double sum = 0;
            for (int j = 0; j < n; j++) sum += flow.Data[r * n + j];
            Assert.Equal(1.0, sum, 5);
        }
    }
}
