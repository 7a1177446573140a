using MixLens.Analysis;
using MixLens.Analysis.Cost;
using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Model;
using Xunit.Abstractions;

namespace MixLens.Tests.Cost;

/// <summary>
/// The cost model (<see cref="CostModel"/>), the budget (<see cref="CostBudget"/>) and attention flow on a subset of
/// output rows (<see cref="AttentionFlow"/>'s rows), which the cost model counts per row.
/// </summary>
[Collection(GemmSpeedCollection.Name)]
public class CostModelTests(ITestOutputHelper output)
{
    /// <summary>all-MiniLM-L6-v2's shapes: 6 layers, d = 384, f = 1536, 12 heads.</summary>
    static readonly EncoderConfig MiniLm = new()
    {
        HiddenSize = 384, NumHiddenLayers = 6, NumAttentionHeads = 12, IntermediateSize = 1536, MaxPositionEmbeddings = 512,
    };

    static CostEstimate At(MixingMethod method, int n, CostOptions? options = null)
    {
        GemmSpeed.Override(1e11);
        try { return CostModel.Estimate(method, MiniLm, n, options); }
        finally { GemmSpeed.Override(null); }
    }

    [Fact]
    public void GemmSpeed_Measured_IsPositiveAndQuick()
    {
        double rate = GemmSpeed.Measure(out var elapsed);
        output.WriteLine($"GEMM speed {rate / 1e9:0.0} GFLOP/s, measured in {elapsed.TotalMilliseconds:0} ms");
        Assert.InRange(rate, 1e8, 1e13);
        // about 30 ms on a quiet machine once the GEMM is compiled; generous for a loaded one and a first (JIT) call
        Assert.True(elapsed.TotalMilliseconds < 3000, $"the calibration took {elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void Estimate_ForwardWork_MatchesTheFormula()
    {
        // attention: F(n) = 2·L·(n·(4d² + 2d·f) + 2n²·d), plus the head mean 2·L·H·n²
        int n = 100, L = 6, d = 384, f = 1536, H = 12;
        double forward = 2.0 * L * (n * (4.0 * d * d + 2.0 * d * f) + 2.0 * n * n * d);
        var e = At(MixingMethod.Attention, n);
        Assert.Equal(forward + 2.0 * L * H * n * n, e.Operations, 6);
        Assert.Equal("attention on 100 tokens", e.What);
    }

    [Theory]
    [InlineData(MixingMethod.Flow)]
    [InlineData(MixingMethod.ValueZeroing)]
    [InlineData(MixingMethod.Hta)]
    [InlineData(MixingMethod.IntegratedGradients)]
    [InlineData(MixingMethod.AttAttr)]
    [InlineData(MixingMethod.Alti)]
    public void Estimate_LongerText_CostsMoreTimeAndMemory(MixingMethod method)
    {
        var shorter = At(method, 64);
        var longer = At(method, 128);
        output.WriteLine($"{shorter.What}: {shorter.Summary}; {longer.What}: {longer.Summary}");
        Assert.True(longer.Seconds > shorter.Seconds && longer.Operations > shorter.Operations && longer.PeakBytes > shorter.PeakBytes);
    }

    [Fact]
    public void Estimate_FlowOneRow_CostsAboutOneNthOfAllRows()
    {
        const int n = 512;
        var all = At(MixingMethod.Flow, n);
        var cls = At(MixingMethod.Flow, n, new CostOptions(Rows: 1));
        var last = At(MixingMethod.Flow, n, new CostOptions(FlowAllLayers: false));
        output.WriteLine($"flow, 512 tokens: all rows {all.Summary}; row 0 {cls.Summary}; last layer {last.Summary}");
        double ratio = all.Seconds / cls.Seconds;
        Assert.InRange(ratio, n / 2.0, n);      // the forward pass is the part that does not shrink
        Assert.True(last.Seconds < all.Seconds / 2);
    }

    [Fact]
    public void Estimate_RowsOutsideOneToN_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => At(MixingMethod.Flow, 10, new CostOptions(Rows: 11)));
        Assert.Throws<ArgumentOutOfRangeException>(() => At(MixingMethod.Flow, 10, new CostOptions(Rows: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => At(MixingMethod.Flow, 0));
    }

    [Fact]
    public void Estimate_Steps_ScaleTheGradientMethods()
    {
        var ig50 = At(MixingMethod.IntegratedGradients, 64);
        var ig10 = At(MixingMethod.IntegratedGradients, 64, new CostOptions(Steps: 10));
        // (3m + 2) forwards: 152 against 32
        Assert.Equal(152.0 / 32.0, ig50.Operations / ig10.Operations, 6);
    }

    [Fact]
    public void LongestWithin_ReturnsTheLongestTextThatFits()
    {
        GemmSpeed.Override(1e11);
        try
        {
            CostEstimate Flow(int n) => CostModel.Estimate(MixingMethod.Flow, MiniLm, n);
            const double budget = 60;
            int longest = CostModel.LongestWithin(Flow, 512, budget, long.MaxValue);
            output.WriteLine($"flow within {budget} s at 100 GFLOP/s: {longest} tokens ({Flow(longest).Summary})");
            Assert.InRange(longest, 2, 511);
            Assert.True(Flow(longest).Seconds <= budget);
            Assert.True(Flow(longest + 1).Seconds > budget);
            Assert.Equal(512, CostModel.LongestWithin(Flow, 512, double.PositiveInfinity, long.MaxValue));
            Assert.Equal(0, CostModel.LongestWithin(Flow, 512, 1e-9, long.MaxValue));
        }
        finally { GemmSpeed.Override(null); }
    }

    [Fact]
    public void Budget_Excess_NamesEachLimitExceeded()
    {
        var budget = new CostBudget(600, 1L << 30);
        Assert.Null(budget.Excess(new CostEstimate("x", 1, 1L << 29, 10)));
        Assert.Equal("over the time budget of 10 min 00 s", budget.Excess(new CostEstimate("x", 1, 1, 601)));
        Assert.Equal("over the time budget of 10 min 00 s and over the memory budget of 1.0 GiB",
            budget.Excess(new CostEstimate("x", 1, 2L << 30, 601)));
        Assert.True(CostBudget.Unlimited.Allows(new CostEstimate("x", 1e30, long.MaxValue, 1e30)));
        Assert.InRange(CostBudget.Default().MaxBytes, 1L << 20, long.MaxValue);
    }

    [Theory]
    [InlineData(0.4, "0.4 s")]
    [InlineData(48, "48 s")]
    [InlineData(200, "3 min 20 s")]
    [InlineData(7500, "2 h 05 min")]
    [InlineData(3 * 86400, "3.0 days")]
    public void Duration_ReadsAsWords(double seconds, string expected) => Assert.Equal(expected, CostEstimate.Duration(seconds));

    // ---- attention flow on a subset of rows ----------------------------------------------------------------------

    static Tensor RandomAttention(int L, int n, int seed)
    {
        var random = new Random(seed);
        var a = Tensor.Zeros(L, n, n);
        for (int r = 0; r < L * n; r++)
        {
            var row = a.Data.AsSpan(r * n, n);
            float sum = 0;
            for (int j = 0; j < n; j++) sum += row[j] = (float)random.NextDouble();
            for (int j = 0; j < n; j++) row[j] /= sum;
        }
        return a;
    }

    [Fact]
    public void AttentionFlow_Rows_EqualTheFullResultsRowsAndLeaveTheOthersNaN()
    {
        const int L = 3, n = 7;
        var attention = RandomAttention(L, n, 5);
        var full = AttentionFlow.Compute(attention);
        int[] rows = [0, 3, 4];
        var reports = new List<double>();
        var subset = AttentionFlow.Compute(attention, allLayers: true, rows, new SynchronousProgress(reports));
        for (int l = 0; l < L; l++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    if (rows.Contains(i)) Assert.Equal(full[l, i, j], subset[l, i, j]);   // bit for bit: the same max-flows
                    else Assert.True(float.IsNaN(subset[l, i, j]), $"[{l}, {i}, {j}] = {subset[l, i, j]}, expected NaN (not computed)");
                }
        Assert.Equal(L * rows.Length * n, reports.Count);   // one report per max-flow
        Assert.Equal(1.0, reports.Max(), 12);
    }

    [Fact]
    public void AttentionFlow_RowsWithLastLayerOnly_LowerLayersStayZero()
    {
        const int L = 3, n = 5;
        var attention = RandomAttention(L, n, 9);
        var full = AttentionFlow.Compute(attention, allLayers: false);
        var cls = AttentionFlow.Compute(attention, allLayers: false, rows: [0]);
        for (int j = 0; j < n; j++) Assert.Equal(full[L - 1, 0, j], cls[L - 1, 0, j]);
        Assert.True(float.IsNaN(cls[L - 1, 1, 0]));
        Assert.All(cls.Data.AsSpan(0, (L - 1) * n * n).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void AttentionFlow_BadRows_Throw()
    {
        var attention = RandomAttention(2, 4, 1);
        Assert.Contains("tokens 0..3", Assert.Throws<ArgumentOutOfRangeException>(() => AttentionFlow.Compute(attention, rows: [4])).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentOutOfRangeException>(() => AttentionFlow.Compute(attention, rows: [1, 1])).Message);
    }

    [Fact]
    public void MixingMethods_RowsForAMethodWithoutRows_Throws()
    {
        using var model = EncoderModel.Load(MixLens.Tests.Infrastructure.SharedData.Models("random-bert-tiniest"));
        var input = EncoderInput.From(model.Tokenize("hello world"));
        var e = Assert.Throws<ArgumentException>(() => MixingMethods.Compute(MixingMethod.Alti, model.Encoder, input, rows: [0]));
        Assert.Contains("flow only", e.Message);
    }

    /// <summary>An <see cref="IProgress{T}"/> that records reports at once on the reporting thread (Progress&lt;T&gt; posts them).</summary>
    sealed class SynchronousProgress(List<double> reports) : IProgress<double>
    {
        public void Report(double value) { lock (reports) reports.Add(value); }
    }
}

/// <summary>Tests that override the process-wide GEMM speed run one at a time.</summary>
[CollectionDefinition(Name)]
public class GemmSpeedCollection
{
    public const string Name = "GEMM speed override";
}
