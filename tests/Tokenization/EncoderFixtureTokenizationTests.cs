using MixLens.Engine.Tokenization;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Tokenization;

/// <summary>
/// The tokenizations recorded in each encoder fixture (fixtures/MODEL/index.json: input_ids,
/// token_type_ids, tokens, offsets_utf16, with the case's truncation) against the tokenizer loaded from the matching
/// model directory (minilm-l6-sst2 and random-bert-tiniest have their own tokenizer.json files; roberta-random has
/// only vocab.json + merges.txt).
/// </summary>
public sealed class EncoderFixtureTokenizationTests
{
    public static TheoryData<string> Models => new()
    {
        "all-MiniLM-L6-v2", "minilm-l6-sst2", "random-bert-tiniest", "bert-mlm-random", "bert-tokcls-random",
        "roberta-random", "distilbert-random", "electra-random",
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Encode_EncoderFixtureCases_MatchInputIdsTypesTokensAndOffsets(string model)
    {
        var cases = TokenizerFixtures.ReadIndexCases(model);
        Assert.NotEmpty(cases);
        var tokenizer = TokenizerFactory.Load(SharedData.Models(model));

        var diffs = TokenizerFixtures.Mismatches(tokenizer, cases);

        Assert.True(diffs.Count == 0, TokenizerFixtures.Report($"{model}/index.json", cases.Count, diffs));
    }

    [Fact]
    public void Encode_LongTruncatedCase_KeepsFirst510TokensBetweenClsAndSep()
    {
        var longCase = TokenizerFixtures.ReadIndexCases("all-MiniLM-L6-v2").Single(c => c.Name.EndsWith("long_truncated"));
        var tokenizer = TokenizerFixtures.Load(TokenizerFixtures.MiniLmDir);

        var full = tokenizer.Encode(longCase.Text);
        var truncated = tokenizer.Encode(longCase.Text, maxLength: 512);

        Assert.True(full.Length > 512, $"the long case should exceed 512 tokens untruncated, has {full.Length}");
        Assert.Equal(512, truncated.Length);
        Assert.Equal(full.Ids[..511], truncated.Ids[..511]);
        Assert.Equal(full.Ids[^1], truncated.Ids[^1]); // [SEP]
    }

    [Theory]
    [InlineData("all-MiniLM-L6-v2", 512)]
    [InlineData("minilm-l6-sst2", 512)]
    [InlineData("random-bert-tiniest", null)] // model_max_length is HF's "unlimited" sentinel 1e30
    public void ModelMaxLength_TokenizerConfig_IsDeclaredLengthOrNullWhenUnlimited(string model, int? expected)
    {
        Assert.Equal(expected, TokenizerFactory.Load(SharedData.Models(model)).ModelMaxLength);
    }
}
