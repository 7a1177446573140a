using MixLens.Engine.Tokenization;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Tokenization;

/// <summary>Missing, malformed and unsupported tokenizer files are refused with a message naming the file and the problem.</summary>
public sealed class TokenizerErrorTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("mixlens-tok-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string file, string content)
    {
        var path = Path.Combine(_dir, file);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>A minimal valid WordPiece tokenizer.json, with parts replaceable.</summary>
    static string TokenizerJson(string? model = null, string? normalizer = null, string? postProcessor = null) => $$"""
        {
          "version": "1.0",
          "added_tokens": [{"id": 0, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
          "normalizer": {{normalizer ?? """{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true}"""}},
          "pre_tokenizer": {"type": "BertPreTokenizer"},
          "post_processor": {{postProcessor ?? "null"}},
          "model": {{model ?? """{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": {"[UNK]": 0, "a": 1, "##b": 2}}"""}}
        }
        """;

    [Fact]
    public void Load_MissingDirectory_ThrowsNamingTheDirectory()
    {
        var missing = Path.Combine(_dir, "no-such-model");

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(missing));

        Assert.Equal($"tokenizer directory '{missing}' does not exist", e.Message);
    }

    [Fact]
    public void Load_DirectoryWithoutVocabulary_ThrowsNoTokenizerFound()
    {
        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"no tokenizer found in '{_dir}': expected tokenizer.json, vocab.txt (WordPiece) or vocab.json + merges.txt (BPE)", e.Message);
    }

    [Fact]
    public void FromDirectory_WordPieceOnBpeDirectory_ThrowsNamingTheKind()
    {
        var dir = SharedData.Models("roberta-random");

        var e = Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(dir));

        Assert.StartsWith($"'{dir}' holds a byte-level BPE tokenizer (vocab.json + merges.txt), not a WordPiece one", e.Message);
    }

    [Fact]
    public void Load_WordLevelTokenizerJson_ThrowsUnsupportedModelType()
    {
        var path = Write("tokenizer.json", TokenizerJson(model: """{"type": "WordLevel", "unk_token": "[UNK]", "vocab": {"[UNK]": 0}}"""));

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"WordLevel tokenizers are not supported ('{path}' has model.type \"WordLevel\"); WordPiece, byte-level BPE and Unigram tokenizers are", e.Message);
    }

    [Fact]
    public void Load_SentencePieceModelWithoutTokenizerJson_ThrowsAskingForTokenizerJson()
    {
        Write("spiece.model", "binary");

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.StartsWith($"'{_dir}' has a SentencePiece model file but no tokenizer.json", e.Message);
    }

    [Fact]
    public void Load_UnknownModelTypeInTokenizerJson_ThrowsNamingTheType()
    {
        Write("tokenizer.json", TokenizerJson(model: """{"type": "Charformer", "vocab": {}}"""));

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"unknown tokenizer model type \"Charformer\" ('{Path.Combine(_dir, "tokenizer.json")}' has model.type \"Charformer\"); "
            + "WordPiece, byte-level BPE and Unigram tokenizers are supported", e.Message);
    }

    [Fact]
    public void Load_InvalidJson_ThrowsNotValidJson()
    {
        var path = Write("tokenizer.json", """{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0,}""");

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.StartsWith($"'{path}' is not valid JSON: ", e.Message);
        Assert.IsType<System.Text.Json.JsonException>(e.InnerException, exactMatch: false);
    }

    [Fact]
    public void Load_VocabWithoutUnkToken_ThrowsMissingUnk()
    {
        var path = Write("tokenizer.json", TokenizerJson(model: """{"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"a": 0, "##b": 1}}"""));

        var e = Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(_dir));

        Assert.Equal($"'{path}': the WordPiece vocabulary has no entry for its unk token '[UNK]'", e.Message);
    }

    [Fact]
    public void Load_EmptyVocabTxt_ThrowsEmptyVocabulary()
    {
        var path = Write("vocab.txt", "");

        var e = Assert.Throws<TokenizerException>(() => TokenizerFactory.Load(_dir));

        Assert.Equal($"'{path}' is malformed: the vocabulary is empty", e.Message);
    }

    [Fact]
    public void Load_MissingModelObject_ThrowsMalformed()
    {
        var path = Write("tokenizer.json", """{"version": "1.0"}""");

        var e = Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(_dir));

        Assert.Equal($"'{path}' is malformed: it has no \"model\" object", e.Message);
    }

    [Fact]
    public void Load_VocabIdNotAnInteger_ThrowsNamingTheToken()
    {
        var path = Write("tokenizer.json", TokenizerJson(model: """{"type": "WordPiece", "vocab": {"[UNK]": 0, "a": "one"}}"""));

        var e = Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(_dir));

        Assert.Equal($"'{path}' is malformed: model.vocab gives token 'a' the id \"one\", not a non-negative integer", e.Message);
    }

    [Fact]
    public void Load_UnsupportedNormalizer_ThrowsNamingTheType()
    {
        var path = Write("tokenizer.json", TokenizerJson(normalizer: """{"type": "ByteLevel"}"""));

        var e = Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(_dir));

        Assert.StartsWith($"'{path}': normalizer type \"ByteLevel\" is not supported", e.Message);
    }

    [Fact]
    public void Load_TemplateWithUndefinedSpecialToken_ThrowsNamingTheToken()
    {
        var path = Write("tokenizer.json", TokenizerJson(postProcessor: """
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {}}
            """));

        var e = Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(_dir));

        Assert.Equal($"'{path}': post_processor template uses the special token '[CLS]', which its special_tokens do not define", e.Message);
    }

    [Fact]
    public void Load_MinimalTokenizerJson_EncodesWithoutPostProcessor()
    {
        Write("tokenizer.json", TokenizerJson());

        var tokenizer = TokenizerFactory.Load(_dir);
        var encoding = tokenizer.Encode("AB a c");

        Assert.Equal([1, 2, 1, 0], encoding.Ids); // ab -> a ##b; a; c -> [UNK]; no post-processor
        Assert.Equal(["a", "##b", "a", "[UNK]"], encoding.Tokens);
        Assert.Equal(3, tokenizer.VocabSize);
    }
}
