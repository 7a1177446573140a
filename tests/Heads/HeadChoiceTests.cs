using System.Text.Json.Nodes;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Tests.Cli;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Heads;

/// <summary>
/// Which head a command runs when a BERT checkpoint's <c>classifier.weight</c> [labels, d] could be a sequence or a
/// token classifier's (the pooler alone does not settle it): <c>architectures</c> in config.json decides when it names
/// one; without it, <c>classify</c> reads the sequence head and <c>tag</c> the token head. And a masked-LM head with no
/// stored decoder under <c>tie_word_embeddings: false</c>, which HF would initialise randomly.
/// </summary>
public class HeadChoiceTests
{
    const double Tolerance = 1e-5;

    /// <summary>bert-mlm-random's encoder (its cls. head left out) plus a pooler and a 3-label classifier.</summary>
    static SyntheticCheckpoint PoolerAndClassifier(int seed)
    {
        var checkpoint = new SyntheticCheckpoint("bert-mlm-random", seed) { Exclude = name => name.StartsWith("cls.", StringComparison.Ordinal) };
        checkpoint.Add("bert.pooler.dense.weight", 0.3f, 32, 32);
        checkpoint.Add("bert.pooler.dense.bias", 0.1f, 32);
        checkpoint.Add("classifier.weight", 0.8f, 3, 32);
        checkpoint.Add("classifier.bias", 0.2f, 3);
        return checkpoint;
    }

    static Action<JsonObject> Architectures(params string[] names) => c =>
    {
        c.Remove("architectures");
        if (names.Length > 0) c["architectures"] = new JsonArray(names.Select(n => (JsonNode)n).ToArray());
        c["id2label"] = new JsonObject { ["0"] = "O", ["1"] = "B-PER", ["2"] = "I-PER" };
    };

    [Fact]
    public void Load_PoolerAndClassifierWithoutArchitectures_ClassifyRunsTheSequenceHeadAndTagTheTokenHead()
    {
        using var checkpoint = PoolerAndClassifier(seed: 41);
        string dir = checkpoint.Write(editConfig: Architectures());
        using var model = EncoderModel.Load(dir);
        Assert.Equal("BertForSequenceClassification", model.Classifier!.HfClass);
        Assert.NotNull(model.TokenClassifier);

        var encoding = model.Tokenize("Angela Merkel visited Paris.");
        var hidden = model.Encoder.Forward(EncoderInput.From(encoding)).LastHiddenState;
        // classify: tanh(h_0 W_poolᵀ + b_pool) W_clsᵀ + b_cls
        var pooled = ReferenceMath.Linear(checkpoint["bert.pooler.dense.weight"], checkpoint["bert.pooler.dense.bias"], ReferenceMath.ToDouble(hidden.Row(0)))
            .Select(Math.Tanh).ToArray();
        var sequenceLogits = ReferenceMath.Linear(checkpoint["classifier.weight"], checkpoint["classifier.bias"], pooled);
        Compare.AllClose("sequence logits", sequenceLogits.Select(v => (float)v).ToArray(), model.Classify([encoding])[0].Logits, [3],
            new Tolerance(Tolerance, 0));
        // tag: h_t W_clsᵀ + b_cls on every token, no pooler
        var tagged = model.Tag(encoding);
        for (int t = 0; t < encoding.Length; t++)
        {
            var expected = ReferenceMath.Linear(checkpoint["classifier.weight"], checkpoint["classifier.bias"], ReferenceMath.ToDouble(hidden.Row(t)));
            Compare.AllClose($"token {t} logits", expected.Select(v => (float)v).ToArray(), tagged.Logits.Row(t).ToArray(), [3], new Tolerance(Tolerance, 0));
        }

        // Both commands run on it.
        Assert.Equal(encoding.Length, CliHarness.RunOk("tag", "--model", dir, "--text", "Angela Merkel visited Paris.").StdoutLines.Length);
        Assert.Single(CliHarness.RunOk("classify", "--model", dir, "--text", "Angela Merkel visited Paris.").StdoutLines);
    }

