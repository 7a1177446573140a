using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MixLens.Engine;
using MixLens.Engine.Heads;
using MixLens.Engine.Model;
using MixLens.Tests.Cli;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Heads;

/// <summary>
/// What real hub checkpoints do that the shared random ones do not, on synthetic checkpoints (shared encoders plus
/// seeded head tensors) checked against the head equations in float64: problem_type (HF's text-classification
/// pipeline: sigmoid per label for multi-label or one label, raw output for regression), num_labels / label2id in
/// config.json, the ELECTRA discriminator (ElectraForPreTraining), BertForPreTraining names (cls.seq_relationship,
/// old gamma/beta LayerNorm names, the decoder bias stored only as cls.predictions.decoder.bias, a stored decoder),
/// RoBERTa's tokenizer.json with lstrip on &lt;mask&gt;, and odd inputs through the CLI.
/// </summary>
public class HubCheckpointHeadTests
{
    const double Tolerance = 1e-5;

    static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
    static double[] Tanh(double[] x) => x.Select(Math.Tanh).ToArray();
    static double[] Gelu(double[] x) => x.Select(ReferenceMath.Gelu).ToArray();

    static void AssertClose(string what, double[] expected, float[] actual, double tolerance = Tolerance) =>
        Compare.AllClose(what, expected.Select(v => (float)v).ToArray(), actual, [actual.Length], new Tolerance(tolerance, 0));

    static Tensor Hidden(EncoderModel model, Engine.Tokenization.Encoding encoding) =>
        model.Encoder.Forward(EncoderInput.From(encoding)).LastHiddenState;

    /// <summary>The RoBERTa classification head's logits in float64: tanh(h_0 W_1ᵀ + b_1) W_2ᵀ + b_2.</summary>
    static double[] RobertaLogits(SyntheticCheckpoint checkpoint, Tensor hidden) =>
        ReferenceMath.Linear(checkpoint["classifier.out_proj.weight"], checkpoint["classifier.out_proj.bias"],
            Tanh(ReferenceMath.Linear(checkpoint["classifier.dense.weight"], checkpoint["classifier.dense.bias"], ReferenceMath.ToDouble(hidden.Row(0)))));

    // ---- problem_type --------------------------------------------------------------------------------------------

    [Fact]
    public void Classify_MultiLabel_ScoresAreSigmoidPerLabel()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(3, seed: 21);
        string dir = checkpoint.Write("roberta.", c =>
        {
            c["problem_type"] = "multi_label_classification";
            c["id2label"] = new JsonObject { ["0"] = "toxic", ["1"] = "insult", ["2"] = "threat" };
        });
        using var model = EncoderModel.Load(dir);
        Assert.Equal(ScoreFunction.Sigmoid, model.Classifier!.Function);
        string text = "You are a wonderful person.";
        var encoding = model.Tokenize(text);
        var logits = RobertaLogits(checkpoint, Hidden(model, encoding));
        var result = model.Classify([encoding])[0];
        AssertClose("multi-label logits", logits, result.Logits);
        AssertClose("multi-label sigmoid scores", logits.Select(Sigmoid).ToArray(), result.Scores);
        Assert.Equal(ScoreFunction.Sigmoid, result.Function);
        int best = Array.IndexOf(logits, logits.Max());
        Assert.Equal(best, result.LabelId);

        var json = CliHarness.RunOk("classify", "--model", dir, "--text", text, "--format", "json");
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal("sigmoid", doc.RootElement.GetProperty("function").GetString());
        AssertClose("json probs", logits.Select(Sigmoid).ToArray(),
            doc.RootElement.GetProperty("probs").EnumerateArray().Select(v => v.GetSingle()).ToArray());

