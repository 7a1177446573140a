using System.Text;
using System.Text.Json;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Cli;

/// <summary><c>mixlens tokenize</c>: JSON lines against the fixture tokenizations; <c>--input</c> line splitting.</summary>
public class TokenizeCommandTests
{
    const string MiniLm = "all-MiniLM-L6-v2";

    public static IEnumerable<object[]> MiniLmCases() => ModelFixtures.Load(MiniLm).Cases.Select(c => new object[] { c.Id });

    sealed record TokenizedLine(int[] Ids, string[] Tokens, int[][] Offsets);

    [Theory]
    [MemberData(nameof(MiniLmCases))]
    public void TokenizeText_FixtureCase_MatchesFixtureTokenization(string caseId)
    {
        var c = ModelFixtures.Load(MiniLm).Case(caseId);
        var args = new List<string> { "tokenize", "--model", CliHarness.Model(MiniLm), "--text", c.Text };
        if (c.TextPair is not null) args.AddRange(["--text-pair", c.TextPair]);
        if (c.Truncation is not null) args.Add("--truncate");
        var lines = Parse(CliHarness.RunOk([.. args]).Stdout);

        var line = Assert.Single(lines);
        AssertMatches(c, line);
    }

    [Fact]
    public void TokenizeInput_FixtureTextsOnePerLine_OneMatchingJsonLineEach()
    {
        // every single-text case that fits on one line, in one file; --truncate for the 512-token case
        var cases = ModelFixtures.Load(MiniLm).Cases.Where(c => c.TextPair is null && !c.Text.Contains('\n')).ToArray();
        Assert.True(cases.Length >= 10);
        using var temp = new TempFolder();
        string input = temp.File("texts.txt");
        File.WriteAllText(input, string.Concat(cases.Select(c => c.Text + "\n")), new UTF8Encoding(false));

        var lines = Parse(CliHarness.RunOk("tokenize", "--model", CliHarness.Model(MiniLm), "--input", input, "--truncate").Stdout);

        Assert.Equal(cases.Length, lines.Length);
        for (int k = 0; k < cases.Length; k++) AssertMatches(cases[k], lines[k]);
    }

    [Fact]
    public void TokenizeInput_TabCarriageReturnAndEmptyLines_SplitOnNewlineOnly()
    {
        using var temp = new TempFolder();
        string input = temp.File("texts.txt");
        // line 1 has a tab, line 2 a lone \r inside, line 3 is empty, line 4 ends in \r (a CRLF file), then a final \n
        string[] texts = ["the\tcat", "the\rdog", "", "a crlf line\r", "last"];
        File.WriteAllText(input, string.Join("\n", texts) + "\n", new UTF8Encoding(false));
        string model = CliHarness.Model("bert-mlm-random");

        var lines = Parse(CliHarness.RunOk("tokenize", "--model", model, "--input", input).Stdout);

        Assert.Equal(texts.Length, lines.Length);   // no empty text after the final \n, \r never splits
        Assert.Equal(["[CLS]", "the", "cat", "[SEP]"], lines[0].Tokens);
        Assert.Equal([[0, 0], [0, 3], [4, 7], [0, 0]], lines[0].Offsets);
        Assert.Equal(["[CLS]", "the", "dog", "[SEP]"], lines[1].Tokens);
        Assert.Equal([[0, 0], [0, 3], [4, 7], [0, 0]], lines[1].Offsets);
        Assert.Equal(["[CLS]", "[SEP]"], lines[2].Tokens);
        Assert.Equal([101, 102], lines[2].Ids);
        Assert.Equal(["line", "[SEP]"], lines[3].Tokens[^2..]);
        Assert.Equal([7, 11], lines[3].Offsets[^2]);
        Assert.Equal(["[CLS]", "last", "[SEP]"], lines[4].Tokens);
        // each line tokenizes exactly as the same text given with --text
        for (int k = 0; k < texts.Length; k++)
        {
            var single = Assert.Single(Parse(CliHarness.RunOk("tokenize", "--model", model, "--text", texts[k]).Stdout));
            Assert.Equal(single, lines[k], TokenizedLineComparer.Instance);
        }
    }

    [Fact]
    public void TokenizeInput_NoFinalNewline_LastLineStillRead()
    {
        using var temp = new TempFolder();
        string input = temp.File("texts.txt");
        File.WriteAllText(input, "first\n\nthird", new UTF8Encoding(false));
        var lines = Parse(CliHarness.RunOk("tokenize", "--model", CliHarness.Model("bert-mlm-random"), "--input", input).Stdout);
        Assert.Equal(3, lines.Length);
        Assert.Equal(["[CLS]", "[SEP]"], lines[1].Tokens);
        Assert.Equal(["[CLS]", "third", "[SEP]"], lines[2].Tokens);
    }

