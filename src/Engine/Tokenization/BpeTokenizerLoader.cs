using System.Text.Json;
using static MixLens.Engine.Tokenization.WordPieceTokenizerLoader;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// Builds a <see cref="BpeTokenizer"/> from HuggingFace files: a tokenizer.json whose model is BPE (as
/// <c>Tokenizer::from_file</c>), or vocab.json + merges.txt with the optional tokenizer_config.json /
/// special_tokens_map.json (as transformers' RobertaTokenizer builds the pipeline: ByteLevel pre-tokenizer with the
/// config's add_prefix_space, BPE without unk token, RobertaProcessing with trim_offsets, and the special tokens
/// added unnormalised, with <c>lstrip</c> only where tokenizer_config.json's added_tokens_decoder says so).
/// The <c>truncation</c>, <c>padding</c> and <c>decoder</c> blocks of tokenizer.json are ignored.
/// Source: tokenizers/src/tokenizer/serialization.rs, models/bpe/serialization.rs (merges as "a b" strings or
/// [a, b] pairs), models/bpe/model.rs (<c>BPE::read_file</c>); transformers models/roberta/tokenization_roberta.py.
/// </summary>
internal static class BpeTokenizerLoader
{
    internal const string VocabJson = "vocab.json";
    internal const string MergesTxt = "merges.txt";

