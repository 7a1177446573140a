using MixLens.Analysis;
using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Evaluation;

/// <summary>The parts of a method evaluate computes alone (attattr's last layer, flow's [CLS] row of the last layer)
/// equal the same parts of the full computation, bit for bit.</summary>
public class EvaluationShortcutsTests
{
    static readonly Lazy<EncoderModel> Sst2 = new(() => EncoderModel.Load(SharedData.Models("minilm-l6-sst2")));

    [Fact]
    public void AttAttr_LastLayerOnly_EqualsTheLastLayerOfAllLayersAndZeroBelow()
    {
        var model = Sst2.Value;
        var input = EncoderInput.From(model.Tokenize("a gorgeous , witty , seductive movie .", truncate: true));
        int L = model.Config.NumHiddenLayers, H = model.Config.NumAttentionHeads, n = input.Length;
        var all = AttentionAttribution.ComputeHeads(model.Encoder, model.Classifier!, input, steps: 4);
        var last = AttentionAttribution.ComputeHeads(model.Encoder, model.Classifier!, input, steps: 4, allLayers: false);
        int block = H * n * n;
        Assert.True(all.Data.AsSpan((L - 1) * block, block).SequenceEqual(last.Data.AsSpan((L - 1) * block, block)));
        Assert.True(last.Data.AsSpan(0, (L - 1) * block).IndexOfAnyExcept(0f) < 0);
        Assert.True(last.Data.AsSpan((L - 1) * block, block).IndexOfAnyExcept(0f) >= 0);

        // through MixingMethods with the evaluation's options
        var options = GradientOptions.ForText(model, model.Tokenize("a gorgeous , witty , seductive movie .", truncate: true), steps: 4);
        var viaOptions = MixingMethods.Compute(MixingMethod.AttAttr, model.Encoder, input, gradients: options with { AttAttrAllLayers = false });
        var reduced = AttentionAttribution.Reduce(all);
        Assert.True(reduced.Data.AsSpan((L - 1) * n * n, n * n).SequenceEqual(viaOptions.Data.AsSpan((L - 1) * n * n, n * n)));
    }

    [Fact]
    public void Flow_RowZeroOfTheLastLayer_EqualsTheFullComputationsRowAndTheOtherRowsAreNaN()
    {
        var model = Sst2.Value;
        var input = EncoderInput.From(model.Tokenize("the story is far-flung , illogical , and plain stupid .", truncate: true));
        int L = model.Config.NumHiddenLayers, n = input.Length;
        var last = AttentionFlow.Compute(model.Encoder, input, trace: null, allLayers: false);
        var row = AttentionFlow.Compute(model.Encoder, input, trace: null, allLayers: false, rows: [0]);
        var expected = last.Data.AsSpan((L - 1) * n * n, n);
        Assert.True(expected.SequenceEqual(row.Data.AsSpan((L - 1) * n * n, n)));
        Assert.True(expected.IndexOfAnyExcept(0f) >= 0);
        foreach (float v in row.Data.AsSpan((L - 1) * n * n + n, (n - 1) * n))
            Assert.True(float.IsNaN(v), "a row of the last layer that was not asked for is not NaN");

        // through MixingMethods, as evaluate asks for it
        var viaMethods = MixingMethods.Compute(MixingMethod.Flow, model.Encoder, input, flowAllLayers: false, rows: [0]);
        Assert.True(expected.SequenceEqual(viaMethods.Data.AsSpan((L - 1) * n * n, n)));
    }
}
