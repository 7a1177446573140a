using System.Text.Json.Nodes;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Heads;

/// <summary>
/// The task heads of RoBERTa, DistilBERT and ELECTRA, which no shared checkpoint has: each family's encoder
/// (roberta-random, distilbert-random, electra-random, saved under its base-model prefix where HF would use one) plus
/// head tensors with seeded random values, against the head's equations computed here in float64 from the engine's
/// last hidden state (itself checked against the encoder fixtures).
/// </summary>
public class FamilyHeadTests
{
    const double Tolerance = 1e-5;

    static double[] Tanh(double[] x) => x.Select(Math.Tanh).ToArray();
    static double[] Relu(double[] x) => x.Select(v => Math.Max(0, v)).ToArray();
    static double[] Gelu(double[] x) => x.Select(ReferenceMath.Gelu).ToArray();

    /// <summary>Last hidden state [n, d] of a text, and the text's encoding.</summary>
    static (Tensor Hidden, Engine.Tokenization.Encoding Encoding) Run(EncoderModel model, string text)
    {
        var encoding = model.Tokenize(text);
        return (model.Encoder.Forward(EncoderInput.From(encoding)).LastHiddenState, encoding);
    }

    static void AssertClose(string what, double[] expected, float[] actual, double tolerance = Tolerance) =>
        Compare.AllClose(what, expected.Select(v => (float)v).ToArray(), actual, [actual.Length], new Tolerance(tolerance, 0));

    // ---- sequence classification ---------------------------------------------------------------------------------

    [Fact]
    public void Classify_RobertaHead_IsDenseTanhOutProjOnFirstToken()
    {
        using var checkpoint = new SyntheticCheckpoint("roberta-random", seed: 1);
        checkpoint.Add("classifier.dense.weight", 0.3f, 32, 32);
        checkpoint.Add("classifier.dense.bias", 0.1f, 32);
        checkpoint.Add("classifier.out_proj.weight", 0.5f, 3, 32);
        checkpoint.Add("classifier.out_proj.bias", 0.1f, 3);
        string dir = checkpoint.Write("roberta.", c => c["id2label"] = new JsonObject { ["0"] = "neg", ["1"] = "neu", ["2"] = "pos" });

        using var model = EncoderModel.Load(dir);
        Assert.Equal("roberta.", model.Encoder.Weights.Prefix);
        Assert.Equal("RobertaForSequenceClassification", model.Classifier!.HfClass);
        Assert.Equal(["neg", "neu", "pos"], model.Classifier.Labels);
        Assert.Null(model.TokenClassifier);

        var (hidden, encoding) = Run(model, "The movie was long but good.");
        var result = model.Classify([encoding])[0];
        var pooled = Tanh(ReferenceMath.Linear(checkpoint["classifier.dense.weight"], checkpoint["classifier.dense.bias"], ReferenceMath.ToDouble(hidden.Row(0))));
        var logits = ReferenceMath.Linear(checkpoint["classifier.out_proj.weight"], checkpoint["classifier.out_proj.bias"], pooled);
        AssertClose("roberta classifier logits", logits, result.Logits);
        Assert.Equal(Array.IndexOf(logits, logits.Max()), result.LabelId);
        Assert.Equal(1.0, result.Scores.Sum(), 5);
    }

    [Fact]
    public void Classify_DistilBertHead_IsPreClassifierReluClassifier()
    {
        using var checkpoint = new SyntheticCheckpoint("distilbert-random", seed: 2);
        checkpoint.Add("pre_classifier.weight", 0.3f, 32, 32);
        checkpoint.Add("pre_classifier.bias", 0.1f, 32);
        checkpoint.Add("classifier.weight", 0.5f, 2, 32);
        checkpoint.Add("classifier.bias", 0.1f, 2);
        string dir = checkpoint.Write("distilbert.");

        using var model = EncoderModel.Load(dir);
        Assert.Equal("distilbert.", model.Encoder.Weights.Prefix);
        Assert.Equal("DistilBertForSequenceClassification", model.Classifier!.HfClass);
        Assert.Equal(["LABEL_0", "LABEL_1"], model.Classifier.Labels);
        // No architectures: classifier.weight [2, 32] could be either head's, so both are read (classify runs this
        // one, tag the token classifier).
        Assert.NotNull(model.TokenClassifier);

        var (hidden, encoding) = Run(model, "Where is the station?");
        var pooled = Relu(ReferenceMath.Linear(checkpoint["pre_classifier.weight"], checkpoint["pre_classifier.bias"], ReferenceMath.ToDouble(hidden.Row(0))));
        var logits = ReferenceMath.Linear(checkpoint["classifier.weight"], checkpoint["classifier.bias"], pooled);
        AssertClose("distilbert classifier logits", logits, model.Classify([encoding])[0].Logits);
    }

