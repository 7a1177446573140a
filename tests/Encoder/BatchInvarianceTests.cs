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

    /// <summary>Long texts run a head's attention in blocks of query rows (<c>SelfAttention.QueryBlockRows</c>); a
    /// trace of the probabilities needs the whole matrix and gets one block. Rows are independent, so both must agree
    /// bit for bit, with padding masked and at a length that leaves a short last block.</summary>
    [Theory]
    [InlineData("all-MiniLM-L6-v2", 512)]
    [InlineData("bert-mlm-random", 509)]
    public void Forward_LongText_QueryRowBlocksEqualOneBlockBitForBit(string model, int n)
    {
        var encoder = ModelFixtures.Encoder(model);
        Assert.True((long)n * n * sizeof(float) > MixLens.Kernels.CacheSizes.L2 / 4,
            $"n = {n}: its scores fit a quarter of this machine's L2 ({MixLens.Kernels.CacheSizes.L2} bytes), so they would not be split");
        var rng = new Random(n);
        var ids = Enumerable.Range(0, n).Select(j => j == 0 ? 101 : j == n - 1 ? 102 : 1000 + rng.Next(20000)).ToArray();
        var mask = Enumerable.Range(0, n).Select(j => j < n - 3 ? 1 : 0).ToArray();
        var input = new EncoderInput(ids, new int[n], mask);

        var (blocked, _) = encoder.Forward(input);
        var (whole, trace) = encoder.Forward(input, TraceRequest.Steps(false, LayerStep.Probs));

        Assert.NotNull(trace[0, LayerStep.Probs]);
        Assert.True(blocked.Data.AsSpan().SequenceEqual(whole.Data),
            $"blocked attention differs from one block by up to {Compare.MaxAbsDiff(blocked.Data, whole.Data):G3}");
    }
}