    [Fact]
    public void Load_DeclaredTokenClassifierWithPooler_TagRunsItAndClassifySaysWhatItIs()
    {
        using var checkpoint = PoolerAndClassifier(seed: 42);
        string dir = checkpoint.Write(editConfig: Architectures("BertForTokenClassification"));
        using var model = EncoderModel.Load(dir);
        Assert.Null(model.Classifier);
        Assert.NotNull(model.TokenClassifier);
        var e = Assert.Throws<ModelFormatException>(() => model.RequireClassifier());
        Assert.Equal($"classify: {dir} is a token classifier (architectures: BertForTokenClassification); classify needs a sequence-classification head", e.Message);

        string line = CliHarness.RunUserError("is a token classifier", "classify", "--model", dir, "--text", "x");
        Assert.EndsWith("classify needs a sequence-classification head", line);
        CliHarness.RunOk("tag", "--model", dir, "--text", "x");
    }

    [Fact]
    public void Load_DeclaredSequenceClassifier_ClassifyRunsItAndTagSaysWhatItIs()
    {
        using var checkpoint = PoolerAndClassifier(seed: 43);
        string dir = checkpoint.Write(editConfig: Architectures("BertForSequenceClassification"));
        using var model = EncoderModel.Load(dir);
        Assert.NotNull(model.Classifier);
        Assert.Null(model.TokenClassifier);
        Assert.False(model.CanTag);
        var e = Assert.Throws<ModelFormatException>(() => model.Tag(model.Tokenize("x")));
        Assert.Equal($"tag: {dir} is a sequence classifier (architectures: BertForSequenceClassification); tag needs a token-classification head", e.Message);

        string line = CliHarness.RunUserError("is a sequence classifier", "tag", "--model", dir, "--text", "x");
        Assert.EndsWith("tag needs a token-classification head", line);
        CliHarness.RunOk("classify", "--model", dir, "--text", "x");
    }

    // ---- tie_word_embeddings -------------------------------------------------------------------------------------

    /// <summary>bert-mlm-random's encoder plus a BertForMaskedLM head without a stored decoder.</summary>
    static SyntheticCheckpoint MlmWithoutDecoder(int seed)
    {
        var checkpoint = new SyntheticCheckpoint("bert-mlm-random", seed) { Exclude = name => name.StartsWith("cls.", StringComparison.Ordinal) };
        checkpoint.Add("cls.predictions.transform.dense.weight", 0.3f, 32, 32);
        checkpoint.Add("cls.predictions.transform.dense.bias", 0.1f, 32);
        checkpoint.Add("cls.predictions.transform.LayerNorm.weight", 0.2f, 32);
        checkpoint.Add("cls.predictions.transform.LayerNorm.bias", 0.2f, 32);
        checkpoint.Add("cls.predictions.bias", 0.5f, 30522);
        return checkpoint;
    }

    [Fact]
    public void FillMask_UntiedConfigWithoutStoredDecoder_FailsNamingTheTensorAndTheFlag()
    {
        using var checkpoint = MlmWithoutDecoder(seed: 44);
        string dir = checkpoint.Write(editConfig: c => c["tie_word_embeddings"] = false);
        using var model = EncoderModel.Load(dir); // the encoder still loads
        Assert.False(model.Config.TieWordEmbeddings);
        Assert.Null(model.MaskedLm);
        var e = Assert.Throws<ModelFormatException>(() => model.RequireMaskedLm());
        Assert.Contains("the BertForMaskedLM head stores no 'cls.predictions.decoder.weight' and config.json sets \"tie_word_embeddings\": false", e.Message);

        string line = CliHarness.RunUserError("stores no 'cls.predictions.decoder.weight'", "fill-mask", "--model", dir, "--text", "Paris is the [MASK] of France.");
        Assert.Contains("tie_word_embeddings", line);
        Assert.Contains("HF would initialise it randomly", line);
    }

    [Fact]
    public void FillMask_UntiedConfigWithStoredDecoder_UsesTheDecoder()
    {
        using var checkpoint = MlmWithoutDecoder(seed: 45);
        checkpoint.Add("cls.predictions.decoder.weight", 0.3f, 30522, 32);
        string dir = checkpoint.Write(editConfig: c => c["tie_word_embeddings"] = false);
        using var model = EncoderModel.Load(dir);
        Assert.False(model.MaskedLm!.TiedDecoder);
    }

    [Fact]
    public void FillMask_TiedConfigWithoutStoredDecoder_TiesToTheWordEmbeddings()
    {
        using var checkpoint = MlmWithoutDecoder(seed: 46);
        string dir = checkpoint.Write(editConfig: c => c.Remove("tie_word_embeddings")); // HF's default: true
        using var model = EncoderModel.Load(dir);
        Assert.True(model.Config.TieWordEmbeddings);
        Assert.True(model.MaskedLm!.TiedDecoder);
    }
}