    [Fact]
    public void Classify_ElectraHead_IsDenseGeluOutProj()
    {
        using var checkpoint = new SyntheticCheckpoint("electra-random", seed: 3);
        checkpoint.Add("classifier.dense.weight", 0.3f, 32, 32);
        checkpoint.Add("classifier.dense.bias", 0.1f, 32);
        checkpoint.Add("classifier.out_proj.weight", 0.5f, 2, 32);
        checkpoint.Add("classifier.out_proj.bias", 0.1f, 2);
        string dir = checkpoint.Write("electra.");

        using var model = EncoderModel.Load(dir);
        Assert.Equal("ElectraForSequenceClassification", model.Classifier!.HfClass);
        var (hidden, encoding) = Run(model, "A gorgeous, witty, seductive movie.");
        var pooled = Gelu(ReferenceMath.Linear(checkpoint["classifier.dense.weight"], checkpoint["classifier.dense.bias"], ReferenceMath.ToDouble(hidden.Row(0))));
        var logits = ReferenceMath.Linear(checkpoint["classifier.out_proj.weight"], checkpoint["classifier.out_proj.bias"], pooled);
        AssertClose("electra classifier logits", logits, model.Classify([encoding])[0].Logits);
    }

    [Fact]
    public void Load_Id2LabelDisagreeingWithHead_FailsNamingBoth()
    {
        using var checkpoint = new SyntheticCheckpoint("roberta-random", seed: 4);
        checkpoint.Add("classifier.dense.weight", 0.3f, 32, 32);
        checkpoint.Add("classifier.dense.bias", 0.1f, 32);
        checkpoint.Add("classifier.out_proj.weight", 0.5f, 3, 32);
        checkpoint.Add("classifier.out_proj.bias", 0.1f, 3);
        string dir = checkpoint.Write(editConfig: c => c["id2label"] = new JsonObject { ["0"] = "a", ["1"] = "b" });
        using var model = EncoderModel.Load(dir); // the encoder loads; the head's error waits for its command
        Assert.Null(model.Classifier);
        Assert.Null(model.TokenClassifier);       // the classifier weights are still the sequence head's
        var e = Assert.Throws<ModelFormatException>(() => model.RequireClassifier());
        Assert.Contains("id2label has 2 labels but classifier.out_proj.weight has 3 rows", e.Message);
    }

    [Fact]
    public void Load_SequenceHeadWithoutBias_FailsNamingTheBias()
    {
        using var checkpoint = new SyntheticCheckpoint("electra-random", seed: 5);
        checkpoint.Add("classifier.dense.weight", 0.3f, 32, 32);
        checkpoint.Add("classifier.dense.bias", 0.1f, 32);
        checkpoint.Add("classifier.out_proj.weight", 0.5f, 2, 32);
        string dir = checkpoint.Write();
        using var model = EncoderModel.Load(dir);
        var e = Assert.Throws<ModelFormatException>(() => model.Classify([model.Tokenize("x")]));
        Assert.Contains("missing weight 'classifier.out_proj.bias'", e.Message);
    }

    // ---- token classification ------------------------------------------------------------------------------------

