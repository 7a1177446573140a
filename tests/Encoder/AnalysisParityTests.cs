using MixLens.Analysis;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Encoder;

/// <summary>The context-mixing analyses against the fixtures' <c>analysis.*</c> tensors [L, n, n].</summary>
public class AnalysisParityTests
{
    public static IEnumerable<object[]> CasesWithAnalyses() => ModelFixtures.EncoderFixtureModels.SelectMany(m =>
        ModelFixtures.Load(m).Cases.Where(c => c.Store != "final").Select(c => new object[] { m, c.Id }));

    [Theory]
    [MemberData(nameof(CasesWithAnalyses))]
    public void AttentionAndRollout_FixtureCase_MatchReference(string model, string caseId) =>
        Check(model, caseId, (MixingMethod.Attention, "analysis.attention"), (MixingMethod.Rollout, "analysis.rollout"));

    [Theory]
    [MemberData(nameof(CasesWithAnalyses))]
    public void ValueZeroing_FixtureCase_MatchesReference(string model, string caseId) =>
        Check(model, caseId, (MixingMethod.ValueZeroing, "analysis.value_zeroing"),
            (MixingMethod.ValueZeroingRollout, "analysis.value_zeroing_rollout"));

    static void Check(string model, string caseId, params (MixingMethod Method, string Name)[] methods)
    {
        var fixtures = ModelFixtures.Load(model);
        var c = fixtures.Case(caseId);
        var expected = fixtures.Open(c);
        var encoder = ModelFixtures.Encoder(model);
        var input = new EncoderInput(c.InputIds, c.TokenTypeIds);
        foreach (var (method, name) in methods)
        {
            var actual = MixingMethods.Compute(method, encoder, input);
            Assert.Equal(new[] { fixtures.Layers, c.NTokens, c.NTokens }, actual.Shape);
            Compare.AllClose($"{model}/{caseId} {name}", expected.GetFloat32(name).Span, actual.Data, actual.Shape,
                EncoderParityTests.ToleranceFor(fixtures, name));
        }
    }
}
