using System.Text.Json;
using MixLens.Tests.Heads;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Cli;

/// <summary><c>mixlens fill-mask</c> on bert-mlm-random against the head fixtures' top-5 predictions.</summary>
public class FillMaskCommandTests
{
    const string ModelName = "bert-mlm-random";
    static string Model => CliHarness.Model(ModelName);

    static string[] Args(HeadCase c, params string[] more) =>
        ["fill-mask", "--model", Model, "--text", c.Text, .. c.TextPair is null ? Array.Empty<string>() : ["--text-pair", c.TextPair], .. more];

    public static IEnumerable<object[]> Cases() => HeadFixtures.CaseIds(ModelName);

    [Theory]
    [MemberData(nameof(Cases))]
    public void FillMaskJson_FixtureCase_Top5MatchesReference(string id)
    {
        var c = HeadFixtures.Case(ModelName, id);
        var result = CliHarness.RunOk(Args(c, "--format", "json"));
        Assert.Single(result.StdoutLines);
        using var json = JsonDocument.Parse(result.Stdout);
        var masks = json.RootElement.GetProperty("masks").EnumerateArray().ToArray();
        Assert.Equal(c.Top5.Length, masks.Length);
        for (int m = 0; m < masks.Length; m++)
        {
            var candidates = masks[m].EnumerateArray().ToArray();
            Assert.Equal(5, candidates.Length);
            for (int r = 0; r < 5; r++)
            {
                Assert.Equal(c.Top5[m][r].Token, candidates[r].GetProperty("token").GetString());
                Assert.Equal(c.Top5[m][r].Id, candidates[r].GetProperty("id").GetInt32());
                Assert.True(Math.Abs(c.Top5[m][r].Prob - candidates[r].GetProperty("prob").GetDouble()) <= HeadFixtures.Tolerance(ModelName),
                    $"{id} mask {m} rank {r}: {candidates[r]} vs {c.Top5[m][r]}");
            }
        }
    }

    [Fact]
    public void FillMaskText_TwoMasks_PrintsAHeaderAndTopKLinesPerMask()
    {
        var c = HeadFixtures.Case(ModelName, "two_masks");
        var lines = CliHarness.RunOk(Args(c, "--top-k", "3")).StdoutLines;
        Assert.Equal(2 * (1 + 3), lines.Length);
        Assert.Equal("[MASK] 1 of 2 (token 2)", lines[0]);
        Assert.Equal("[MASK] 2 of 2 (token 5)", lines[4]);
        for (int m = 0; m < 2; m++)
            for (int r = 0; r < 3; r++)
            {
                var line = lines[m * 4 + 1 + r];
                Assert.StartsWith($"  {c.Top5[m][r].Token} ", line);
                Assert.Contains($"(id {c.Top5[m][r].Id})", line);
                Assert.Contains(c.Top5[m][r].Prob.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture), line);
            }
    }

    [Fact]
    public void FillMask_TopK_LimitsTheCandidates()
    {
        var c = HeadFixtures.Case(ModelName, "capital");
        using var json = JsonDocument.Parse(CliHarness.RunOk(Args(c, "--top-k", "2", "--format", "json")).Stdout);
        Assert.Equal(2, json.RootElement.GetProperty("masks")[0].GetArrayLength());
    }

    [Fact]
    public void FillMask_TextWithoutMask_FailsSayingSo() =>
        CliHarness.RunUserError("the text has no mask token: write [MASK]", "fill-mask", "--model", Model, "--text", "Nothing is masked here.");

    [Fact]
    public void FillMask_OverLongTextWithoutMask_SaysItHasNoMaskBeforeItsLength() =>
        // The text is encoded once and its mask tokens looked for first: no mask is the error, not the length.
        CliHarness.RunUserError("the text has no mask token: write [MASK]", "fill-mask", "--model", Model, "--text", string.Concat(Enumerable.Repeat("word ", 600)));

    [Fact]
    public void FillMask_MaskCutByTruncate_SaysItLiesBeyondTheLimit()
    {
        string text = string.Concat(Enumerable.Repeat("word ", 600)) + "[MASK].";
        CliHarness.RunUserError("the input is 604 tokens long, over the model's limit of 512 tokens", "fill-mask", "--model", Model, "--text", text);
        CliHarness.RunUserError("every mask token of the text lies beyond the model's limit of 512 tokens, where --truncate cut it",
            "fill-mask", "--model", Model, "--text", text, "--truncate");
    }

    [Fact]
    public void FillMask_OverLongTextWithAMaskInsideTheLimit_TruncateKeepsIt()
    {
        string text = "[MASK] " + string.Concat(Enumerable.Repeat("word ", 600));
        var lines = CliHarness.RunOk("fill-mask", "--model", Model, "--text", text, "--truncate", "--top-k", "1").StdoutLines;
        Assert.Equal("[MASK] 1 of 1 (token 1)", lines[0]);
    }

    [Theory]
    [InlineData("bert-tokcls-random", "missing 'cls.predictions.transform.dense.weight'")]
    [InlineData("roberta-random", "missing 'lm_head.dense.weight'")]
    [InlineData("distilbert-random", "missing 'vocab_transform.weight'")]
    [InlineData("electra-random", "missing 'generator_predictions.dense.weight'")]
    public void FillMask_ModelWithoutHead_NamesTheMissingTensor(string model, string phrase)
    {
        string line = CliHarness.RunUserError("has no masked-LM head", "fill-mask", "--model", CliHarness.Model(model), "--text", "a [MASK] b");
        Assert.Contains(phrase, line);
        Assert.Contains("model.safetensors", line);
    }

    [Fact]
    public void FillMask_BadTopKOrFormat_FailsWithOneLine()
    {
        CliHarness.RunUserError("--top-k must be at least 1, got 0", "fill-mask", "--model", Model, "--text", "a [MASK]", "--top-k", "0");
        CliHarness.RunUserError("unknown format 'xml'; choose text or json", "fill-mask", "--model", Model, "--text", "a [MASK]", "--format", "xml");
        CliHarness.RunUsageError("--text", "fill-mask", "--model", Model);
    }
}
