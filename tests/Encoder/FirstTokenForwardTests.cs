using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Encoder;

/// <summary><see cref="BertEncoder.ForwardFirstTokens"/>: the last layer at the first token only, bit for bit row 0
/// of the full forward, on every family and on packed batches of mixed lengths (what evaluate scores).</summary>
public class FirstTokenForwardTests
{
    [Theory]
    [InlineData("minilm-l6-sst2")]
    [InlineData("roberta-random")]
    [InlineData("distilbert-random")]
    [InlineData("electra-random")]
    [InlineData("random-bert-tiniest")]
    public void ForwardFirstTokens_MixedLengthBatch_EqualsRowZeroOfForwardBitForBit(string name)
    {
        using var model = EncoderModel.Load(SharedData.Models(name));
        string[] texts = ["a", "the movie was not good at all , and yet i liked it", "fine", "an utterly charming and hilarious film that reminds us"];
        var inputs = texts.Select(t => EncoderInput.From(model.Tokenize(t, truncate: true))).ToList();
        // a copy with a token deleted and one padded with an attention mask, as the evaluation's variants
        inputs.Add(new EncoderInput(inputs[1].InputIds.Where((_, j) => j != 2).ToArray(), inputs[1].TokenTypeIds.Where((_, j) => j != 2).ToArray()));
        int n = inputs[3].Length;
        inputs.Add(new EncoderInput([.. inputs[3].InputIds, 0, 0], [.. inputs[3].TokenTypeIds, 0, 0], [.. Enumerable.Repeat(1, n), 0, 0]));
        int d = model.Config.HiddenSize;

        var first = model.Encoder.ForwardFirstTokens(inputs);
        var full = model.Encoder.Forward(inputs).LastHiddenStates;

        Assert.Equal([inputs.Count, d], first.Shape);
        for (int s = 0; s < inputs.Count; s++)
        {
            var expected = full[s].Row(0).ToArray();
            var actual = first.Row(s).ToArray();
            Assert.True(expected.AsSpan().SequenceEqual(actual),
                $"text {s}: differs from the full forward's row 0 by up to {Compare.MaxAbsDiff(expected, actual):G3}");
        }
        // and each text alone
        var alone = model.Encoder.ForwardFirstTokens([inputs[1]]);
        Assert.True(alone.Row(0).SequenceEqual(first.Row(1)));
    }

    [Fact]
    public void ForwardFirstTokens_EmptyBatch_OneClearError()
    {
        using var model = EncoderModel.Load(SharedData.Models("bert-mlm-random"));
        var e = Assert.Throws<EncoderInputException>(() => model.Encoder.ForwardFirstTokens([]));
        Assert.Contains("empty", e.Message);
    }
}
