using MixLens.Engine;
using MixLens.Engine.Gradients;
using MixLens.Engine.Interventions;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Gradients;

/// <summary>
/// <see cref="EncoderGradients.Forward"/> with <c>firstTokensOnly</c>: the last layer taped at the first token of each
/// text, and its backward (<c>EncoderLayer.BackwardFirstTokens</c>), against the full taped forward and backward of the
/// same batch, on every family, with mixed lengths, a padded text and a word-embedding override (what integrated
/// gradients runs), and the attention-probability gradients of every layer (what attention attribution reads). The forward's first rows are the same bit for bit; the gradients differ only by float32 rounding
/// (the last layer's sums run in another order).
/// </summary>
public class FirstTokenBackwardTests
{
    [Theory]
    [InlineData("minilm-l6-sst2")]
    [InlineData("roberta-random")]
    [InlineData("distilbert-random")]
    [InlineData("electra-random")]
    [InlineData("random-bert-tiniest")]
    public void FirstTokenBackward_EqualsTheFullBackward(string name)
    {
        using var model = EncoderModel.Load(SharedData.Models(name));
        var batch = Batch(model);
        int d = model.Config.HiddenSize, E = model.Config.EmbeddingSize;
        var rng = new Random(5);
        var seeds = batch.Select(b =>
        {
            var g = Tensor.Zeros(b.Input.Length, d);
            for (int k = 0; k < d; k++) g.Row(0)[k] = (float)(rng.NextDouble() - 0.5);
            return g;
        }).ToArray();

        var full = EncoderGradients.Forward(model.Encoder, batch);
        var first = EncoderGradients.Forward(model.Encoder, batch, firstTokensOnly: true);
        var expected = EncoderGradients.Backward(full, seeds, attentionProbs: true);
        var actual = EncoderGradients.Backward(first, seeds, attentionProbs: true);
        int L = model.Config.NumHiddenLayers;

        for (int s = 0; s < batch.Length; s++)
        {
            var lastFull = full.LastHiddenState(s);
            var lastFirst = first.LastHiddenState(s);
            Assert.True(lastFull.Row(0).SequenceEqual(lastFirst.Row(0)), $"text {s}: the first row differs from the full forward's");
            for (int i = 1; i < batch[s].Input.Length; i++) Assert.True(float.IsNaN(lastFirst.Row(i)[0]), $"text {s}, row {i}: not NaN");

            foreach (var (what, e, a) in new[] { ("word embeddings", expected[s].WordEmbeddings!, actual[s].WordEmbeddings!),
                                                 ("embeddings.output", expected[s].EmbeddingsOutput!, actual[s].EmbeddingsOutput!) })
            {
                Assert.Equal(e.Shape, a.Shape);
                double scale = e.Data.Max(v => Math.Abs(v));
                double diff = Compare.MaxAbsDiff(e.Data, a.Data);
                Assert.True(scale > 0, $"text {s}: {what} gradient is zero");
                Assert.True(diff <= 2e-5 * scale, $"{name}, text {s}: {what} differ by {diff:G3} (largest |value| {scale:G3})");
            }
            Assert.Equal(E, actual[s].WordEmbeddings!.Shape[1]);
            // ∂ℓ/∂A of every layer; in the last one only row 0 of each head is nonzero, in both backwards
            for (int l = 0; l < L; l++)
            {
                var e = expected[s].AttentionProbs[l]!;
                var a = actual[s].AttentionProbs[l]!;
                Assert.Equal(e.Shape, a.Shape);
                double scale = Math.Max(e.Data.Max(v => Math.Abs(v)), 1e-30), diff = Compare.MaxAbsDiff(e.Data, a.Data);
                Assert.True(diff <= 2e-5 * scale, $"{name}, text {s}, layer {l}: dA differ by {diff:G3} (largest |value| {scale:G3})");
            }
            int n = batch[s].Input.Length;
            for (int h = 0; h < model.Config.NumAttentionHeads; h++)
                for (int i = 1; i < n; i++)
                    for (int j = 0; j < n; j++) Assert.Equal(0f, actual[s].AttentionProbs[L - 1]![h, i, j]);
        }
    }

    [Fact]
    public void FirstTokenBackward_RefusesWhatItCannotGive()
    {
        using var model = EncoderModel.Load(SharedData.Models("minilm-l6-sst2"));
        var batch = Batch(model);
        var forward = EncoderGradients.Forward(model.Encoder, batch, firstTokensOnly: true);
        int d = model.Config.HiddenSize;
        var seeds = batch.Select(b => Tensor.Zeros(b.Input.Length, d)).ToArray();

        seeds[1].Row(2)[3] = 1f;   // a gradient past the first token: that row was never computed
        var e = Assert.Throws<ArgumentException>(() => EncoderGradients.Backward(forward, seeds));
        Assert.Contains("first token only", e.Message);
        seeds[1].Row(2)[3] = 0f;

        e = Assert.Throws<ArgumentException>(() => EncoderGradients.Forward(model.Encoder, batch,
            new ScaleAttentionProbs(model.Config.NumHiddenLayers - 1, [1f, 1f, 1f, 1f]), firstTokensOnly: true));
        Assert.Contains("no patch of its last layer", e.Message);
    }

    /// <summary>Four texts of mixed lengths: a one-token-longer copy, a padded one (attention mask), and one with its
    /// word-embedding rows given (scaled by 0.3, as an interpolation of integrated gradients).</summary>
    static GradientInput[] Batch(EncoderModel model)
    {
        string[] texts = ["the movie was not good at all , and yet i liked it", "fine", "an utterly charming and hilarious film"];
        var inputs = texts.Select(t => EncoderInput.From(model.Tokenize(t, truncate: true))).ToList();
        int n = inputs[2].Length;
        inputs.Add(new EncoderInput([.. inputs[2].InputIds, 0, 0], [.. inputs[2].TokenTypeIds, 0, 0], [.. Enumerable.Repeat(1, n), 0, 0]));
        var rows = MixLens.Analysis.Methods.ClassifierGradient.WordRows(model.Encoder, inputs[0]).Data.Select(v => 0.3f * v).ToArray();
        return [new GradientInput(inputs[0], rows), new GradientInput(inputs[1]), new GradientInput(inputs[2]), new GradientInput(inputs[3])];
    }
}
