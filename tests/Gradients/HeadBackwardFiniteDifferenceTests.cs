using MixLens.Engine;
using MixLens.Engine.Heads;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Heads;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Gradients;

/// <summary>
/// <see cref="SequenceClassifier.Backward"/> of every family's head against central finite differences (h = 1e-5) of the
/// head written here in float64, ℓ = Σ_c w_c z_c(h_0) with z = W_2 act(W_1 h_0 + b_1) + b_2, with respect to the first
/// token's hidden state h_0 [d]: BERT's tanh pooler (the real minilm-l6-sst2 head), RoBERTa's dense + tanh + out_proj,
/// ELECTRA's dense + GELU + out_proj, DistilBERT's pre_classifier + ReLU (synthetic heads on the random encoders).
/// h_0 is the encoder's last hidden state of a text; w is each one-hot and a random combination.
/// </summary>
public class HeadBackwardFiniteDifferenceTests(ITestOutputHelper output)
{
    const double RelativeTolerance = 1e-5;

    /// <summary>The head's weights in float64 terms: W_1 [d, d], b_1, act, W_2 [labels, d], b_2.</summary>
    sealed record HeadWeights(float[] W1, float[] B1, Func<double, double> Act, float[] W2, float[] B2, bool Relu = false);

    static double[] Logits(HeadWeights w, double[] h0)
    {
        var u = ReferenceMath.Linear(w.W1, w.B1, h0);
        return ReferenceMath.Linear(w.W2, w.B2, u.Select(w.Act).ToArray());
    }

    static double Gelu(double u) => Float64Encoder.Activate(Activation.Gelu, u);

    void Check(string family, EncoderModel model, HeadWeights weights, string text)
    {
        var head = model.Classifier!;
        var hidden = model.Encoder.Forward(EncoderInput.From(model.Tokenize(text))).LastHiddenState; // [n, d]
        int d = hidden.Shape[1], labels = head.Labels.Count;
        var h0 = hidden.Row(0).ToArray().Select(v => (double)v).ToArray();
        // the ReLU pattern of the head at h_0 (DistilBERT), to keep each finite difference on one side of every kink
        ulong Kinks(double[] x) => !weights.Relu ? 0 : ReferenceMath.Linear(weights.W1, weights.B1, x)
            .Aggregate(14695981039346656037UL, (s, u) => (s ^ (u > 0 ? 1UL : 2UL)) * 1099511628211UL);

        var targets = Enumerable.Range(0, labels).Select(c => Enumerable.Range(0, labels).Select(k => k == c ? 1f : 0f).ToArray())
            .Append(FiniteDifferences.RandomFloats(labels, seed: labels)).ToArray();
        foreach (var w in targets)
        {
            var gradient = head.Backward(hidden, w);
            Assert.Equal(d, gradient.Length);
            var check = new GradientCheck($"{family} head, dlogits [{string.Join(", ", w.Select(v => v.ToString("G3")))}]", gradient);
            for (int k = 0; k < d; k++)
                check.Coordinate(k, FiniteDifferences.Central(step =>
                {
                    var x = (double[])h0.Clone();
                    x[k] += step;
                    double loss = Logits(weights, x).Select((z, c) => z * w[c]).Sum();
                    return new LossAt(loss, Kinks(x));
                }, Kinks(h0)));
            check.Assert(RelativeTolerance, output);
        }
    }

    [Fact]
    public void Backward_BertTanhPooler_MatchesFiniteDifferences()
    {
        var model = GradientFixtures.EncoderModel("minilm-l6-sst2");
        using var file = SafeTensorsFile.Open(Path.Combine(SharedData.Models("minilm-l6-sst2"), "model.safetensors"));
        var weights = new HeadWeights(
            file.GetFloat32("bert.pooler.dense.weight").ToArray(), file.GetFloat32("bert.pooler.dense.bias").ToArray(), Math.Tanh,
            file.GetFloat32("classifier.weight").ToArray(), file.GetFloat32("classifier.bias").ToArray());
        Assert.Equal("BertForSequenceClassification", model.Classifier!.HfClass);
        Check("BERT (minilm-l6-sst2)", model, weights, "a gorgeous, witty, seductive movie.");
    }

    [Fact]
    public void Backward_RobertaDenseTanhOutProj_MatchesFiniteDifferences()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(labels: 3, seed: 21);
        using var model = EncoderModel.Load(checkpoint.Write("roberta."));
        Assert.Equal("RobertaForSequenceClassification", model.Classifier!.HfClass);
        Check("RoBERTa", model, new HeadWeights(checkpoint["classifier.dense.weight"], checkpoint["classifier.dense.bias"], Math.Tanh,
            checkpoint["classifier.out_proj.weight"], checkpoint["classifier.out_proj.bias"]), "The movie was long but good.");
    }

    [Fact]
    public void Backward_ElectraDenseGeluOutProj_MatchesFiniteDifferences()
    {
        using var checkpoint = new SyntheticCheckpoint("electra-random", seed: 22);
        checkpoint.Add("classifier.dense.weight", 0.3f, 32, 32);
        checkpoint.Add("classifier.dense.bias", 0.1f, 32);
        checkpoint.Add("classifier.out_proj.weight", 0.5f, 2, 32);
        checkpoint.Add("classifier.out_proj.bias", 0.1f, 2);
        using var model = EncoderModel.Load(checkpoint.Write("electra."));
        Assert.Equal("ElectraForSequenceClassification", model.Classifier!.HfClass);
        Check("ELECTRA", model, new HeadWeights(checkpoint["classifier.dense.weight"], checkpoint["classifier.dense.bias"], Gelu,
            checkpoint["classifier.out_proj.weight"], checkpoint["classifier.out_proj.bias"]), "A gorgeous, witty, seductive movie.");
    }

    [Fact]
    public void Backward_DistilBertPreClassifierRelu_MatchesFiniteDifferences()
    {
        using var checkpoint = new SyntheticCheckpoint("distilbert-random", seed: 23);
        checkpoint.Add("pre_classifier.weight", 0.3f, 32, 32);
        checkpoint.Add("pre_classifier.bias", 0.1f, 32);
        checkpoint.Add("classifier.weight", 0.5f, 4, 32);
        checkpoint.Add("classifier.bias", 0.1f, 4);
        using var model = EncoderModel.Load(checkpoint.Write("distilbert."));
        Assert.Equal("DistilBertForSequenceClassification", model.Classifier!.HfClass);
        Check("DistilBERT", model, new HeadWeights(checkpoint["pre_classifier.weight"], checkpoint["pre_classifier.bias"], u => Math.Max(0, u),
            checkpoint["classifier.weight"], checkpoint["classifier.bias"], Relu: true), "Where is the station?");
    }
}
