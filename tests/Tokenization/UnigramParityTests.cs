using MixLens.Engine.Tokenization;
using Xunit.Abstractions;

namespace MixLens.Tests.Tokenization;

/// <summary>
/// Every line of the t5-small tokenizer fixtures (HuggingFace tokenizers 0.23.3 through transformers T5Tokenizer,
/// fast) against <see cref="UnigramTokenizer"/> loaded from ../shared/tokenizers/t5-small/tokenizer.json: ids,
/// token strings (unknown runs as their surface text), UTF-16 offsets, special-tokens mask, and for pairs type ids
/// and sequence ids.
/// </summary>
public sealed class UnigramParityTests(ITestOutputHelper output)
{
    static string T5Dir => TokenizerFixtures.TokenizerDir("t5-small");

    [Theory]
    [InlineData("t5-small.jsonl.gz", 4788)]
    [InlineData("t5-small.pairs.jsonl.gz", 200)]
    [InlineData("t5-small.special.jsonl.gz", 17)]
    public void Encode_TokenizerJson_EveryFixtureLineMatchesHuggingFace(string fixture, int expectedLines)
    {
        var cases = TokenizerFixtures.ReadJsonl(fixture);
        Assert.Equal(expectedLines, cases.Count);
        var tokenizer = TokenizerFixtures.LoadAny(T5Dir);
        Assert.IsType<UnigramTokenizer>(tokenizer);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var diffs = TokenizerFixtures.Mismatches(tokenizer, cases);
        watch.Stop();
        output.WriteLine($"{fixture}: {cases.Count - diffs.Count}/{cases.Count} lines match, encoded in {watch.ElapsedMilliseconds} ms");

        Assert.True(diffs.Count == 0, TokenizerFixtures.Report(fixture, cases.Count, diffs, show: 12));
    }

    [Fact]
    public void Properties_T5Small_PadEosAndVocabularySize()
    {
        var tokenizer = TokenizerFixtures.LoadAny(T5Dir);

        Assert.Equal(0, tokenizer.PadId);
        Assert.Null(tokenizer.MaskId);
        Assert.Equal(32100, tokenizer.VocabSize);
        Assert.Equal("</s>", tokenizer.IdToToken(1));
        Assert.Equal(32099, tokenizer.TokenToId("<extra_id_0>"));
    }
}
