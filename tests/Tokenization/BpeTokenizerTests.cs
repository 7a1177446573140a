using MixLens.Engine.Tokenization;

namespace MixLens.Tests.Tokenization;

/// <summary>
/// The byte-level BPE pieces on small hand-checked inputs (GPT-2 regex, byte alphabet, merge order, offset trimming)
/// and the errors for malformed BPE files, each naming the file and what is wrong.
/// </summary>
public sealed class BpeTokenizerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("mixlens-bpe-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string file, string content)
    {
        var path = Path.Combine(_dir, file);
        File.WriteAllText(path, content);
        return path;
    }

    static string[] SplitText(string text)
    {
        var normalized = new NormalizedText(text, 0, text.Length);
        var splits = new List<(int Start, int End)>();
        ByteLevel.Split(normalized.Chars, 0, normalized.Length, splits);
        return splits.Select(s => normalized.Substring(s.Start, s.End)).ToArray();
    }

    [Theory]
    // \s+(?!\S): a whitespace run before a word gives its last space to the word.
    [InlineData("a   b", new[] { "a", "  ", " b" })]
    [InlineData("a \tb", new[] { "a", " ", "\t", "b" })]
    [InlineData("end  ", new[] { "end", "  " })]
    [InlineData("it's 12 o'clock!!", new[] { "it", "'s", " 12", " o", "'", "clock", "!!" })]
    [InlineData("we'll 'RE", new[] { "we", "'ll", " '", "RE" })]
    // A letter outside the BMP is a letter (a .NET Regex would see two "other" surrogates).
    [InlineData("x 𝐀𝐁 y", new[] { "x", " 𝐀𝐁", " y" })]
    [InlineData("\u3000日本", new[] { "\u3000", "日本" })]
    public void Split_Gpt2Regex_MatchesOnigurumaPieces(string text, string[] expected)
    {
        Assert.Equal(expected, SplitText(text));
    }

    [Fact]
    public void ByteToChar_PrintableBytesMapToThemselvesOthersFromU0100()
    {
        Assert.Equal('!', ByteLevel.ByteToChar['!']);
        Assert.Equal('Ġ', ByteLevel.ByteToChar[' ']);
        Assert.Equal('Ā', ByteLevel.ByteToChar[0]);
        Assert.Equal('Ċ', ByteLevel.ByteToChar['\n']);
        Assert.Equal('ÿ', ByteLevel.ByteToChar[0xFF]);
        Assert.Equal(256, ByteLevel.ByteToChar.Distinct().Count());
    }

    [Fact]
    public void Tokenize_Merges_LowestRankFirstThenLeftmost()
    {
        var vocab = new Dictionary<string, int> { ["a"] = 0, ["b"] = 1, ["ab"] = 2, ["ba"] = 3, ["aab"] = 4, ["bab"] = 5 };
        // "b a" outranks "a b", so "bab" → b + (ab)? no: (ba) first at the leftmost place, then nothing merges "ba"+"b".
        var model = new BpeModel(vocab, [("b", "a"), ("a", "b"), ("a", "ab")]);

        Assert.Equal([3, 1], model.Tokenize("bab").Select(p => p.Id));  // ba + b
        Assert.Equal([4], model.Tokenize("aab").Select(p => p.Id));     // a + ab → aab
        Assert.Equal([3, 3], model.Tokenize("baba").Select(p => p.Id)); // ba ba
        Assert.Equal([(0, 2), (2, 4)], model.Tokenize("baba").Select(p => (p.Start, p.End)));
    }

    [Fact]
    public void TrimOffsets_LoneSpaceTokenBecomesZeroWidthAtNextWord()
    {
        var tokens = new List<Token> { new(1, "Ġa", 274, 276), new(2, "Ġ", 276, 277), new(3, "Ã©t", 277, 279), new(4, " <mask>", 279, 286) };

        ByteLevel.TrimOffsets(tokens, addPrefixSpace: false);

        Assert.Equal([(275, 276), (277, 277), (277, 279), (280, 286)], tokens.Select(t => (t.Start, t.End)));
    }

    [Fact]
    public void Load_VocabJsonWithoutMerges_ThrowsIncomplete()
    {
        Write("vocab.json", """{"a": 0}""");

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"incomplete BPE tokenizer in '{_dir}': it has vocab.json but no merges.txt; a byte-level BPE tokenizer needs both (or a tokenizer.json)", e.Message);
    }

    [Fact]
    public void Load_MergesLineNotTwoTokens_ThrowsNamingFileAndLine()
    {
        Write("vocab.json", """{"a": 0, "b": 1, "ab": 2}""");
        var merges = Write("merges.txt", "#version: 0.2\na b\nab\n");

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"'{merges}' is malformed: line 3 \"ab\" is not two tokens separated by one space", e.Message);
    }

    [Fact]
    public void Load_MergeOfUnknownToken_ThrowsNamingFileAndMerge()
    {
        Write("vocab.json", """{"<s>": 0, "</s>": 1, "a": 2, "b": 3}""");
        var merges = Write("merges.txt", "#version: 0.2\na b\n");

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"'{merges}': merge 1 ('a b') makes 'ab', which is not in the vocabulary", e.Message);
    }

    [Fact]
    public void Load_VocabJsonNotAnObject_ThrowsMalformed()
    {
        var vocab = Write("vocab.json", """["a", "b"]""");
        Write("merges.txt", "#version: 0.2\n");

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"'{vocab}' is malformed: the root is not an object of token → id", e.Message);
    }

    static string BpeJson(string preTokenizer = """{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}""",
        string merges = """["a b"]""") => $$$"""
        {"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": {{{preTokenizer}}}, "post_processor": null,
         "model": {"type": "BPE", "dropout": null, "unk_token": null, "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3}, "merges": {{{merges}}}}}
        """;

    [Fact]
    public void Load_TokenizerJsonMinimal_EncodesWithMerges()
    {
        Write("tokenizer.json", BpeJson(merges: """[["a", "b"]]"""));

        var encoding = TokenizerFactory.Load(_dir).Encode("ab a");

        Assert.Equal([2, 3, 0], encoding.Ids); // "ab", " a" → Ġ + a (no "Ġ a" merge)
        Assert.Equal([(0, 2), (2, 3), (3, 4)], encoding.Offsets); // no post-processor, so no offset trimming
    }

    [Fact]
    public void Load_TokenizerJsonWithUnsupportedPreTokenizer_ThrowsNamingTheType()
    {
        var path = Write("tokenizer.json", BpeJson(preTokenizer: """{"type": "Whitespace"}"""));

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"'{path}': pre_tokenizer type \"Whitespace\" is not supported with a BPE model (supported: ByteLevel)", e.Message);
    }

    [Fact]
    public void Load_TokenizerJsonMalformedMerge_ThrowsNamingTheEntry()
    {
        var path = Write("tokenizer.json", BpeJson(merges: """["a b", 7]"""));

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"'{path}' is malformed: model.merges[1] is 7, neither \"left right\" nor [left, right]", e.Message);
    }
}
