using MixLens.Analysis.Methods;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Encoder;

/// <summary>Value Zeroing: the fast perturbation-propagation path against the literal re-run through the encoder (issue: within 1e-5).</summary>
public class ValueZeroingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("all-MiniLM-L6-v2", "fox", null)]
    [InlineData("all-MiniLM-L6-v2", "pair_station", 3)]
    [InlineData("minilm-l6-sst2", "sst2_dev_1", null)]
    [InlineData("bert-mlm-random", "pair", 1)]
    public void Compute_RealAndRandomModels_EqualsRerunThroughEncoder(string model, string caseId, int? head)
    {
        var c = ModelFixtures.Load(model).Case(caseId);
        var encoder = ModelFixtures.Encoder(model);
        var input = new EncoderInput(c.InputIds, c.TokenTypeIds);
        var exact = ValueZeroing.Compute(encoder, input, head);
        var rerun = ValueZeroing.ComputeByRerun(encoder, input, head);
        double diff = Compare.MaxAbsDiff(exact.Data, rerun.Data);
        output.WriteLine($"{model}/{caseId} head {head?.ToString() ?? "all"}: max |exact − rerun| = {diff:G3}");
        Assert.True(diff <= 1e-5, $"fast path and re-run Value Zeroing differ by {diff:G3}");
    }

    [Fact]
    public void ComputeByRerun_AllMiniLmFixture_MatchesReference()
    {
        var fixtures = ModelFixtures.Load("all-MiniLM-L6-v2");
        var c = fixtures.Case("accents");
        var rerun = ValueZeroing.ComputeByRerun(ModelFixtures.Encoder("all-MiniLM-L6-v2"), new EncoderInput(c.InputIds, c.TokenTypeIds));
        Compare.AllClose("accents analysis.value_zeroing (re-run)", fixtures.Open(c).GetFloat32("analysis.value_zeroing").Span,
            rerun.Data, rerun.Shape, fixtures.Tolerances["value_zeroing_alti"]);
    }

    [Fact]
    public void Compute_RowsAreDistributionsOverInputs()
    {
        var c = ModelFixtures.Load("bert-mlm-random").Case("fox");
        var scores = ValueZeroing.Compute(ModelFixtures.Encoder("bert-mlm-random"), new EncoderInput(c.InputIds, c.TokenTypeIds));
        int L = scores.Shape[0], n = scores.Shape[1];
        for (int l = 0; l < L; l++)
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int j = 0; j < n; j++)
                {
                    Assert.True(scores[l, i, j] >= 0);
                    sum += scores[l, i, j];
                }
                Assert.Equal(1.0, sum, 5);
            }
    }

    [Fact]
    public void Compute_HeadOutOfRange_Throws()
    {
        var c = ModelFixtures.Load("bert-mlm-random").Case("fox");
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ValueZeroing.Compute(ModelFixtures.Encoder("bert-mlm-random"), new EncoderInput(c.InputIds, c.TokenTypeIds), head: 4));
        Assert.Contains("head 4 does not exist; the model has heads 0..3", e.Message);
    }
}
