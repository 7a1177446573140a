using MixLens.Analysis.Evaluation;

namespace MixLens.Tests.Evaluation;

/// <summary>Spearman's ρ against hand-worked examples (average ranks for ties).</summary>
public class SpearmanTests
{
    [Fact]
    public void Ranks_Ties_GetAverageRank() =>
        Assert.Equal([1.0, 2.0, 3.5, 5.0, 3.5], Spearman.Ranks([5, 6, 7, 8, 7]));

    [Fact]
    public void Correlation_TieInY_MatchesHandComputedValue()
    {
        // ranks x: 1..5 (centred −2..2); ranks y: 1, 2, 3.5, 5, 3.5 (centred −2, −1, .5, 2, .5)
        // Σdxdy = 8, Σdx² = 10, Σdy² = 9.5 → ρ = 8 / √95
        double? rho = Spearman.Correlation([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]);
        Assert.NotNull(rho);
        Assert.Equal(8 / Math.Sqrt(95), rho.Value, 12);
        Assert.Equal(0.8208, rho.Value, 4);
    }

    [Fact]
    public void Correlation_TiesInBoth_MatchesHandComputedValue()
    {
        // ranks x: 1.5, 1.5, 3, 4; ranks y: 1, 2, 3.5, 3.5 → Σdxdy = 4, Σdx² = Σdy² = 4.5 → ρ = 8/9
        double? rho = Spearman.Correlation([1, 1, 2, 3], [1, 2, 3, 3]);
        Assert.Equal(8.0 / 9.0, rho!.Value, 12);
    }

    [Fact]
    public void Correlation_MonotoneIncreasing_IsOne() =>
        Assert.Equal(1.0, Spearman.Correlation([0.1, 0.5, 0.7, 3], [1, 10, 100, 1000])!.Value, 12);

    [Fact]
    public void Correlation_MonotoneDecreasing_IsMinusOne() =>
        Assert.Equal(-1.0, Spearman.Correlation([1, 2, 3, 4], [9, 7, -1, -5])!.Value, 12);

    [Fact]
    public void Correlation_RankInvariant_IgnoresScale() =>
        Assert.Equal(Spearman.Correlation([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), Spearman.Correlation([10, 20, 300, 4000, 50000], [0.5, 0.6, 0.7, 0.8, 0.7]));

    [Fact]
    public void Correlation_ConstantInput_IsNull()
    {
        Assert.Null(Spearman.Correlation([2, 2, 2], [1, 2, 3]));
        Assert.Null(Spearman.Correlation([1, 2, 3], [0, 0, 0]));
    }

    [Fact]
    public void Correlation_NaNOrTooShort_IsNull()
    {
        Assert.Null(Spearman.Correlation([1, double.NaN, 3], [1, 2, 3]));
        Assert.Null(Spearman.Correlation([1], [1]));
    }

    [Fact]
    public void Correlation_DifferentLengths_Throws() =>
        Assert.Throws<ArgumentException>(() => Spearman.Correlation([1, 2, 3], [1, 2]));
}
