using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Tests.Encoder;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Analysis;

/// <summary>
/// The vector-norm context-mixing methods (<see cref="AttentionNorm"/>, <see cref="Alti"/>, <see cref="GlobEnc"/>)
/// against the fixtures' <c>analysis.*</c> tensors [L, n, n], and on small hand-worked layers.
/// </summary>
public class VectorNormMethodsTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> CasesWithAnalyses() => ModelFixtures.BertLayoutModels.SelectMany(m =>
        ModelFixtures.Load(m).Cases.Where(c => c.Store != "final").Select(c => new object[] { m, c.Id }));

    [Theory]
    [MemberData(nameof(CasesWithAnalyses))]
    public void AttentionNorm_FixtureCase_MatchesReference(string model, string caseId) =>
        Check(model, caseId, AttentionNorm.Requirements, ("analysis.attention_norm", (e, i, t) => AttentionNorm.Compute(e, i, t)));

    [Theory]
    [MemberData(nameof(CasesWithAnalyses))]
    public void Alti_FixtureCase_MatchesReference(string model, string caseId) =>
        Check(model, caseId, Alti.Requirements,
            ("analysis.alti", (e, i, t) => Alti.Compute(e, i, t)),
            ("analysis.alti_rollout", (e, i, t) => Rollout.Compute(Alti.Compute(e, i, t), addIdentity: false)));

    [Theory]
    [MemberData(nameof(CasesWithAnalyses))]
    public void GlobEnc_FixtureCase_MatchesReference(string model, string caseId) =>
        Check(model, caseId, GlobEnc.Requirements,
            ("analysis.globenc", (e, i, t) => GlobEnc.Compute(e, i, t)),
            ("analysis.globenc_rollout", (e, i, t) => Rollout.Compute(GlobEnc.Compute(e, i, t), addIdentity: false)));

    // ---- fixtures -------------------------------------------------------------------------------------------------

    delegate Tensor Method(BertEncoder encoder, EncoderInput input, Trace trace);

    void Check(string model, string caseId, TraceRequest requirements, params (string Name, Method Compute)[] methods)
    {
        var fixtures = ModelFixtures.Load(model);
        var c = fixtures.Case(caseId);
        var expected = fixtures.Open(c);
        var encoder = ModelFixtures.Encoder(model);
        var input = new EncoderInput(c.InputIds, c.TokenTypeIds);
        var trace = encoder.Forward(input, requirements).Trace;
        foreach (var (name, compute) in methods)
        {
            var actual = compute(encoder, input, trace);
            Assert.Equal(new[] { fixtures.Layers, c.NTokens, c.NTokens }, actual.Shape);
            var reference = expected.GetFloat32(name).Span;
            output.WriteLine($"{model}/{caseId} {name}: max |diff| {Compare.MaxAbsDiff(reference, actual.Data):G3}");
            Compare.AllClose($"{model}/{caseId} {name}", reference, actual.Data, actual.Shape,
                EncoderParityTests.ToleranceFor(fixtures, name));
        }
    }
}