    [Fact]
    public void Tag_RobertaTokenClassifier_IsOneLinearLayerOnEveryToken()
    {
        using var checkpoint = new SyntheticCheckpoint("roberta-random", seed: 6);
        checkpoint.Add("classifier.weight", 0.5f, 4, 32);
        checkpoint.Add("classifier.bias", 0.1f, 4);
        string dir = checkpoint.Write("roberta.", c => c["architectures"] = new JsonArray("RobertaForTokenClassification"));

        using var model = EncoderModel.Load(dir);
        Assert.Null(model.Classifier);
        var (hidden, encoding) = Run(model, "Angela Merkel visited Paris.");
        var result = model.Tag(encoding);
        Assert.Equal(new[] { encoding.Length, 4 }, result.Logits.Shape);
        for (int t = 0; t < encoding.Length; t++)
        {
            var logits = ReferenceMath.Linear(checkpoint["classifier.weight"], checkpoint["classifier.bias"], ReferenceMath.ToDouble(hidden.Row(t)));
            AssertClose($"token {t} logits", logits, result.Logits.Row(t).ToArray());
            Assert.Equal($"LABEL_{Array.IndexOf(logits, logits.Max())}", result.Labels[t]);
        }
    }

    [Fact]
    public void Load_DistilBertClassifierWithoutPreClassifier_IsATokenClassifier()
    {
        using var checkpoint = new SyntheticCheckpoint("distilbert-random", seed: 7);
        checkpoint.Add("classifier.weight", 0.5f, 3, 32);
        checkpoint.Add("classifier.bias", 0.1f, 3);
        using var model = EncoderModel.Load(checkpoint.Write());
        Assert.NotNull(model.TokenClassifier);
        Assert.Null(model.Classifier);
        var e = Assert.Throws<ModelFormatException>(() => model.Classify([model.Tokenize("x")]));
        Assert.Contains("missing 'pre_classifier.weight'", e.Message);
    }

    // ---- masked LM -----------------------------------------------------------------------------------------------

    /// <summary>The reference logits [V] of one position: LayerNorm(act(h W_tᵀ + b_t)) W_decᵀ + b_dec.</summary>
    static double[] MlmReference(ReadOnlySpan<float> h, float[] transformW, float[] transformB, Func<double[], double[]> act,
        float[] gamma, float[] beta, double eps, ReadOnlySpan<float> decoder, float[] bias) =>
        ReferenceMath.Linear(decoder, bias, ReferenceMath.LayerNorm(act(ReferenceMath.Linear(transformW, transformB, ReferenceMath.ToDouble(h))), gamma, beta, eps));

    static void CheckMaskedLm(EncoderModel model, string text, Func<Tensor, int, double[]> reference)
    {
        var encoding = model.Tokenize(text);
        var hidden = model.Encoder.Forward(EncoderInput.From(encoding)).LastHiddenState;
        var positions = Enumerable.Range(0, encoding.Length).Where(t => encoding.Ids[t] == model.Tokenizer.MaskId).ToArray();
        Assert.NotEmpty(positions);
        var logits = model.MaskedLm!.Logits(hidden, positions);
        var predictions = model.FillMask(encoding, topK: 3);
        for (int m = 0; m < positions.Length; m++)
        {
            var expected = reference(hidden, positions[m]);
            AssertClose($"mask {m} logits", expected, logits.Row(m).ToArray(), 1e-4);
            var best = expected.Select((z, id) => (z, id)).OrderByDescending(p => p.z).Take(3).Select(p => p.id);
            Assert.Equal(best, predictions[m].Candidates.Select(c => c.Id));
            Assert.Equal(model.Tokenizer.IdToToken(predictions[m].Candidates[0].Id), predictions[m].Candidates[0].Token);
        }
    }

