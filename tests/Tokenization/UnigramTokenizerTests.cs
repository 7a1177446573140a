using System.Text.Json;
using MixLens.Engine.Tokenization;

namespace MixLens.Tests.Tokenization;

/// <summary>
/// The SentencePiece Unigram pieces on small hand-checked inputs (Precompiled normaliser per grapheme with its
/// alignment, Viterbi tie-breaking, fused unknowns, byte fallback, Metaspace) and the errors for malformed files.
/// </summary>
public sealed class UnigramTokenizerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("mixlens-unigram-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string file, string content)
    {
        var path = Path.Combine(_dir, file);
        File.WriteAllText(path, content);
        return path;
    }

    static readonly Lazy<PrecompiledNormalizer> s_t5Normalizer = new(() =>
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(TokenizerFixtures.TokenizerDir("t5-small"), "tokenizer.json")));
        string charsmap = document.RootElement.GetProperty("normalizer").GetProperty("precompiled_charsmap").GetString()!;
        return new PrecompiledNormalizer(PrecompiledCharsmap.FromBase64(charsmap));
    });

    static (string Text, (int, int)[] Spans) Normalize(string text)
    {
        var normalized = new NormalizedText(text, 0, text.Length);
        s_t5Normalizer.Value.Normalize(normalized);
        return (normalized.ToString(), Enumerable.Range(0, normalized.Length).Select(normalized.Alignment).ToArray());
    }

    [Theory]
    [InlineData("ﬁne", "fine")]           // NFKC ligature
    [InlineData("①½", "11⁄2")]            // circled digit, vulgar fraction
    [InlineData("ＡＢＣ™…", "ABCTM...")]   // full-width, trademark, ellipsis
    [InlineData("a\u200Bb\uFEFFc", "a b c")] // ZWSP and BOM become spaces
    [InlineData("x\u0001y\u007F", "xy")]  // C0 controls and DEL are deleted
    [InlineData("ｶﾞ", "カ\u3099")]         // a 6-byte grapheme: each char on its own, not ガ
    [InlineData("a\u0302\u0301", "â")]    // a 5-byte grapheme: the shortest key "a\u0302" replaces all of it
    [InlineData("\u00AD\u0085", "\u00AD\u0085")] // soft hyphen and NEL are left as they are
    [InlineData("नमस्ते, दुनिया!", "नमस्ते, दुनिया!")] // graphemes of several chars none of which begins a key: unchanged
    [InlineData("\u0915\u094D\u0958", "\u0915\u094D\u0915\u093C")] // QA has a key though the chars before it have none
    public void Precompiled_T5Charsmap_NormalisesPerGrapheme(string text, string expected)
    {
        Assert.Equal(expected, Normalize(text).Text);
    }

    [Fact]
    public void Precompiled_ShorterReplacement_KeepsFirstCharSpan()
    {
        var (text, spans) = Normalize("Ta\u0302\u0301t");

        Assert.Equal("Tât", text);
        Assert.Equal([(0, 1), (1, 2), (4, 5)], spans);
    }

    [Fact]
    public void Precompiled_LongerReplacement_ExtraCharsShareTheSourceSpan()
    {
        var (text, spans) = Normalize("a…b");

        Assert.Equal("a...b", text);
        Assert.Equal([(0, 1), (1, 2), (1, 2), (1, 2), (2, 3)], spans);
    }

    static UnigramModel Model(params (string, double)[] pieces) => new([.. pieces], unkId: 0);

    [Fact]
    public void Viterbi_Tie_PathWhoseLastPieceStartsEarliestWins()
    {
        var model = Model(("<unk>", 0), ("a", -1), ("b", -1), ("ab", -2));

        Assert.Equal(["ab"], model.Tokenize("ab").Select(p => p.Value));
    }

    [Fact]
    public void Viterbi_HigherScore_Wins()
    {
        var model = Model(("<unk>", 0), ("a", -1), ("b", -1), ("ab", -2.5), ("abc", -9), ("c", -1));

        Assert.Equal(["a", "b", "c"], model.Tokenize("abc").Select(p => p.Value));
    }

    [Fact]
    public void Viterbi_UnknownRun_FusedIntoOneUnkWithSurfaceText()
    {
        var model = Model(("<unk>", 0), ("a", -1), ("b", -1));

        var pieces = model.Tokenize("xy😀ab");

        Assert.Equal([(0, "xy😀", 0, 3), (1, "a", 3, 4), (2, "b", 4, 5)], pieces.Select(p => (p.Id, p.Value, p.Start, p.End)));
    }

    [Fact]
    public void Viterbi_ByteFallback_UnknownRunBecomesUtf8BytePieces()
    {
        var model = new UnigramModel([("<unk>", 0), ("a", -1), ("<0xC3>", -5), ("<0xA9>", -5)], unkId: 0, byteFallback: true);

        var pieces = model.Tokenize("éa");

        Assert.Equal([(2, "<0xC3>", 0, 1), (3, "<0xA9>", 0, 1), (1, "a", 1, 2)], pieces.Select(p => (p.Id, p.Value, p.Start, p.End)));
    }

    [Fact]
    public void Metaspace_WhitespaceSplitThenPrepend_LoneMetaspaceSpansNextChar()
    {
        var pre = new MetaspacePreTokenizer(whitespaceSplit: true);
        string text = "hi  a▁b";
        var normalized = new NormalizedText(text, 0, text.Length);
        var words = new List<NormalizedText>();

        pre.PreTokenize(normalized, 0, normalized.Length, words);

        Assert.Equal(["▁hi", "▁a", "▁b"], words.Select(w => w.ToString()));
        Assert.Equal((0, 1), words[0].Alignment(0)); // the prepended ▁ takes the span of 'h'
        Assert.Equal((5, 6), words[2].Alignment(0)); // the typed ▁ keeps its own
    }

    static string UnigramJson(string vocab = """[["<unk>", 0.0], ["▁", -1.0], ["a", -2.0]]""", string unkId = "0",
        string normalizer = "null", string preTokenizer = """{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}""") => $$$"""
        {"version": "1.0", "added_tokens": [], "normalizer": {{{normalizer}}}, "pre_tokenizer": {{{preTokenizer}}}, "post_processor": null,
         "model": {"type": "Unigram", "unk_id": {{{unkId}}}, "vocab": {{{vocab}}}, "byte_fallback": false}}
        """;

    [Fact]
    public void Load_MinimalTokenizerJson_EncodesWithUnknowns()
    {
        Write("tokenizer.json", UnigramJson());

        var encoding = TokenizerFactory.Load(_dir).Encode("a b");

        Assert.Equal([1, 2, 1, 0], encoding.Ids);
        Assert.Equal(["▁", "a", "▁", "b"], encoding.Tokens);
        Assert.Equal([(0, 1), (0, 1), (1, 2), (2, 3)], encoding.Offsets); // Metaspace alone: the second ▁ is the space itself
    }

    [Fact]
    public void Load_VocabEntryNotAPair_ThrowsNamingTheEntry()
    {
        var path = Write("tokenizer.json", UnigramJson(vocab: """[["<unk>", 0.0], ["a"]]"""));

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"'{path}' is malformed: model.vocab[1] is [\"a\"], not a [piece, score] pair", e.Message);
    }

    [Fact]
    public void Load_UnkIdOutOfRange_ThrowsNamingIt()
    {
        var path = Write("tokenizer.json", UnigramJson(unkId: "7"));

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"'{path}': unk_id 7 is outside the vocabulary of 3 pieces", e.Message);
    }

    [Fact]
    public void Load_CharsmapNotBase64_ThrowsNamingTheFile()
    {
        var path = Write("tokenizer.json", UnigramJson(normalizer: """{"type": "Precompiled", "precompiled_charsmap": "%%%"}"""));

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.StartsWith($"'{path}': precompiled_charsmap is not valid base64", e.Message);
    }

    [Fact]
    public void Load_CharsmapTrieSizeTooLarge_ThrowsNamingTheFile()
    {
        var path = Write("tokenizer.json", UnigramJson(normalizer: $$"""{"type": "Precompiled", "precompiled_charsmap": "{{System.Convert.ToBase64String([64, 0, 0, 0, 1, 2, 3, 4])}}"}"""));

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"'{path}': precompiled_charsmap declares a trie of 64 bytes, which does not fit its 4 bytes of data in 4-byte units", e.Message);
    }

    [Fact]
    public void Load_UnsupportedPreTokenizer_ThrowsNamingTheType()
    {
        var path = Write("tokenizer.json", UnigramJson(preTokenizer: """{"type": "Whitespace"}"""));

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"'{path}': pre_tokenizer type \"Whitespace\" is not supported with a Unigram model (supported: Metaspace, or Sequence[WhitespaceSplit, Metaspace])", e.Message);
    }
}
