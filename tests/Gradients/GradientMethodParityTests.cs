using MixLens.Analysis.Methods;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Gradients;

/// <summary>The gradient methods against ../shared/fixtures/gradients (float64 PyTorch autograd), at the tolerances of
/// each index.json.</summary>
public class GradientMethodParityTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> ClassifierCases() => GradientFixtures.Models
        .Where(m => GradientFixtures.Load(m).HasClassifier)
        .SelectMany(m => GradientFixtures.Load(m).Cases.Select(c => new object[] { m, c.Id }));

    [Theory]
    [MemberData(nameof(ClassifierCases))]
    public void SaliencyAndGradientXInput_FixtureCase_MatchReference(string model, string caseId)
    {
        var (fixtures, c, encoder, head, input) = Setup(model, caseId);
        Check(fixtures, c, "gradient.saliency", "gradients", Saliency.Compute(encoder, head, input), [c.InputIds.Length]);
        Check(fixtures, c, "gradient.gradient_x_input", "gradients", GradientXInput.Compute(encoder, head, input), [c.InputIds.Length]);
    }

    [Theory]
    [MemberData(nameof(ClassifierCases))]
    public void IntegratedGradients_FixtureCase_MatchesReferenceAndIsComplete(string model, string caseId)
    {
        var (fixtures, c, encoder, head, input) = Setup(model, caseId);
        var ig = IntegratedGradients.Compute(encoder, head, input, fixtures.SpecialMask(c), fixtures.PadTokenId);
        Assert.Equal(c.Target, ig.Target);
        Check(fixtures, c, "gradient.integrated_gradients", "gradients", ig.Scores, [c.InputIds.Length]);
        output.WriteLine($"completeness: sum {ig.Sum:G6} gap {ig.Gap:G6}; reference sum {c.IgSum:G6} gap {c.IgGap:G6}");
        Assert.Equal(c.IgGap!.Value, ig.Gap, 1e-4);
        Assert.Equal(c.IgSum!.Value, ig.Sum, 1e-4);
    }

    [Theory]
    [MemberData(nameof(ClassifierCases))]
    public void AttentionAttribution_FixtureCase_MatchesReference(string model, string caseId)
    {
        var (fixtures, c, encoder, head, input) = Setup(model, caseId);
        var heads = AttentionAttribution.ComputeHeads(encoder, head, input);
        Check(fixtures, c, "analysis.attattr_heads", "attattr", heads.Data, heads.Shape);
        var sum = AttentionAttribution.Reduce(heads);
        Check(fixtures, c, "analysis.attattr", "attattr", sum.Data, sum.Shape);
    }

    [Theory]
    [MemberData(nameof(ClassifierCases))]
    public void Chefer_FixtureCase_MatchesReference(string model, string caseId)
    {
        var (fixtures, c, encoder, head, input) = Setup(model, caseId);
        var r = Chefer.Compute(encoder, head, input);
        Check(fixtures, c, "analysis.chefer", "chefer", r.Data, r.Shape);
    }

    internal static (GradientFixtures, GradientCase, BertEncoder, Engine.Heads.SequenceClassifier, EncoderInput) Setup(string model, string caseId)
    {
        var fixtures = GradientFixtures.Load(model);
        var c = fixtures.Case(caseId);
        var m = GradientFixtures.EncoderModel(model);
        return (fixtures, c, m.Encoder, m.Classifier!, new EncoderInput(c.InputIds, c.TokenTypeIds));
    }

    void Check(GradientFixtures fixtures, GradientCase c, string name, string group, float[] actual, int[] shape)
    {
        var expected = fixtures.Open(c).GetFloat32(name).Span;
        output.WriteLine($"{fixtures.Model}/{c.Id} {name}: max |diff| {Compare.MaxAbsDiff(expected, actual):G3}, max |expected| {MaxAbs(expected):G3}");
        Compare.AllClose($"{fixtures.Model}/{c.Id} {name}", expected, actual, shape, fixtures.Tolerances[group]);
    }

    static double MaxAbs(ReadOnlySpan<float> v)
    {
        double m = 0;
        foreach (var x in v) m = Math.Max(m, Math.Abs(x));
        return m;
    }
}
