using MixLens.Analysis.Methods;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Gradients;

/// <summary>Hidden token attribution (forward-mode Jacobian norms) against <c>analysis.hta</c> of every gradient
/// fixture case that has it, on every family.</summary>
public class HtaParityTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> HtaCases() => GradientFixtures.Models
        .SelectMany(m => GradientFixtures.Load(m).Cases.Where(c => c.HasHta).Select(c => new object[] { m, c.Id }));

    [Fact]
    public void HtaCases_CoverEveryFamily() =>
        Assert.Equal(6, HtaCases().Select(c => (string)c[0]).Distinct().Count());

    [Theory]
    [MemberData(nameof(HtaCases))]
    public void Hta_FixtureCase_MatchesReference(string model, string caseId)
    {
        var fixtures = GradientFixtures.Load(model);
        var c = fixtures.Case(caseId);
        var encoder = GradientFixtures.EncoderModel(model).Encoder;
        var actual = HiddenTokenAttribution.Compute(encoder, new EncoderInput(c.InputIds, c.TokenTypeIds));
        var expected = fixtures.Open(c).GetFloat32("analysis.hta").Span;
        output.WriteLine($"{model}/{caseId} analysis.hta: max |diff| {Compare.MaxAbsDiff(expected, actual.Data):G3}");
        Compare.AllClose($"{model}/{caseId} analysis.hta", expected, actual.Data, actual.Shape, fixtures.Tolerances["hta"]);
    }
}
