using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Gradients;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Gradients;

/// <summary>The gradient example of docs/library.md ("Gradients"), run as written; its output is what the page
/// shows.</summary>
public class LibraryExampleTests(ITestOutputHelper output)
{
    [Fact]
    public void ReadmeGradientExample_Runs()
    {
        var lines = new List<string>();
        void WriteLine(string line) { lines.Add(line); output.WriteLine(line); }

        using var model = EncoderModel.Load(SharedData.Models("minilm-l6-sst2"));
        var encoding = model.Tokenize("a gorgeous, witty, seductive movie.");
        var input = EncoderInput.From(encoding);
        var head = model.RequireClassifier();

        // Saliency and integrated gradients of the predicted class: one score per token.
        float[] saliency = Saliency.Compute(model.Encoder, head, input);
        var special = encoding.SpecialTokensMask.Select(m => m != 0).ToArray();
        var ig = IntegratedGradients.Compute(model.Encoder, head, input, special, model.Config.PadTokenId);
        WriteLine($"class {head.Labels[ig.Target]}: sum of IG {ig.Sum:F4}, z(x) - z(x') {ig.Gap:F4}");
        for (int j = 0; j < encoding.Length; j++) WriteLine($"{encoding.Tokens[j],-10} {saliency[j],8:F4} {ig.Scores[j],8:F4}");

        // The backward itself, for any scalar of the last hidden state: here the sum of h_0's features.
        var forward = EncoderGradients.Forward(model.Encoder, [new GradientInput(input)]);
        var seed = Tensor.Zeros(encoding.Length, model.Config.HiddenSize);
        seed.Row(0).Fill(1);
        var gradients = EncoderGradients.Backward(forward, [seed], attentionProbs: true)[0];
        WriteLine($"{gradients.WordEmbeddings} {gradients.EmbeddingsOutput} {gradients.AttentionProbs[0]}");

        Assert.Equal(encoding.Length + 2, lines.Count);
        Assert.True(Math.Abs(ig.Sum - ig.Gap) < 1e-3 * Math.Max(1, Math.Abs(ig.Gap)), $"IG completeness: {ig.Sum} vs {ig.Gap}");
        Assert.Equal([encoding.Length, model.Config.EmbeddingSize], gradients.WordEmbeddings!.Shape);
        Assert.Equal([model.Config.NumAttentionHeads, encoding.Length, encoding.Length], gradients.AttentionProbs[0]!.Shape);
    }
}
