using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Encoder;

/// <summary>A text's results must not depend on what else is in the batch.</summary>
public class BatchInvarianceTests
{
    [Theory]
    [InlineData("all-MiniLM-L6-v2")]
    [InlineData("bert-mlm-random")]
    public void Forward_FixtureTextsBatchedTogether_EqualSingleTextResults(string model)
    {
        var fixtures = ModelFixtures.Load(model);
        var encoder = ModelFixtures.Encoder(model);
        var cases = fixtures.Cases.Where(c => c.NTokens <= 128).ToArray();
        var inputs = cases.Select(c => new EncoderInput(c.InputIds, c.TokenTypeIds)).ToArray();
        var request = TraceRequest.Steps(true, LayerStep.Probs, LayerStep.Output);

        var batched = encoder.Forward(inputs, request);
        for (int s = 0; s < cases.Length; s++)
        {
            var (single, singleTrace) = encoder.Forward(inputs[s], request);
            Assert.True(Compare.MaxAbsDiff(single.Data, batched.LastHiddenStates[s].Data) <= 1e-6,
                $"{cases[s].Id}: batched last hidden state differs by {Compare.MaxAbsDiff(single.Data, batched.LastHiddenStates[s].Data):G3}");
            for (int l = 0; l < fixtures.Layers; l++)
            {
                double diff = Compare.MaxAbsDiff(singleTrace[l, LayerStep.Probs].Data, batched.Traces[s][l, LayerStep.Probs].Data);
                Assert.True(diff <= 1e-7, $"{cases[s].Id} layer {l}: batched attention probs differ by {diff:G3}");
            }
        }
    }

    [Fact]
    public void Forward_PaddedTextWithAttentionMask_RealTokensMatchUnpaddedText()
    {
        var fixtures = ModelFixtures.Load("all-MiniLM-L6-v2");
        var encoder = ModelFixtures.Encoder("all-MiniLM-L6-v2");
        var c = fixtures.Case("fox");
        int n = c.NTokens, padded = n + 5;
        var ids = c.InputIds.Concat(Enumerable.Repeat(0, 5)).ToArray();
        var types = c.TokenTypeIds.Concat(Enumerable.Repeat(0, 5)).ToArray();
        var mask = Enumerable.Repeat(1, n).Concat(Enumerable.Repeat(0, 5)).ToArray();

        var (plain, _) = encoder.Forward(new EncoderInput(c.InputIds, c.TokenTypeIds));
        var (withPadding, trace) = encoder.Forward(new EncoderInput(ids, types, mask), TraceRequest.Steps(false, LayerStep.Probs));

        double diff = Compare.MaxAbsDiff(plain.Data, withPadding.Data.AsSpan(0, n * fixtures.Hidden));
        Assert.True(diff <= 1e-5, $"real tokens change by {diff:G3} when padding is added");
        var probs = trace[0, LayerStep.Probs];
        for (int h = 0; h < fixtures.Heads; h++)
            for (int i = 0; i < padded; i++)
                for (int j = n; j < padded; j++)
                    Assert.Equal(0f, probs[h, i, j]);
    }
}
