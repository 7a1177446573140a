using MixLens.Analysis;
using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Gradients;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Docs;

/// <summary>The examples of docs/library.md, run as written; what they print is compared with the page's output blocks
/// (<c>library-forward</c>, <c>library-gradients</c>), numbers to the digits printed.</summary>
public class LibraryExampleTests(ITestOutputHelper output)
{
    const double Slack = 1e-5;

    static string PageBlock(string id) =>
        MarkedBlocks.Read(File.ReadAllText(Path.Combine(SharedData.RepoRoot, "docs", "library.md")))[id];

    void AssertPagePrints(string id, NumberBlock printed)
    {
        output.WriteLine(printed.ToString());
        Assert.True(printed.Matches(PageBlock(id), Slack, out var why), $"docs/library.md block '{id}': {why}");
    }

    [Fact]
    public void LibraryForwardExample_PrintsThePageOutput()
    {
        var printed = new NumberBlock();

        using var model = EncoderModel.Load(SharedData.Models("all-MiniLM-L6-v2"));
        var encoding = model.Tokenize("The quick brown fox jumps over the lazy dog.");
        var input = EncoderInput.From(encoding);

        var (hidden, trace) = model.Encoder.Forward(input, TraceRequest.All);
        Tensor probs = trace["layers.0.attention.probs"];
        printed.Line($"{encoding.Length} tokens, last hidden state {hidden}, {probs}");

        Tensor vz = MixingMethods.Compute(MixingMethod.ValueZeroing, model.Encoder, input, trace);
        int last = model.Config.NumHiddenLayers - 1;
        printed.Text($"'{encoding.Tokens[4]}' draws ").Number(vz[last, 4, 3], "F2").Line($" on '{encoding.Tokens[3]}' in layer {last}");

        float[] embedding = model.Embed([encoding])[0];
        printed.Line($"embedding [{embedding.Length}]");

        AssertPagePrints("library-forward", printed);
        Assert.Same(probs, trace[0, LayerStep.Probs]);
    }

    [Fact]
    public void LibraryGradientExample_PrintsThePageOutput()
    {
        var printed = new NumberBlock();

        using var model = EncoderModel.Load(SharedData.Models("minilm-l6-sst2"));
        var encoding = model.Tokenize("a gorgeous, witty, seductive movie.");
        var input = EncoderInput.From(encoding);
        var head = model.RequireClassifier();

        // Saliency and integrated gradients of the predicted class: one score per token.
        float[] saliency = Saliency.Compute(model.Encoder, head, input);
        var special = encoding.SpecialTokensMask.Select(m => m != 0).ToArray();
        var ig = IntegratedGradients.Compute(model.Encoder, head, input, special, model.Config.PadTokenId);
        printed.Text($"class {head.Labels[ig.Target]}: sum of IG ").Number(ig.Sum, "F4").Text(", z(x) - z(x') ").Number(ig.Gap, "F4").Line();
        for (int j = 0; j < encoding.Length; j++)
            printed.Text($"{encoding.Tokens[j],-10} ").Number(saliency[j], "F4", 8).Text(" ").Number(ig.Scores[j], "F4", 8).Line();

        // The backward itself, for any scalar of the last hidden state: here the sum of h_0's features.
        var forward = EncoderGradients.Forward(model.Encoder, [new GradientInput(input)]);
        var seed = Tensor.Zeros(encoding.Length, model.Config.HiddenSize);
        seed.Row(0).Fill(1);
        var gradients = EncoderGradients.Backward(forward, [seed], attentionProbs: true)[0];
        printed.Line($"{gradients.WordEmbeddings} {gradients.EmbeddingsOutput} {gradients.AttentionProbs[0]}");

        AssertPagePrints("library-gradients", printed);
        Assert.True(Math.Abs(ig.Sum - ig.Gap) < 1e-3 * Math.Max(1, Math.Abs(ig.Gap)), $"IG completeness: {ig.Sum} vs {ig.Gap}");
        Assert.Equal([encoding.Length, model.Config.EmbeddingSize], gradients.WordEmbeddings!.Shape);
        Assert.Equal([model.Config.NumAttentionHeads, encoding.Length, encoding.Length], gradients.AttentionProbs[0]!.Shape);
    }
}
