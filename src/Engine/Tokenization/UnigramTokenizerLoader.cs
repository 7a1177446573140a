using System.Text.Json;
using static MixLens.Engine.Tokenization.WordPieceTokenizerLoader;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// Builds a <see cref="UnigramTokenizer"/> from a tokenizer.json whose model is Unigram (as
/// <c>Tokenizer::from_file</c>): <c>model.vocab</c> as [piece, score] pairs (id = position), <c>unk_id</c>,
/// <c>byte_fallback</c>; the normalizer (Precompiled, or a Sequence of supported ones); the pre-tokenizer Metaspace
/// or Sequence[WhitespaceSplit, Metaspace]; TemplateProcessing / RobertaProcessing / BertProcessing post-processors.
/// A SentencePiece <c>.model</c> file alone is not read (convert it with transformers to tokenizer.json).
/// The <c>truncation</c>, <c>padding</c> and <c>decoder</c> blocks are ignored.
/// Source: tokenizers/src/tokenizer/serialization.rs, models/unigram/serialization.rs, pre_tokenizers/metaspace.rs
/// (<c>prepend_scheme</c>, legacy <c>add_prefix_space</c>).
/// </summary>
internal static class UnigramTokenizerLoader
{
    /// <summary>Reads a tokenizer.json whose model is Unigram.</summary>
    /// <exception cref="TokenizerException">The file is malformed or uses a component this tokenizer does not
    /// implement; the message names the file and the field.</exception>
    public static UnigramTokenizer FromTokenizerJson(string path)
    {
        using var document = ParseJsonFile(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw Malformed(path, "the root is not a JSON object");
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw Malformed(path, "it has no \"model\" object");
        string modelType = ModelType(model);
        if (modelType != "Unigram") throw Malformed(path, $"model.type is \"{modelType}\", not \"Unigram\"");

        var vocab = ReadPieces(path, model);
        int? unkId = OptionalInt(path, model, "unk_id", "model.unk_id");
        bool byteFallback = OptionalBool(path, model, "byte_fallback") ?? false;
        var unigram = Wrap(path, () => new UnigramModel(vocab, unkId, byteFallback));

        var normalizer = root.TryGetProperty("normalizer", out var n) ? ReadNormalizer(path, n, "normalizer") : null;
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind == JsonValueKind.Null)
            throw new TokenizerException($"'{path}': a Unigram tokenizer without a Metaspace pre_tokenizer is not supported");
        var preTokenizer = ReadPreTokenizer(path, pre, "pre_tokenizer");
        var addedTokens = root.TryGetProperty("added_tokens", out var added) ? ReadAddedTokens(path, added) : [];
        var addedVocabulary = Wrap(path, () => new AddedVocabulary(addedTokens, normalizer));
        var (postProcessor, trim, trimPrefix) = root.TryGetProperty("post_processor", out var post)
            ? BpeTokenizerLoader.ReadPostProcessor(path, post, "post_processor")
            : (null, false, false);

        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var names = ReadSpecialTokenNames(dir);
        return new UnigramTokenizer(unigram, normalizer, preTokenizer, addedVocabulary, postProcessor, trim, trimPrefix,
            names.GetValueOrDefault("pad_token"), names.GetValueOrDefault("mask_token"))
        {
            ModelMaxLength = ReadModelMaxLength(dir),
        };
    }

    /// <summary>model.vocab: [[piece, score], ...].</summary>
    static List<(string, double)> ReadPieces(string path, JsonElement model)
    {
        if (!model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Array)
            throw Malformed(path, "model.vocab is missing or not an array of [piece, score] pairs");
        if (vocab.GetArrayLength() > InputLimits.MaxVocabularySize)
            throw Malformed(path, $"model.vocab has {vocab.GetArrayLength():N0} entries, over the limit of {InputLimits.MaxVocabularySize:N0}");
        var result = new List<(string, double)>(vocab.GetArrayLength());
        int i = 0;
        foreach (var item in vocab.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Array || item.GetArrayLength() != 2 || item[0].ValueKind != JsonValueKind.String
                || item[1].ValueKind != JsonValueKind.Number)
                throw Malformed(path, $"model.vocab[{i}] is {Shorten(item.GetRawText())}, not a [piece, score] pair");
            result.Add((item[0].GetString()!, item[1].GetDouble()));
            i++;
        }
        if (result.Count == 0) throw Malformed(path, "model.vocab is empty");
        return result;
    }

    static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "...";

    /// <summary>pre_tokenizer: Metaspace, or a Sequence of WhitespaceSplit then Metaspace.</summary>
    static MetaspacePreTokenizer ReadPreTokenizer(string path, JsonElement element, string field)
    {
        if (element.ValueKind != JsonValueKind.Object) throw Malformed(path, $"{field} is not an object");
        string type = RequiredString(path, element, "type", $"{field}.type");
        if (type == "Metaspace") return ReadMetaspace(path, element, field, whitespaceSplit: false);
        if (type == "Sequence" && element.TryGetProperty("pretokenizers", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            var items = list.EnumerateArray().ToList();
            if (items.Count == 1 && items[0].ValueKind == JsonValueKind.Object)
                return ReadPreTokenizer(path, items[0], $"{field}.pretokenizers[0]");
            if (items.Count == 2 && items[0].ValueKind == JsonValueKind.Object && items[1].ValueKind == JsonValueKind.Object
                && OptionalString(path, items[0], "type", $"{field}.pretokenizers[0].type") == "WhitespaceSplit"
                && OptionalString(path, items[1], "type", $"{field}.pretokenizers[1].type") == "Metaspace")
                return ReadMetaspace(path, items[1], $"{field}.pretokenizers[1]", whitespaceSplit: true);
            throw new TokenizerException($"'{path}': {field} Sequence is not supported with a Unigram model (supported: Metaspace, or WhitespaceSplit then Metaspace)");
        }
        throw new TokenizerException($"'{path}': {field} type \"{type}\" is not supported with a Unigram model (supported: Metaspace, or Sequence[WhitespaceSplit, Metaspace])");
    }

    static MetaspacePreTokenizer ReadMetaspace(string path, JsonElement element, string field, bool whitespaceSplit)
    {
        string replacement = OptionalString(path, element, "replacement", $"{field}.replacement") ?? "\u2581";
        if (replacement.Length == 0 || replacement.Length > 2 || (replacement.Length == 2 && !char.IsSurrogatePair(replacement, 0)))
            throw Malformed(path, $"{field}.replacement \"{replacement}\" is not one char");
        string? scheme = OptionalString(path, element, "prepend_scheme", $"{field}.prepend_scheme");
        var prepend = scheme switch
        {
            "always" => MetaspacePreTokenizer.Prepend.Always,
            "first" => MetaspacePreTokenizer.Prepend.First,
            "never" => MetaspacePreTokenizer.Prepend.Never,
            null => OptionalBool(path, element, "add_prefix_space") ?? true ? MetaspacePreTokenizer.Prepend.Always : MetaspacePreTokenizer.Prepend.Never,
            _ => throw Malformed(path, $"{field}.prepend_scheme is \"{scheme}\", not \"always\", \"first\" or \"never\""),
        };
        return new MetaspacePreTokenizer(whitespaceSplit, char.ConvertToUtf32(replacement, 0), prepend, OptionalBool(path, element, "split") ?? true);
    }
}