        var line = CliHarness.RunOk("classify", "--model", dir, "--text", text).StdoutLines.Single();
        string[] names = ["toxic", "insult", "threat"];
        string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
        var others = Enumerable.Range(0, 3).Where(k => k != best).Select(k => $"{names[k]} {F(Sigmoid(logits[k]))}");
        Assert.Equal($"{names[best]} {F(Sigmoid(logits[best]))} ({string.Join(", ", others)}) [sigmoid per label]", line);
    }

    [Fact]
    public void Classify_Regression_ReportsTheRawScore()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(1, seed: 22);
        string dir = checkpoint.Write("roberta.", c =>
        {
            c["problem_type"] = "regression";
            c["id2label"] = new JsonObject { ["0"] = "LABEL_0" };
        });
        using var model = EncoderModel.Load(dir);
        Assert.Equal(ScoreFunction.None, model.Classifier!.Function);
        string text = "A man is playing a guitar.";
        var logits = RobertaLogits(checkpoint, Hidden(model, model.Tokenize(text)));
        var result = model.Classify([model.Tokenize(text)])[0];
        AssertClose("regression score", logits, result.Scores);

        var line = CliHarness.RunOk("classify", "--model", dir, "--text", text).StdoutLines.Single();
        Assert.Equal($"LABEL_0 {logits[0].ToString("0.0000", CultureInfo.InvariantCulture)} (regression)", line);
        var json = CliHarness.RunOk("classify", "--model", dir, "--text", text, "--format", "json");
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal("none", doc.RootElement.GetProperty("function").GetString());
        Assert.Equal(logits[0], doc.RootElement.GetProperty("score").GetDouble(), 5);
        Assert.False(doc.RootElement.TryGetProperty("probs", out _));
    }

    [Fact]
    public void Classify_OneLabelWithoutProblemType_IsSigmoidAsHfPipeline()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(1, seed: 23);
        using var model = EncoderModel.Load(checkpoint.Write("roberta."));
        var encoding = model.Tokenize("Is this spam?");
        var logits = RobertaLogits(checkpoint, Hidden(model, encoding));
        var result = model.Classify([encoding])[0];
        Assert.Equal(ScoreFunction.Sigmoid, result.Function);
        Assert.Equal(["LABEL_0"], model.Classifier!.Labels);
        AssertClose("one-label sigmoid", [Sigmoid(logits[0])], result.Scores);
    }

    [Fact]
    public void Classify_SingleLabelProblemType_IsSoftmax()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(3, seed: 24);
        using var model = EncoderModel.Load(checkpoint.Write("roberta.", c => c["problem_type"] = "single_label_classification"));
        var encoding = model.Tokenize("Neutral statement.");
        var logits = RobertaLogits(checkpoint, Hidden(model, encoding));
        double max = logits.Max(), sum = logits.Sum(z => Math.Exp(z - max));
        AssertClose("softmax", logits.Select(z => Math.Exp(z - max) / sum).ToArray(), model.Classify([encoding])[0].Scores);
    }

    [Fact]
    public void Load_UnknownProblemType_FailsNamingIt()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(2, seed: 25);
        string dir = checkpoint.Write("roberta.", c => c["problem_type"] = "multilabel");
        var e = Assert.Throws<ModelFormatException>(() => EncoderModel.Load(dir));
        Assert.Contains("unknown problem_type \"multilabel\"", e.Message);
    }

    // ---- label names ---------------------------------------------------------------------------------------------

    [Fact]
    public void Load_NumLabelsDisagreeingWithHead_FailsNamingBoth()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(3, seed: 26);
        string dir = checkpoint.Write("roberta.", c => c["num_labels"] = 2);
        using var model = EncoderModel.Load(dir);
        var e = Assert.Throws<ModelFormatException>(() => model.RequireClassifier());
        Assert.Contains("num_labels is 2 but classifier.out_proj.weight has 3 rows", e.Message);
        CliHarness.RunUserError("num_labels is 2 but classifier.out_proj.weight has 3 rows", "classify", "--model", dir, "--text", "x");
        // The encoder commands still run on it, as HF's AutoModel loads the base model of such a checkpoint.
        var embedding = CliHarness.RunOk("embed", "--model", dir, "--text", "x");
        using var doc = JsonDocument.Parse(embedding.Stdout);
        var expected = model.Embed([model.Tokenize("x")])[0];
        AssertClose("embedding", expected.Select(v => (double)v).ToArray(),
            doc.RootElement.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray());
    }

    [Fact]
    public void Load_Label2IdOnly_NamesLabelsAsHfDoes()
    {
        // HF's PretrainedConfig ignores a label2id without id2label: it rebuilds both from LABEL_k.
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(3, seed: 27);
        string dir = checkpoint.Write("roberta.", c =>
        {
            c["num_labels"] = 3;
            c["label2id"] = new JsonObject { ["neg"] = 0, ["neu"] = 1, ["pos"] = 2 };
        });
        using var model = EncoderModel.Load(dir);
        Assert.Equal(["LABEL_0", "LABEL_1", "LABEL_2"], model.Classifier!.Labels);
    }

    // ---- ELECTRA discriminator -----------------------------------------------------------------------------------

    [Fact]
    public void Tag_ElectraDiscriminator_IsReplacedTokenDetection()
    {
        using var checkpoint = new SyntheticCheckpoint("electra-random", seed: 33);
        var w = checkpoint.Add("discriminator_predictions.dense.weight", 0.4f, 32, 32);
        var b = checkpoint.Add("discriminator_predictions.dense.bias", 0.1f, 32);
        var wp = checkpoint.Add("discriminator_predictions.dense_prediction.weight", 1.5f, 1, 32);
        var bp = checkpoint.Add("discriminator_predictions.dense_prediction.bias", 0.05f, 1);
        string dir = checkpoint.Write("electra.", c => c["architectures"] = new JsonArray("ElectraForPreTraining"));

        using var model = EncoderModel.Load(dir);
        Assert.Equal("electra.", model.Encoder.Weights.Prefix);
        Assert.NotNull(model.ReplacedTokenDetector);
        Assert.Null(model.Classifier);
        Assert.Null(model.TokenClassifier);
        Assert.Null(model.MaskedLm);

        string text = "The chef cooked the meal.";
        var encoding = model.Tokenize(text);
        var hidden = Hidden(model, encoding);
        var result = model.Tag(encoding);
        Assert.Equal(new[] { encoding.Length, 1 }, result.Logits.Shape);
        var expectedLabels = new List<string>();
        for (int t = 0; t < encoding.Length; t++)
        {
            // z_t = gelu(h_t W_dᵀ + b_d) w_pᵀ + b_p
            var z = ReferenceMath.Linear(wp, bp, Gelu(ReferenceMath.Linear(w, b, ReferenceMath.ToDouble(hidden.Row(t)))));
            AssertClose($"token {t} discriminator logit", z, result.Logits.Row(t).ToArray());
            expectedLabels.Add(z[0] > 0 ? "replaced" : "original");
        }
        Assert.Equal(expectedLabels, result.Labels);
        Assert.Contains("replaced", result.Labels); // the seed gives both labels, so the threshold is exercised
        Assert.Contains("original", result.Labels);

        var json = CliHarness.RunOk("tag", "--model", dir, "--text", text, "--format", "json");
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(expectedLabels, doc.RootElement.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        CliHarness.RunUserError("ELECTRA discriminator (ElectraForPreTraining)", "classify", "--model", dir, "--text", text);
        CliHarness.RunUserError("ELECTRA discriminator (ElectraForPreTraining)", "fill-mask", "--model", dir, "--text", "[MASK]");
    }

    // ---- BertForPreTraining --------------------------------------------------------------------------------------

    /// <summary>bert-mlm-random's encoder (stored under <c>bert.</c>) without its own head.</summary>
    static SyntheticCheckpoint BareBert(int seed) =>
        new("bert-mlm-random", seed) { Exclude = name => name.StartsWith("cls.", StringComparison.Ordinal) };

    [Fact]
    public void FillMask_BertForPreTraining_OldNamesDecoderBiasOnlyAndNspHead()
    {
        using var checkpoint = BareBert(seed: 29);
        var w = checkpoint.Add("cls.predictions.transform.dense.weight", 0.3f, 32, 32);
        var b = checkpoint.Add("cls.predictions.transform.dense.bias", 0.1f, 32);
        var gamma = checkpoint.Add("cls.predictions.transform.LayerNorm.gamma", 0.2f, 32);
        var beta = checkpoint.Add("cls.predictions.transform.LayerNorm.beta", 0.2f, 32);
        var bias = checkpoint.Add("cls.predictions.decoder.bias", 0.5f, 30522);
        checkpoint.Add("cls.seq_relationship.weight", 0.5f, 2, 32);
        checkpoint.Add("cls.seq_relationship.bias", 0.1f, 2);
        checkpoint.Add("bert.pooler.dense.weight", 0.3f, 32, 32);
        checkpoint.Add("bert.pooler.dense.bias", 0.1f, 32);
        string dir = checkpoint.Write(editConfig: c => c["architectures"] = new JsonArray("BertForPreTraining"));

        using var model = EncoderModel.Load(dir);
        Assert.Equal("BertForMaskedLM", model.MaskedLm!.HfClass);
        Assert.True(model.MaskedLm.TiedDecoder);
        Assert.Null(model.Classifier);      // the pooler and NSP head are not a sequence classifier
        Assert.Null(model.TokenClassifier);
        var word = model.Encoder.Weights.Embeddings.Word;
        CheckTop(model, "Paris is the [MASK] of [MASK].", (h, p) =>
            ReferenceMath.Linear(word.Span, bias, ReferenceMath.LayerNorm(Gelu(ReferenceMath.Linear(w, b, ReferenceMath.ToDouble(h.Row(p)))), gamma, beta, 1e-12)));
    }

    [Fact]
    public void FillMask_BertStoredDecoderWithBothBiasNames_UsesTheStoredDecoder()
    {
        // HF saves BertLMPredictionHead's bias twice (cls.predictions.bias is cls.predictions.decoder.bias) and, in
        // .bin checkpoints, the tied decoder weight too; a stored decoder that differs from the embeddings must win.
        using var checkpoint = BareBert(seed: 30);
        var w = checkpoint.Add("cls.predictions.transform.dense.weight", 0.3f, 32, 32);
        var b = checkpoint.Add("cls.predictions.transform.dense.bias", 0.1f, 32);
        var gamma = checkpoint.Add("cls.predictions.transform.LayerNorm.weight", 0.2f, 32);
        var beta = checkpoint.Add("cls.predictions.transform.LayerNorm.bias", 0.2f, 32);
        var decoder = checkpoint.Add("cls.predictions.decoder.weight", 0.3f, 30522, 32);
        var bias = checkpoint.Add("cls.predictions.bias", 0.5f, 30522);
        checkpoint.Add("cls.predictions.decoder.bias", 0.5f, 30522); // differs here only to show which one is read
        using var model = EncoderModel.Load(checkpoint.Write());
        Assert.False(model.MaskedLm!.TiedDecoder);
        CheckTop(model, "I [MASK] you.", (h, p) =>
            ReferenceMath.Linear(decoder, bias, ReferenceMath.LayerNorm(Gelu(ReferenceMath.Linear(w, b, ReferenceMath.ToDouble(h.Row(p)))), gamma, beta, 1e-12)));
    }

    /// <summary>Mask positions by the tokenizer's mask id; logits and the top 3 at each against the reference.</summary>
    static void CheckTop(EncoderModel model, string text, Func<Tensor, int, double[]> reference)
    {
        var encoding = model.Tokenize(text);
        var hidden = Hidden(model, encoding);
        var predictions = model.FillMask(encoding, topK: 3);
        var positions = Enumerable.Range(0, encoding.Length).Where(t => encoding.Ids[t] == model.Tokenizer.MaskId).ToArray();
        Assert.Equal(text.Split("[MASK]").Length - 1, positions.Length);
        Assert.Equal(positions, predictions.Select(p => p.Position));
        var logits = model.MaskedLm!.Logits(hidden, positions);
        for (int m = 0; m < positions.Length; m++)
        {
            var expected = reference(hidden, positions[m]);
            AssertClose($"mask {m} logits", expected, logits.Row(m).ToArray(), 1e-4);
            Assert.Equal(expected.Select((z, id) => (z, id)).OrderByDescending(p => p.z).Take(3).Select(p => p.id),
                predictions[m].Candidates.Select(c => c.Id));
        }
    }

    // ---- RoBERTa <mask> with lstrip ------------------------------------------------------------------------------

    [Fact]
    public void FillMask_RobertaTokenizerJsonWithLstripMask_FindsTheMaskById()
    {
        using var checkpoint = new SyntheticCheckpoint("roberta-random", seed: 31);
        checkpoint.ExtraFiles.Add(Path.Combine(SharedData.Root, "tokenizers", "roberta-base", "tokenizer.json"));
        var w = checkpoint.Add("lm_head.dense.weight", 0.3f, 32, 32);
        var b = checkpoint.Add("lm_head.dense.bias", 0.1f, 32);
        var gamma = checkpoint.Add("lm_head.layer_norm.weight", 0.2f, 32);
        var beta = checkpoint.Add("lm_head.layer_norm.bias", 0.2f, 32);
        var bias = checkpoint.Add("lm_head.bias", 0.5f, 50265);
        string dir = checkpoint.Write("roberta.");
        using var model = EncoderModel.Load(dir);
        string text = "Paris is the <mask> of France.";
        var encoding = model.Tokenize(text);
        // tokenizer.json's <mask> has lstrip: the space before it is part of the token (" <mask>", as HF shows it),
        // so no lone "Ġ" precedes it and the mask is token 4.
        Assert.Equal(" <mask>", encoding.Tokens[4]);
        Assert.Equal(model.Tokenizer.MaskId, encoding.Ids[4]);
        Assert.Equal(1, encoding.Ids.Count(id => id == model.Tokenizer.MaskId));
        var hidden = Hidden(model, encoding);
        var expected = ReferenceMath.Linear(model.Encoder.Weights.Embeddings.Word.Span, bias,
            ReferenceMath.LayerNorm(Gelu(ReferenceMath.Linear(w, b, ReferenceMath.ToDouble(hidden.Row(4)))), gamma, beta, 1e-5));
        var prediction = model.FillMask(encoding, topK: 2).Single();
        Assert.Equal(4, prediction.Position);
        Assert.Equal(expected.Select((z, id) => (z, id)).OrderByDescending(p => p.z).Take(2).Select(p => p.id), prediction.Candidates.Select(c => c.Id));

        var lines = CliHarness.RunOk("fill-mask", "--model", dir, "--text", text, "--top-k", "2").StdoutLines;
        Assert.Equal("<mask> 1 of 1 (token 4)", lines[0]);
    }

    // ---- odd inputs through the CLI ------------------------------------------------------------------------------

    [Fact]
    public void FillMask_TruncateCutsEveryMask_SaysSo()
    {
        string text = string.Concat(Enumerable.Repeat("word ", 600)) + "[MASK].";
        CliHarness.RunUserError("every mask token of the text lies beyond the model's limit of 512 tokens",
            "fill-mask", "--model", CliHarness.Model("bert-mlm-random"), "--text", text, "--truncate");
        CliHarness.RunUserError("over the model's limit of 512 tokens", "fill-mask", "--model", CliHarness.Model("bert-mlm-random"), "--text", text);
        // A mask before the cut is predicted; the one after it is dropped with the rest of the text, as HF truncation does.
        var json = CliHarness.RunOk("fill-mask", "--model", CliHarness.Model("bert-mlm-random"), "--text", "[MASK] " + text,
            "--truncate", "--top-k", "1", "--format", "json");
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(1, doc.RootElement.GetProperty("masks").GetArrayLength());
    }

    [Fact]
    public void FillMask_OnlyMasksAndTopKOverVocabulary_GivesTheWholeVocabulary()
    {
        var model = CliHarness.Model("bert-mlm-random");
        var json = CliHarness.RunOk("fill-mask", "--model", model, "--text", "[MASK][MASK]", "--top-k", "40000", "--format", "json");
        using var doc = JsonDocument.Parse(json.Stdout);
        var masks = doc.RootElement.GetProperty("masks").EnumerateArray().ToArray();
        Assert.Equal(2, masks.Length);
        foreach (var mask in masks)
        {
            var probs = mask.EnumerateArray().Select(c => c.GetProperty("prob").GetDouble()).ToArray();
            Assert.Equal(30522, probs.Length);                    // k is capped at V
            Assert.Equal(1.0, probs.Sum(), 4);                     // the whole softmax
            Assert.True(probs.Zip(probs.Skip(1)).All(p => p.First >= p.Second), "candidates must be best first");
        }
        CliHarness.RunUserError("--top-k must be at least 1, got 0", "fill-mask", "--model", model, "--text", "[MASK]", "--top-k", "0");
        CliHarness.RunUserError("the text has no mask token: write [MASK]", "fill-mask", "--model", model, "--text", "");
    }

    [Fact]
    public void Tag_PairWithCharactersOutsideTheBmp_SpansIndexTheirOwnText()
    {
        string first = "Hi 😀 there", second = "a 𝔘nicode 🎉 party";
        var model = CliHarness.Model("bert-tokcls-random");
        var json = CliHarness.RunOk("tag", "--model", model, "--text", first, "--text-pair", second, "--format", "json");
        using var doc = JsonDocument.Parse(json.Stdout);
        var tokens = doc.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray();
        var offsets = doc.RootElement.GetProperty("offsets").EnumerateArray()
            .Select(o => (o[0].GetInt32(), o[1].GetInt32())).ToArray();
        var lines = CliHarness.RunOk("tag", "--model", model, "--text", first, "--text-pair", second).StdoutLines;
        Assert.Equal(tokens.Length, lines.Length);
        var sequenceIds = doc.RootElement.GetProperty("sequence_ids").EnumerateArray()
            .Select(v => v.ValueKind == JsonValueKind.Null ? (int?)null : v.GetInt32()).ToArray();
        int sep = Array.IndexOf(tokens, "[SEP]");
        Assert.Equal(Enumerable.Range(0, tokens.Length).Select(t => tokens[t] is "[CLS]" or "[SEP]" ? (int?)null : t < sep ? 0 : 1), sequenceIds);
        var spans = new List<string>();
        for (int t = 0; t < tokens.Length; t++)
        {
            if (tokens[t] is "[CLS]" or "[SEP]") continue;
            string source = sequenceIds[t] == 0 ? first : second;
            var (start, end) = offsets[t];
            string span = source[start..end];        // UTF-16 offsets: a surrogate pair is never split
            Assert.False(char.IsLowSurrogate(source[start]) || (end < source.Length && char.IsLowSurrogate(source[end])), $"token {t} splits a surrogate pair");
            Assert.EndsWith("  " + span, lines[t]);
            Assert.Contains($" {start}-{end} ", lines[t]);
            spans.Add(span);
        }
        Assert.Equal(["Hi", "😀", "there", "a", "𝔘nicode", "🎉", "party"], spans);
    }

    [Fact]
    public void Tag_ByteLevelTokenOfANewline_StaysOnItsLine()
    {
        using var checkpoint = new SyntheticCheckpoint("roberta-random", seed: 34);
        checkpoint.Add("classifier.weight", 0.5f, 3, 32);
        checkpoint.Add("classifier.bias", 0.1f, 3);
        string dir = checkpoint.Write("roberta.", c => c["architectures"] = new JsonArray("RobertaForTokenClassification"));
        string text = "Hello\nworld\tagain";
        using var model = EncoderModel.Load(dir);
        var encoding = model.Tokenize(text);
        int newline = Array.IndexOf(encoding.Tokens, "Ċ");
        Assert.True(newline > 0, string.Join(" ", encoding.Tokens));
        var lines = CliHarness.RunOk("tag", "--model", dir, "--text", text).StdoutLines;
        Assert.Equal(encoding.Length, lines.Length);    // one line per token
        var (start, end) = encoding.Offsets[newline];
        Assert.EndsWith("  \\n", lines[newline]);
        Assert.Contains($" {start}-{end} ", lines[newline]);
    }

    [Fact]
    public void Classify_InputWithAnOverLongLine_NamesTheLine()
    {
        using var dir = new TempFolder();
        string path = Path.Combine(dir.Path, "texts.txt");
        string longLine = string.Concat(Enumerable.Repeat("word ", 600));
        File.WriteAllText(path, "A fine film.\n" + longLine + "\n");
        var model = CliHarness.Model("minilm-l6-sst2");
        CliHarness.RunUserError("line 2: the input is 602 tokens long, over the model's limit of 512 tokens", "classify", "--model", model, "--input", path);
        var cut = CliHarness.RunOk("classify", "--model", model, "--input", path, "--truncate", "--format", "json").StdoutLines;
        Assert.Equal(2, cut.Length);
        // --truncate keeps the first 510 words and the two special tokens: the same as classifying them directly.
        var direct = CliHarness.RunOk("classify", "--model", model, "--text", string.Concat(Enumerable.Repeat("word ", 510)), "--format", "json").StdoutLines.Single();
        Assert.Equal(direct, cut[1]);
    }
}
