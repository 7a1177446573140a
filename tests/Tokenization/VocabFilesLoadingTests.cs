using MixLens.Engine.Tokenization;

namespace MixLens.Tests.Tokenization;

/// <summary>
/// A directory with only vocab.txt (+ tokenizer_config.json) builds the same BertTokenizer pipeline as
/// tokenizer.json, as transformers does when a model ships no tokenizer.json.
/// </summary>
public sealed class VocabFilesLoadingTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("mixlens-vocab-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void FromDirectory_VocabTxtAndTokenizerConfig_MatchesTokenizerJsonOnFixtureSample()
    {
        foreach (var file in new[] { "vocab.txt", "tokenizer_config.json" })
            File.Copy(Path.Combine(TokenizerFixtures.MiniLmDir, file), Path.Combine(_dir, file));
        var fromVocab = WordPieceTokenizer.FromDirectory(_dir);
        var fromJson = TokenizerFixtures.Load(TokenizerFixtures.MiniLmDir);

        // Every 10th corpus line, all pair and special lines: against the fixtures and against the tokenizer.json tokenizer.
        var sample = TokenizerFixtures.ReadJsonl("bert-base-uncased.jsonl.gz").Where((_, i) => i % 10 == 0)
            .Concat(TokenizerFixtures.ReadJsonl("bert-base-uncased.pairs.jsonl.gz"))
            .Concat(TokenizerFixtures.ReadJsonl("bert-base-uncased.special.jsonl.gz"))
            .ToList();
        var diffs = TokenizerFixtures.Mismatches(fromVocab, sample);
        Assert.True(diffs.Count == 0, TokenizerFixtures.Report("vocab.txt tokenizer vs fixtures", sample.Count, diffs));

        Assert.Equal(fromJson.VocabSize, fromVocab.VocabSize);
        Assert.Equal(fromJson.PadId, fromVocab.PadId);
        Assert.Equal(fromJson.MaskId, fromVocab.MaskId);
        Assert.Equal(fromJson.SpecialTokenCount(false), fromVocab.SpecialTokenCount(false));
        Assert.Equal(fromJson.SpecialTokenCount(true), fromVocab.SpecialTokenCount(true));
        Assert.Equal(
            fromJson.AddedVocabulary.Tokens.OrderBy(t => t.Id).Select(t => (t.Content, t.Id, t.Normalized)),
            fromVocab.AddedVocabulary.Tokens.OrderBy(t => t.Id).Select(t => (t.Content, t.Id, t.Normalized)));
    }

    [Fact]
    public void FromDirectory_VocabTxtOnly_UsesBertDefaults()
    {
        File.Copy(Path.Combine(TokenizerFixtures.MiniLmDir, "vocab.txt"), Path.Combine(_dir, "vocab.txt"));

        var tokenizer = WordPieceTokenizer.FromDirectory(_dir);
        var encoding = tokenizer.Encode("Héllo [MASK] wörld!");

        Assert.Equal(["[CLS]", "hello", "[MASK]", "world", "!", "[SEP]"], encoding.Tokens);
        Assert.Equal(0, tokenizer.PadId);
        Assert.Equal(103, tokenizer.MaskId);
    }

    [Fact]
    public void FromDirectory_DoLowerCaseFalse_KeepsCaseAndAccents()
    {
        File.Copy(Path.Combine(TokenizerFixtures.MiniLmDir, "vocab.txt"), Path.Combine(_dir, "vocab.txt"));
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), """{"do_lower_case": false}""");

        var tokenizer = WordPieceTokenizer.FromDirectory(_dir);

        var normalizer = Assert.IsType<BertNormalizer>(tokenizer.Normalizer);
        Assert.False(normalizer.Lowercase);
        Assert.False(normalizer.StripAccents); // strip_accents null follows lowercase
        Assert.Equal("[UNK]", tokenizer.Encode("Hello").Tokens[1]); // the uncased vocabulary has no "Hello"
    }
}
