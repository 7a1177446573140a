using System.Text.Json;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Heads;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Cli;

/// <summary><c>mixlens tag</c> on bert-tokcls-random against the head fixtures' token logits.</summary>
public class TagCommandTests
{
    const string ModelName = "bert-tokcls-random";
    static readonly string[] Labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];
    static string Model => CliHarness.Model(ModelName);

    static string[] Args(HeadCase c, params string[] more) =>
        ["tag", "--model", Model, "--text", c.Text, .. c.TextPair is null ? Array.Empty<string>() : ["--text-pair", c.TextPair], .. more];

    public static IEnumerable<object[]> Cases() => HeadFixtures.CaseIds(ModelName);

    [Theory]
    [MemberData(nameof(Cases))]
    public void TagJson_FixtureCase_LogitsLabelsAndSpansMatch(string id)
    {
        var c = HeadFixtures.Case(ModelName, id);
        using var expected = HeadFixtures.Open(ModelName, c);
        var result = CliHarness.RunOk(Args(c, "--format", "json"));
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;

        var tokens = root.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray();
        Assert.Equal(c.Tokens, tokens);
        int n = tokens.Length;
        var logits = root.GetProperty("logits").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle())).ToArray();
        var reference = expected.GetFloat32("token_logits").ToArray();
        Compare.AllClose($"{id} token_logits", reference, logits, [n, 5], new Tolerance(HeadFixtures.Tolerance(ModelName), 0));

        var labels = root.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).ToArray();
        for (int t = 0; t < n; t++)
            Assert.Equal(Labels[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(reference.AsSpan(t * 5, 5))], labels[t]);

        // Each word-piece's span covers its characters in the text it came from (lower-cased by this uncased tokenizer).
        var offsets = root.GetProperty("offsets").EnumerateArray().Select(o => (o[0].GetInt32(), o[1].GetInt32())).ToArray();
        int sep = Array.IndexOf(tokens, "[SEP]");
        for (int t = 0; t < n; t++)
        {
            if (tokens[t] is "[CLS]" or "[SEP]") { Assert.Equal((0, 0), offsets[t]); continue; }
            string source = t < sep ? c.Text : c.TextPair!;
            Assert.Equal(tokens[t].Replace("##", ""), source[offsets[t].Item1..offsets[t].Item2].ToLowerInvariant());
        }
    }

    [Fact]
    public void TagText_Pair_OneLinePerTokenWithSpanInItsOwnText()
    {
        var c = HeadFixtures.Case(ModelName, "pair");
        var lines = CliHarness.RunOk(Args(c)).StdoutLines;
        Assert.Equal(c.Tokens.Length, lines.Length);
        Assert.Matches(@"^ 0 \[CLS\]\s+\S+$", lines[0]);
        Assert.Matches(@"^ 4 london\s+\S+\s+14-20\s+London$", lines[4]);   // "John lives in London."
        Assert.Matches(@"^10 rome\s+\S+\s+14-18\s+Rome$", lines[10]);      // "Mary moved to Rome." (--text-pair)
        Assert.Matches(@"^12 \[SEP\]\s+\S+$", lines[12]);
        Assert.All(lines, l => Assert.Contains(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2], Labels));
    }

    [Theory]
    [InlineData("bert-mlm-random", "missing 'classifier.weight'")]
    [InlineData("roberta-random", "missing 'classifier.weight'")]
    public void Tag_ModelWithoutHead_SaysWhatIsMissing(string model, string phrase)
    {
        string line = CliHarness.RunUserError("has no token-classification head", "tag", "--model", CliHarness.Model(model), "--text", "Paris");
        Assert.Contains(phrase, line);
    }

    [Fact]
    public void Tag_DeclaredSequenceClassifier_SaysTagNeedsATokenHead()
    {
        // minilm-l6-sst2 stores classifier.weight [2, 384] and declares BertForSequenceClassification.
        string line = CliHarness.RunUserError("is a sequence classifier", "tag", "--model", CliHarness.Model("minilm-l6-sst2"), "--text", "Paris");
        Assert.EndsWith("minilm-l6-sst2 is a sequence classifier (architectures: BertForSequenceClassification); tag needs a token-classification head", line);
        Assert.Contains("tag: ", line);
    }

    [Fact]
    public void Tag_UnsupportedModelType_ListsSupportedTypes()
    {
        using var temp = new TempFolder();
        string dir = temp.ModelCopy("gpt2", ModelName, "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json");
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"model_type\": \"gpt2\"}");
        CliHarness.RunUserError("unsupported model_type \"gpt2\"; supported model types: bert, roberta, xlm-roberta, camembert, distilbert, electra",
            "tag", "--model", dir, "--text", "hello");
    }

    [Theory]
    [InlineData("roberta-random", "missing 'classifier.dense.weight', 'classifier.out_proj.weight'")]
    [InlineData("distilbert-random", "missing 'pre_classifier.weight', 'classifier.weight'")]
    [InlineData("electra-random", "missing 'classifier.dense.weight', 'classifier.out_proj.weight'")]
    [InlineData("bert-tokcls-random", "missing 'pooler.dense.weight'")]
    public void Classify_FamilyWithoutSequenceHead_NamesItsMissingTensors(string model, string phrase)
    {
        string line = CliHarness.RunUserError("has no sequence-classification head", "classify", "--model", CliHarness.Model(model), "--text", "x");
        Assert.Contains(phrase, line);
    }
}