    [Fact]
    public void FillMask_RobertaLmHead_GeluLayerNormTiedDecoder()
    {
        using var checkpoint = new SyntheticCheckpoint("roberta-random", seed: 8);
        var w = checkpoint.Add("lm_head.dense.weight", 0.3f, 32, 32);
        var b = checkpoint.Add("lm_head.dense.bias", 0.1f, 32);
        var gamma = checkpoint.Add("lm_head.layer_norm.weight", 0.2f, 32);
        var beta = checkpoint.Add("lm_head.layer_norm.bias", 0.2f, 32);
        var bias = checkpoint.Add("lm_head.bias", 0.5f, 50265);
        using var model = EncoderModel.Load(checkpoint.Write("roberta."));
        Assert.Equal("RobertaForMaskedLM", model.MaskedLm!.HfClass);
        Assert.True(model.MaskedLm.TiedDecoder);
        var word = model.Encoder.Weights.Embeddings.Word;
        CheckMaskedLm(model, "The capital of France is <mask>.", (h, p) => MlmReference(h.Row(p), w, b, Gelu, gamma, beta, 1e-5, word.Span, bias));
    }

    [Fact]
    public void FillMask_DistilBertHead_StoredProjector()
    {
        using var checkpoint = new SyntheticCheckpoint("distilbert-random", seed: 9);
        var w = checkpoint.Add("vocab_transform.weight", 0.3f, 32, 32);
        var b = checkpoint.Add("vocab_transform.bias", 0.1f, 32);
        var gamma = checkpoint.Add("vocab_layer_norm.weight", 0.2f, 32);
        var beta = checkpoint.Add("vocab_layer_norm.bias", 0.2f, 32);
        var decoder = checkpoint.Add("vocab_projector.weight", 0.3f, 30522, 32);
        var bias = checkpoint.Add("vocab_projector.bias", 0.5f, 30522);
        using var model = EncoderModel.Load(checkpoint.Write());
        Assert.Equal("DistilBertForMaskedLM", model.MaskedLm!.HfClass);
        Assert.False(model.MaskedLm.TiedDecoder);
        CheckMaskedLm(model, "I [MASK] to the [MASK] yesterday.", (h, p) => MlmReference(h.Row(p), w, b, Gelu, gamma, beta, 1e-12, decoder, bias));
    }

    [Fact]
    public void FillMask_ElectraGenerator_ProjectsToEmbeddingWidthAndTiesDecoder()
    {
        using var checkpoint = new SyntheticCheckpoint("electra-random", seed: 10);
        var w = checkpoint.Add("generator_predictions.dense.weight", 0.3f, 16, 32);
        var b = checkpoint.Add("generator_predictions.dense.bias", 0.1f, 16);
        var gamma = checkpoint.Add("generator_predictions.LayerNorm.weight", 0.2f, 16);
        var beta = checkpoint.Add("generator_predictions.LayerNorm.bias", 0.2f, 16);
        var bias = checkpoint.Add("generator_lm_head.bias", 0.5f, 30522);
        using var model = EncoderModel.Load(checkpoint.Write("electra."));
        Assert.Equal("ElectraForMaskedLM", model.MaskedLm!.HfClass);
        Assert.True(model.MaskedLm.TiedDecoder);
        var word = model.Encoder.Weights.Embeddings.Word; // [V, 16]
        CheckMaskedLm(model, "Paris is the [MASK] of France.", (h, p) => MlmReference(h.Row(p), w, b, Gelu, gamma, beta, 1e-12, word.Span, bias));
    }

    [Fact]
    public void Load_MaskedLmHeadWithoutBias_FailsNamingTheBias()
    {
        using var checkpoint = new SyntheticCheckpoint("roberta-random", seed: 11);
        checkpoint.Add("lm_head.dense.weight", 0.3f, 32, 32);
        checkpoint.Add("lm_head.dense.bias", 0.1f, 32);
        checkpoint.Add("lm_head.layer_norm.weight", 0.2f, 32);
        checkpoint.Add("lm_head.layer_norm.bias", 0.2f, 32);
        string dir = checkpoint.Write();
        using var model = EncoderModel.Load(dir);
        Assert.Null(model.MaskedLm);
        var e = Assert.Throws<ModelFormatException>(() => model.RequireMaskedLm());
        Assert.Contains("RobertaForMaskedLM head has 'lm_head.dense.weight' but no output bias", e.Message);
        Assert.Contains("'lm_head.bias' or 'lm_head.decoder.bias'", e.Message);
    }
}