    /// <summary>Reads a tokenizer.json whose model is BPE.</summary>
    /// <exception cref="TokenizerException">The file is malformed or uses a component this tokenizer does not
    /// implement; the message names the file and the field.</exception>
    public static BpeTokenizer FromTokenizerJson(string path)
    {
        using var document = ParseJsonFile(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw Malformed(path, "the root is not a JSON object");
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw Malformed(path, "it has no \"model\" object");
        string modelType = ModelType(model);
        if (modelType != "BPE") throw Malformed(path, $"model.type is \"{modelType}\", not \"BPE\"");

        var vocab = ReadVocabObject(path, model);
        var merges = ReadMergesArray(path, model);
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() > 0)
            throw new TokenizerException($"'{path}': model.dropout is {dropout.GetRawText()}; BPE dropout (random segmentation) is not supported at inference");
        var bpe = Wrap(path, () => new BpeModel(vocab, merges,
            unkToken: OptionalString(path, model, "unk_token", "model.unk_token"),
            fuseUnk: OptionalBool(path, model, "fuse_unk") ?? false,
            continuingSubwordPrefix: OptionalString(path, model, "continuing_subword_prefix", "model.continuing_subword_prefix"),
            endOfWordSuffix: OptionalString(path, model, "end_of_word_suffix", "model.end_of_word_suffix"),
            ignoreMerges: OptionalBool(path, model, "ignore_merges") ?? false,
            byteFallback: OptionalBool(path, model, "byte_fallback") ?? false));

        var normalizer = root.TryGetProperty("normalizer", out var n) ? ReadNormalizer(path, n, "normalizer") : null;
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind == JsonValueKind.Null)
            throw new TokenizerException($"'{path}': BPE without a ByteLevel pre_tokenizer is not supported (only byte-level BPE such as GPT-2/RoBERTa is)");
        var (addPrefixSpace, useRegex) = ReadByteLevelPreTokenizer(path, pre, "pre_tokenizer");
        var addedTokens = root.TryGetProperty("added_tokens", out var added) ? ReadAddedTokens(path, added) : [];
        var addedVocabulary = Wrap(path, () => new AddedVocabulary(addedTokens, normalizer));
        var (postProcessor, trim, trimPrefix) = root.TryGetProperty("post_processor", out var post)
            ? ReadPostProcessor(path, post, "post_processor")
            : (null, false, false);

        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var names = ReadSpecialTokenNames(dir);
        return new BpeTokenizer(bpe, normalizer, addPrefixSpace, useRegex, addedVocabulary, postProcessor, trim, trimPrefix,
            names.GetValueOrDefault("pad_token"), names.GetValueOrDefault("mask_token"))
        {
            ModelMaxLength = ReadModelMaxLength(dir),
        };
    }

    /// <summary>
    /// Builds the RobertaTokenizer pipeline from vocab.json (token → id) and merges.txt (a "#version" header line,
    /// then one "left right" merge per line, rank = order), with tokenizer_config.json's add_prefix_space
    /// (default false), trim_offsets (default true), special tokens and added_tokens_decoder.
    /// </summary>
    /// <exception cref="TokenizerException">A file is missing or malformed; the message names it.</exception>
    public static BpeTokenizer FromVocabFiles(string dir)
    {
        string vocabPath = Path.Combine(dir, VocabJson);
        string mergesPath = Path.Combine(dir, MergesTxt);
        if (!File.Exists(vocabPath)) throw new TokenizerException($"'{dir}' has {MergesTxt} but no {VocabJson}");
        if (!File.Exists(mergesPath)) throw new TokenizerException($"'{dir}' has {VocabJson} but no {MergesTxt}");
        Dictionary<string, int> vocab;
        using (var document = ParseJsonFile(vocabPath))
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw Malformed(vocabPath, "the root is not an object of token → id");
            vocab = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                    throw Malformed(vocabPath, $"token '{entry.Name}' has the id {entry.Value.GetRawText()}, not a non-negative integer");
                vocab[entry.Name] = id;
                if (vocab.Count > InputLimits.MaxVocabularySize)
                    throw Malformed(vocabPath, $"the vocabulary has more than {InputLimits.MaxVocabularySize:N0} entries, the most a vocabulary may have");
            }
            if (vocab.Count == 0) throw Malformed(vocabPath, "the vocabulary is empty");
        }
        var merges = ReadMergesTxt(mergesPath);
        var bpe = Wrap(mergesPath, () => new BpeModel(vocab, merges, unkToken: null, fuseUnk: false, continuingSubwordPrefix: "", endOfWordSuffix: ""));

        string configPath = Path.Combine(dir, TokenizerConfigJson);
        using var config = File.Exists(configPath) ? ParseJsonFile(configPath) : null;
        var configRoot = config?.RootElement;
        if (configRoot is { ValueKind: not JsonValueKind.Object }) throw Malformed(configPath, "the root is not a JSON object");
        bool addPrefixSpace = configRoot is { } c1 ? OptionalBool(configPath, c1, "add_prefix_space") ?? false : false;
        bool trimOffsets = configRoot is { } c2 ? OptionalBool(configPath, c2, "trim_offsets") ?? true : true;

        var names = ReadSpecialTokenNames(dir);
        string cls = names.GetValueOrDefault("cls_token") ?? "<s>";
        string sep = names.GetValueOrDefault("sep_token") ?? "</s>";

        // added_tokens_decoder first (with its flags), then the special tokens it lacks.
        var added = new List<AddedToken>();
        if (configRoot is { } c3 && c3.TryGetProperty("added_tokens_decoder", out var decoder) && decoder.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in decoder.EnumerateObject())
            {
                if (!int.TryParse(entry.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
                    throw Malformed(configPath, $"added_tokens_decoder key '{entry.Name}' is not an id");
                added.Add(ReadAddedToken(configPath, entry.Value, $"added_tokens_decoder.{entry.Name}", id));
            }
        }
        int nextId = Math.Max(bpe.IdLimit, added.Count == 0 ? 0 : added.Max(t => t.Id) + 1);
        foreach (var key in new[] { "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token" })
        {
            string content = names.GetValueOrDefault(key) ?? key switch
            {
                "bos_token" or "cls_token" => "<s>", "eos_token" or "sep_token" => "</s>", "unk_token" => "<unk>",
                "pad_token" => "<pad>", _ => "<mask>",
            };
            if (added.Any(t => t.Content == content)) continue;
            int id = bpe.TokenToId(content) ?? nextId++;
            added.Add(new AddedToken(content, id, Special: true, Normalized: false));
        }
        var addedVocabulary = Wrap(vocabPath, () => new AddedVocabulary(added, null));

        int clsId = bpe.TokenToId(cls) ?? addedVocabulary.Find(cls)?.Id ?? throw Malformed(vocabPath, $"the vocabulary has no cls token '{cls}'");
        int sepId = bpe.TokenToId(sep) ?? addedVocabulary.Find(sep)?.Id ?? throw Malformed(vocabPath, $"the vocabulary has no sep token '{sep}'");
        return new BpeTokenizer(bpe, null, addPrefixSpace, useRegex: true, addedVocabulary, Roberta(cls, clsId, sep, sepId),
            trimOffsets, addPrefixSpace, names.GetValueOrDefault("pad_token"), names.GetValueOrDefault("mask_token"))
        {
            ModelMaxLength = ReadModelMaxLength(dir),
        };
    }

    /// <summary>The RoBERTa layout: <c>cls A sep</c> and <c>cls A sep sep B sep</c>, every type id 0 (HF <c>RobertaProcessing</c>).</summary>
    public static TemplatePostProcessor Roberta(string cls, int clsId, string sep, int sepId) => new(
        [new TemplatePostProcessor.SpecialTokenPiece(cls, 0), new TemplatePostProcessor.SequencePiece(false, 0), new TemplatePostProcessor.SpecialTokenPiece(sep, 0)],
        [
            new TemplatePostProcessor.SpecialTokenPiece(cls, 0), new TemplatePostProcessor.SequencePiece(false, 0), new TemplatePostProcessor.SpecialTokenPiece(sep, 0),
            new TemplatePostProcessor.SpecialTokenPiece(sep, 0), new TemplatePostProcessor.SequencePiece(true, 0), new TemplatePostProcessor.SpecialTokenPiece(sep, 0),
        ],
        new Dictionary<string, TemplatePostProcessor.SpecialToken>
        {
            [cls] = new(cls, [clsId], [cls]),
            [sep] = new(sep, [sepId], [sep]),
        });

    /// <summary>model.merges: "left right" strings or [left, right] arrays, rank = position.</summary>
    static List<(string, string)> ReadMergesArray(string path, JsonElement model)
    {
        if (!model.TryGetProperty("merges", out var merges) || merges.ValueKind != JsonValueKind.Array)
            throw Malformed(path, "model.merges is missing or not an array");
        if (merges.GetArrayLength() > InputLimits.MaxMerges)
            throw Malformed(path, $"model.merges has {merges.GetArrayLength():N0} entries, over the limit of {InputLimits.MaxMerges:N0} merge rules");
        var result = new List<(string, string)>(merges.GetArrayLength());
        int i = 0;
        foreach (var item in merges.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                var parts = item.GetString()!.Split(' ');
                if (parts.Length != 2) throw Malformed(path, $"model.merges[{i}] \"{item.GetString()}\" is not two tokens separated by one space");
                result.Add((parts[0], parts[1]));
            }
            else if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() == 2
                && item[0].ValueKind == JsonValueKind.String && item[1].ValueKind == JsonValueKind.String)
                result.Add((item[0].GetString()!, item[1].GetString()!));
            else throw Malformed(path, $"model.merges[{i}] is {item.GetRawText()}, neither \"left right\" nor [left, right]");
            i++;
        }
        return result;
    }

    /// <summary>merges.txt: lines starting with "#version" are skipped (as HF), blank lines too; every other line is
    /// "left right".</summary>
    static List<(string, string)> ReadMergesTxt(string path)
    {
        var result = new List<(string, string)>();
        try
        {
            int lineNumber = 0;
            foreach (var line in File.ReadLines(path, System.Text.Encoding.UTF8))
            {
                lineNumber++;
                if (line.StartsWith("#version", StringComparison.Ordinal) || line.Length == 0) continue;
                if (result.Count == InputLimits.MaxMerges)
                    throw Malformed(path, $"more than {InputLimits.MaxMerges:N0} merge rules, the most a tokenizer may have");
                var parts = line.Split(' ');
                if (parts.Length != 2) throw Malformed(path, $"line {lineNumber} \"{line}\" is not two tokens separated by one space");
                result.Add((parts[0], parts[1]));
            }
        }
        catch (IOException e)
        {
            throw new TokenizerException($"cannot read '{path}': {e.Message}", e);
        }
        return result;
    }

    /// <summary>pre_tokenizer: ByteLevel (or a Sequence holding only ByteLevel) → (add_prefix_space, use_regex).</summary>
    static (bool AddPrefixSpace, bool UseRegex) ReadByteLevelPreTokenizer(string path, JsonElement element, string field)
    {
        if (element.ValueKind != JsonValueKind.Object) throw Malformed(path, $"{field} is not an object");
        string type = RequiredString(path, element, "type", $"{field}.type");
        if (type == "ByteLevel")
            return (OptionalBool(path, element, "add_prefix_space") ?? true, OptionalBool(path, element, "use_regex") ?? true);
        if (type == "Sequence" && element.TryGetProperty("pretokenizers", out var list) && list.ValueKind == JsonValueKind.Array
            && list.GetArrayLength() == 1)
            return ReadByteLevelPreTokenizer(path, list[0], $"{field}.pretokenizers[0]");
        throw new TokenizerException($"'{path}': {field} type \"{type}\" is not supported with a BPE model (supported: ByteLevel)");
    }

    /// <summary>post_processor: RobertaProcessing, ByteLevel (offset trimming only), TemplateProcessing, BertProcessing,
    /// or a Sequence of these → (template, trim_offsets, add_prefix_space of the trimming).</summary>
    internal static (TemplatePostProcessor? Template, bool Trim, bool TrimPrefix) ReadPostProcessor(string path, JsonElement element, string field)
    {
        if (element.ValueKind == JsonValueKind.Null) return (null, false, false);
        if (element.ValueKind != JsonValueKind.Object) throw Malformed(path, $"{field} is not an object");
        string type = RequiredString(path, element, "type", $"{field}.type");
        switch (type)
        {
            case "RobertaProcessing":
            {
                var (sep, sepId) = ReadTokenPair(path, element, "sep");
                var (cls, clsId) = ReadTokenPair(path, element, "cls");
                return (Wrap(path, () => Roberta(cls, clsId, sep, sepId)),
                    OptionalBool(path, element, "trim_offsets") ?? true, OptionalBool(path, element, "add_prefix_space") ?? true);
            }
            case "ByteLevel":
                return (null, OptionalBool(path, element, "trim_offsets") ?? true, OptionalBool(path, element, "add_prefix_space") ?? true);
            case "TemplateProcessing" or "BertProcessing":
                return (WordPieceTokenizerLoader.ReadPostProcessor(path, element), false, false);
            case "Sequence":
            {
                if (!element.TryGetProperty("processors", out var list) || list.ValueKind != JsonValueKind.Array)
                    throw Malformed(path, $"{field}.processors is missing or not an array");
                TemplatePostProcessor? template = null;
                bool trim = false, trimPrefix = false;
                int i = 0;
                foreach (var item in list.EnumerateArray())
                {
                    var (t, tr, tp) = ReadPostProcessor(path, item, $"{field}.processors[{i++}]");
                    if (t is not null)
                    {
                        if (template is not null) throw new TokenizerException($"'{path}': {field} holds two processors that add special tokens");
                        template = t;
                    }
                    if (tr) (trim, trimPrefix) = (true, tp);
                }
                return (template, trim, trimPrefix);
            }
            default:
                throw new TokenizerException($"'{path}': {field} type \"{type}\" is not supported (supported: RobertaProcessing, ByteLevel, TemplateProcessing, BertProcessing, Sequence)");
        }
    }
}
