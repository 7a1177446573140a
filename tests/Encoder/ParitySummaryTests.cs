using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Encoder;

/// <summary>Per model, the largest |actual − reference| over every case and layer, by tolerance group (printed and bounded).</summary>
public class ParitySummaryTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(Models))]
    public void Forward_AllCases_MaxDifferencesWithinStatedTolerances(string model)
    {
        var fixtures = ModelFixtures.Load(model);
        var encoder = ModelFixtures.Encoder(model);
        double hidden = 0, probs = 0;
        string worst = "";
        foreach (var c in fixtures.Cases)
        {
            var expected = fixtures.Open(c);
            var (_, trace) = encoder.Forward(new EncoderInput(c.InputIds, c.TokenTypeIds), TraceRequest.All);
            foreach (var info in expected.Tensors)
            {
                if (!TraceNames.TryParse(info.Name, fixtures.Layers, out _, out var step)) continue;
                double diff = Compare.MaxAbsDiff(expected.GetFloat32(info.Name).Span, trace[info.Name].Data);
                if (step == LayerStep.Probs) probs = Math.Max(probs, diff);
                else if (step != LayerStep.Scores && diff > hidden) { hidden = diff; worst = $"{c.Id} {info.Name}"; }
            }
        }
        output.WriteLine($"{model}: max |diff| hidden states {hidden:G3} ({worst}), attention probs {probs:G3} over {fixtures.Cases.Count} cases");
        Assert.True(hidden <= 1e-4 && probs <= 1e-5, $"{model}: hidden {hidden:G3}, probs {probs:G3}");
    }

    public static IEnumerable<object[]> Models() => ModelFixtures.EncoderFixtureModels.Select(m => new object[] { m });
}
