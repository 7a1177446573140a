using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Encoder;

/// <summary>
/// Every traced sub-step of every layer against the float64 reference fixtures of every BERT-layout model
/// (../shared/fixtures/&lt;model&gt;/*.safetensors), at the tolerances of each index.json.
/// </summary>
public class EncoderParityTests
{
    public static IEnumerable<object[]> Cases() => ModelFixtures.AllEncoderCases();

    /// <summary>The tolerance group of a tensor name (../shared/README.md, "Tolerances").</summary>
    public static Tolerance ToleranceFor(ModelFixtures fixtures, string name)
    {
        string group = name switch
        {
            _ when name.EndsWith(".attention.probs", StringComparison.Ordinal) => "attention_probs",
            "analysis.attention" or "analysis.rollout" or "analysis.flow" => "rollout_flow",
            "analysis.value_zeroing" or "analysis.value_zeroing_rollout" or "analysis.alti" or "analysis.alti_rollout" => "value_zeroing_alti",
            "analysis.attention_norm" or "analysis.globenc" or "analysis.globenc_rollout" => "norm_matrices",
            "sentence_embedding" => "sentence_embedding",
            "logits" => "logits",
            _ => "hidden_states",
        };
        return fixtures.Tolerances[group];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_FixtureCase_EverySubStepMatchesReference(string model, string caseId)
    {
        var fixtures = ModelFixtures.Load(model);
        var c = fixtures.Case(caseId);
        var expected = fixtures.Open(c);
        var encoder = ModelFixtures.Encoder(model);

        Assert.Equal(c.InputIds, expected.GetInt64("input_ids").Select(x => (int)x).ToArray());
        var (lastHidden, trace) = encoder.Forward(new EncoderInput(c.InputIds, c.TokenTypeIds), TraceRequest.All);

        int compared = 0;
        foreach (var info in expected.Tensors)
        {
            if (!TraceNames.TryParse(info.Name, fixtures.Layers, out _, out _)) continue;
            var actual = trace[info.Name];
            Assert.Equal(info.Shape.Select(x => (int)x).ToArray(), actual.Shape);
            Compare.AllClose($"{model}/{caseId} {info.Name}", expected.GetFloat32(info.Name).Span, actual.Data, actual.Shape, ToleranceFor(fixtures, info.Name));
            compared++;
        }
        int L = fixtures.Layers;
        int expectedCount = c.Store switch { "full" => 1 + 13 * L, "hidden" => 1 + 2 * L, _ => 1 };
        Assert.Equal(expectedCount, compared);

        // The returned last hidden state is the last layer's output.
        Assert.Equal(trace[L - 1, LayerStep.Output].Data, lastHidden.Data);
    }
}