    [Fact]
    public void TokenizeInput_EmptyFile_PrintsNothing()
    {
        using var temp = new TempFolder();
        string input = temp.File("empty.txt");
        File.WriteAllText(input, "");
        var result = CliHarness.RunOk("tokenize", "--model", CliHarness.Model("bert-mlm-random"), "--input", input);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public void TokenizeText_LongTextWithoutTruncate_PrintsAllTokens()
    {
        // tokenize never truncates unless asked: the 512-token fixture text is longer than 512 tokens
        var c = ModelFixtures.Load(MiniLm).Case("long_truncated");
        var line = Assert.Single(Parse(CliHarness.RunOk("tokenize", "--model", CliHarness.Model(MiniLm), "--text", c.Text).Stdout));
        Assert.True(line.Ids.Length > 512, $"{line.Ids.Length} tokens");
        Assert.Equal(c.InputIds[..511], line.Ids[..511]);
        Assert.Equal(102, line.Ids[^1]);
    }

    [Theory]
    [InlineData("roberta-base", new[] { "<s>", "Hello", "Ġworld", "</s>" })]
    [InlineData("t5-small", new[] { "▁Hello", "▁world", "</s>" })]
    public void TokenizeText_FolderWithTokenizerFilesOnly_Tokenizes(string tokenizer, string[] tokens)
    {
        // no config.json, no weights: tokenize needs the tokenizer alone
        string folder = Path.Combine(SharedData.Root, "tokenizers", tokenizer);
        var line = Assert.Single(Parse(CliHarness.RunOk("tokenize", "--model", folder, "--text", "Hello world").Stdout));
        Assert.Equal(tokens, line.Tokens);
        Assert.Equal(line.Ids, Engine.EncoderModel.LoadTokenizer(folder).Encode("Hello world").Ids);
    }

    [Fact]
    public void TokenizeTruncate_TokenizerOnlyFolder_CutsAtModelMaxLength()
    {
        string folder = Path.Combine(SharedData.Root, "tokenizers", "roberta-base");
        string text = string.Join(' ', Enumerable.Repeat("word", 600));
        var line = Assert.Single(Parse(CliHarness.RunOk("tokenize", "--model", folder, "--text", text, "--truncate").Stdout));
        Assert.Equal(512, line.Ids.Length);   // tokenizer_config.json model_max_length
        Assert.Equal(2, line.Ids[^1]);
    }

    [Fact]
    public void TokenizeTruncate_NoConfigAndNoModelMaxLength_FailsSayingSo()
    {
        using var temp = new TempFolder();
        string dir = temp.ModelCopy("tok", "bert-mlm-random", "tokenizer.json");
        CliHarness.RunUserError("--truncate needs the model's token limit", "tokenize", "--model", dir, "--text", "hi", "--truncate");
        Assert.Single(Parse(CliHarness.RunOk("tokenize", "--model", dir, "--text", "hi").Stdout));
    }

    static void AssertMatches(FixtureCase c, TokenizedLine line)
    {
        Assert.Equal(c.InputIds, line.Ids);
        Assert.Equal(c.Tokens, line.Tokens);
        Assert.Equal(c.OffsetsUtf16.Length, line.Offsets.Length);
        for (int t = 0; t < line.Offsets.Length; t++)
            Assert.True(c.OffsetsUtf16[t].SequenceEqual(line.Offsets[t]),
                $"{c.Id} token {t} '{c.Tokens[t]}': offsets [{string.Join(",", line.Offsets[t])}], fixture [{string.Join(",", c.OffsetsUtf16[t])}]");
    }

    static TokenizedLine[] Parse(string stdout)
    {
        var result = new List<TokenizedLine>();
        foreach (var raw in stdout.Split('\n'))
        {
            string text = raw.TrimEnd('\r');
            if (text.Length == 0) continue;
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            Assert.Equal(["ids", "tokens", "offsets"], root.EnumerateObject().Select(p => p.Name).ToArray());
            result.Add(new TokenizedLine(
                root.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                root.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()!).ToArray(),
                root.GetProperty("offsets").EnumerateArray().Select(p => p.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray()));
        }
        return result.ToArray();
    }

    sealed class TokenizedLineComparer : IEqualityComparer<TokenizedLine>
    {
        public static readonly TokenizedLineComparer Instance = new();
        public bool Equals(TokenizedLine? a, TokenizedLine? b) => a is not null && b is not null &&
            a.Ids.SequenceEqual(b.Ids) && a.Tokens.SequenceEqual(b.Tokens) &&
            a.Offsets.Length == b.Offsets.Length && a.Offsets.Zip(b.Offsets).All(p => p.First.SequenceEqual(p.Second));
        public int GetHashCode(TokenizedLine x) => x.Ids.Length;
    }
}
