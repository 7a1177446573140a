using Xunit.Abstractions;

namespace MixLens.Tests.Tokenization;

/// <summary>
/// Every line of the bert-base-uncased tokenizer fixtures (HuggingFace tokenizers 0.23.3 through transformers
/// BertTokenizer, fast) against <see cref="MixLens.Engine.Tokenization.WordPieceTokenizer"/> loaded from the
/// all-MiniLM-L6-v2 tokenizer.json: ids, token strings, UTF-16 offsets, special-tokens mask, and for pairs type ids and
/// sequence ids.
/// </summary>
public sealed class WordPieceParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("bert-base-uncased.jsonl.gz", 4788)]
    [InlineData("bert-base-uncased.pairs.jsonl.gz", 200)]
    [InlineData("bert-base-uncased.special.jsonl.gz", 17)]
    public void Encode_EveryFixtureLine_MatchesHuggingFace(string fixture, int expectedLines)
    {
        var cases = TokenizerFixtures.ReadJsonl(fixture);
        Assert.Equal(expectedLines, cases.Count);
        var tokenizer = TokenizerFixtures.Load(TokenizerFixtures.MiniLmDir);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var diffs = TokenizerFixtures.Mismatches(tokenizer, cases);
        watch.Stop();
        output.WriteLine($"{fixture}: {cases.Count - diffs.Count}/{cases.Count} lines match, encoded in {watch.ElapsedMilliseconds} ms");

        Assert.True(diffs.Count == 0, TokenizerFixtures.Report(fixture, cases.Count, diffs));
    }
}
