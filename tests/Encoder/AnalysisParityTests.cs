using MixLens.Analysis;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Encoder;

/// <summary>The context-mixing analyses against the fixtures' <c>analysis.*</c> tensors [L, n, n].</summary>
public class AnalysisParityTests(ITestOutputHelper output)
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

    void Check(string model, string caseId, params (MixingMethod Method, string Name)[] methods)
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
            output.WriteLine($"{model}/{caseId} {name}: max |diff| {Compare.MaxAbsDiff(expected.GetFloat32(name).Span, actual.Data):G3}");
            Compare.AllClose($"{model}/{caseId} {name}", expected.GetFloat32(name).Span, actual.Data, actual.Shape,
                EncoderParityTests.ToleranceFor(fixtures, name));
        }
    }

    /// <summary>The analysis tensors the parity tests compare: here (attention, rollout, Value Zeroing),
    /// VectorNormMethodsTests (attention norm, ALTI, GlobEnc) and AttentionFlowTests (flow).</summary>
    static readonly string[] Covered =
    [
        "analysis.attention", "analysis.rollout", "analysis.value_zeroing", "analysis.value_zeroing_rollout",
        "analysis.attention_norm", "analysis.alti", "analysis.alti_rollout", "analysis.globenc", "analysis.globenc_rollout",
        "analysis.flow",
    ];

    [Theory]
    [MemberData(nameof(CasesWithAnalyses))]
    public void FixtureCase_EveryAnalysisTensor_IsComparedByAParityTest(string model, string caseId)
    {
        var fixtures = ModelFixtures.Load(model);
        var c = fixtures.Case(caseId);
        var analyses = fixtures.Open(c).Tensors.Select(t => t.Name).Where(n => n.StartsWith("analysis.", StringComparison.Ordinal)).ToArray();
        Assert.Equal(c.HasFlow ? 10 : 9, analyses.Length);
        Assert.All(analyses, name => Assert.Contains(name, Covered));
    }
}
