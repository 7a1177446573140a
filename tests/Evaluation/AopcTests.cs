using MixLens.Analysis;
using MixLens.Analysis.Evaluation;

namespace MixLens.Tests.Evaluation;

/// <summary>AOPC and the per-sentence evaluation core on a fake, additive "model".</summary>
public class AopcTests
{
    const int Mask = 103;
    static readonly int[] Ids = [101, 10, 11, 12, 13, 14, 102];
    static readonly int[] Positions = [1, 2, 3, 4, 5];
    static readonly Dictionary<int, double> Weight = new() { [1] = 0.3, [2] = 0.2, [3] = 0.1, [4] = 0.05, [5] = 0.0 };
    const double P = 0.9;

    /// <summary>p = 0.9 − Σ weights of the masked positions.</summary>
    static double[] Fake(IReadOnlyList<int[]> batch) =>
        batch.Select(ids => P - Weight.Where(w => ids[w.Key] == Mask).Sum(w => w.Value)).ToArray();

    [Theory]
    [InlineData(0.1, 5, 1)]
    [InlineData(0.2, 5, 1)]
    [InlineData(0.3, 5, 2)]
    [InlineData(0.5, 5, 3)]
    [InlineData(0.3, 10, 3)]
    [InlineData(0.1, 3, 1)]
    [InlineData(0.5, 1, 1)]
    public void Count_Fraction_IsCeiling(double k, int m, int expected) => Assert.Equal(expected, Aopc.Count(k, m));

    [Fact]
    public void Compute_FaithfulRanking_MatchesHandComputedDrops()
    {
        // top 1, 1, 2, 2, 3 tokens in order 1,2,3 → drops .3, .3, .5, .5, .6 → AOPC .44
        int batches = 0;
        var (aopc, drops) = Aopc.Compute(Ids, Positions, [5, 4, 3, 2, 1], Mask, P, b => { batches++; return Fake(b); });
        Assert.Equal(1, batches);
        Assert.Equal([0.3, 0.3, 0.5, 0.5, 0.6], drops.Select(d => Math.Round(d, 12)));
        Assert.Equal(0.44, aopc, 12);
    }

    [Fact]
    public void Compute_ReversedRanking_MatchesHandComputedDrops()
    {
        // order 5,4,3 → drops 0, 0, .05, .05, .15 → AOPC .05
        var (aopc, _) = Aopc.Compute(Ids, Positions, [1, 2, 3, 4, 5], Mask, P, Fake);
        Assert.Equal(0.05, aopc, 12);
    }

    [Fact]
    public void Ranking_Ties_EarlierPositionFirst() =>
        Assert.Equal([3, 1, 2], Aopc.Ranking([1, 2, 3], [0.5, 0.5, 0.9]));

    [Fact]
    public void BlankOut_FakeModel_IsTheWeightOfEachToken()
    {
        int batches = 0;
        var importances = BlankOut.Importances(Ids, Positions, Mask, P, b => { batches++; return Fake(b); });
        Assert.Equal(1, batches);
        Assert.Equal([0.3, 0.2, 0.1, 0.05, 0.0], importances.Select(d => Math.Round(d, 12)));
    }

    [Fact]
    public void EvaluateSentence_FakeModel_PerfectAndConstantMethods()
    {
        var scores = new Dictionary<MixingMethod, double[]?>
        {
            [MixingMethod.Attention] = [9, 8, 7, 6, 5],
            [MixingMethod.Rollout] = [1, 1, 1, 1, 1],
            [MixingMethod.Flow] = null,
        };
        var (importances, rho, aopc) = FaithfulnessEvaluation.EvaluateSentence(Ids, Positions, Mask, P, Fake, scores);
        Assert.Equal(5, importances.Length);
        Assert.Equal(1.0, rho[MixingMethod.Attention]!.Value, 12);
        Assert.Equal(0.44, aopc[MixingMethod.Attention]!.Value, 12);
        Assert.Null(rho[MixingMethod.Rollout]);
        Assert.NotNull(aopc[MixingMethod.Rollout]);
        Assert.Null(rho[MixingMethod.Flow]);
        Assert.Null(aopc[MixingMethod.Flow]);
    }
}
