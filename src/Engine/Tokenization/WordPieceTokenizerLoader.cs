using System.Text.Json;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// Builds a <see cref="WordPieceTokenizer"/> from HuggingFace files, as <c>Tokenizer::from_file</c> reads
/// tokenizer.json and as transformers' BertTokenizer builds the same pipeline from vocab.txt + tokenizer_config.json.
/// The <c>truncation</c>, <c>padding</c> and <c>decoder</c> blocks of tokenizer.json are ignored (HF tokenizer calls
/// do not apply them; truncation is per call).
/// Source: tokenizers/src/tokenizer/serialization.rs; transformers models/bert/tokenization_bert.py and
/// convert_slow_tokenizer.py (<c>BertConverter</c>).
/// </summary>
internal static class WordPieceTokenizerLoader
{
    internal const string TokenizerJson = "tokenizer.json";
    internal const string VocabTxt = "vocab.txt";
    internal const string TokenizerConfigJson = "tokenizer_config.json";
    internal const string SpecialTokensMapJson = "special_tokens_map.json";

    /// <summary>See <see cref="WordPieceTokenizer.FromDirectory"/>.</summary>
    public static WordPieceTokenizer FromDirectory(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (!Directory.Exists(dir)) throw new TokenizerException($"tokenizer directory '{dir}' does not exist");
        string json = Path.Combine(dir, TokenizerJson);
        if (File.Exists(json)) return FromTokenizerJson(json);
        string vocab = Path.Combine(dir, VocabTxt);
        if (File.Exists(vocab)) return FromVocabFiles(dir);
        if (File.Exists(Path.Combine(dir, BpeTokenizerLoader.VocabJson)) && File.Exists(Path.Combine(dir, BpeTokenizerLoader.MergesTxt)))
            throw new TokenizerException($"'{dir}' holds a byte-level BPE tokenizer (vocab.json + merges.txt), not a WordPiece one (TokenizerFactory.Load picks the tokenizer kind from the files)");
        throw new TokenizerException(TokenizerFactory.DescribeUnsupported(dir));
    }

    /// <summary>Reads a tokenizer.json whose model is WordPiece. Special-token names for <see cref="WordPieceTokenizer.PadId"/>
    /// and <see cref="WordPieceTokenizer.MaskId"/> come from tokenizer_config.json / special_tokens_map.json beside it.</summary>
    public static WordPieceTokenizer FromTokenizerJson(string path)
    {
        using var document = ParseJsonFile(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw Malformed(path, "the root is not a JSON object");

        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw Malformed(path, "it has no \"model\" object");
        string modelType = ModelType(model);
        if (modelType != "WordPiece")
            throw new TokenizerException($"'{path}' has model.type \"{modelType}\", not a WordPiece model (TokenizerFactory.Load picks the tokenizer kind from the files)");

        var vocab = ReadVocabObject(path, model);
        string unk = OptionalString(path, model, "unk_token", "model.unk_token") ?? "[UNK]";
        string prefix = OptionalString(path, model, "continuing_subword_prefix", "model.continuing_subword_prefix") ?? "##";
        int maxChars = OptionalInt(path, model, "max_input_chars_per_word", "model.max_input_chars_per_word") ?? 100;
        var wordPiece = Wrap(path, () => new WordPieceModel(vocab, unk, prefix, maxChars));

        var normalizer = root.TryGetProperty("normalizer", out var n) ? ReadNormalizer(path, n, "normalizer") : null;
        bool bertPreTokenizer = root.TryGetProperty("pre_tokenizer", out var p) && ReadPreTokenizer(path, p, "pre_tokenizer");
        var addedTokens = root.TryGetProperty("added_tokens", out var added) ? ReadAddedTokens(path, added) : [];
        var addedVocabulary = Wrap(path, () => new AddedVocabulary(addedTokens, normalizer));
        var postProcessor = root.TryGetProperty("post_processor", out var post) ? ReadPostProcessor(path, post) : null;

        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var names = ReadSpecialTokenNames(dir);
        string? padToken = names.GetValueOrDefault("pad_token");
        if (padToken is null && root.TryGetProperty("padding", out var padding) && padding.ValueKind == JsonValueKind.Object)
            padToken = OptionalString(path, padding, "pad_token", "padding.pad_token");
        return new WordPieceTokenizer(wordPiece, normalizer, bertPreTokenizer, addedVocabulary, postProcessor,
            padToken, names.GetValueOrDefault("mask_token"))
        {
            ModelMaxLength = ReadModelMaxLength(dir),
        };
    }

    /// <summary>
    /// Builds the BertTokenizer pipeline from vocab.txt (one token per line, id = line number) and the optional
    /// tokenizer_config.json (do_lower_case, strip_accents, tokenize_chinese_chars, special tokens,
    /// added_tokens_decoder) and special_tokens_map.json: BertNormalizer(clean_text, tokenize_chinese_chars,
    /// strip_accents, do_lower_case), BertPreTokenizer, WordPiece("##", 100), <c>[CLS] $A [SEP]</c> /
    /// <c>[CLS] $A [SEP] $B:1 [SEP]:1</c>, with the special tokens added as unnormalised special tokens.
    /// </summary>
    public static WordPieceTokenizer FromVocabFiles(string dir)
    {
        string vocabPath = Path.Combine(dir, VocabTxt);
        var vocab = ReadVocabTxt(vocabPath);

        string configPath = Path.Combine(dir, TokenizerConfigJson);
        using var config = File.Exists(configPath) ? ParseJsonFile(configPath) : null;
        var configRoot = config?.RootElement;
        if (configRoot is { ValueKind: not JsonValueKind.Object }) throw Malformed(configPath, "the root is not a JSON object");

        bool lowercase = configRoot is { } c1 ? OptionalBool(configPath, c1, "do_lower_case") ?? true : true;
        bool? stripAccents = configRoot is { } c2 ? OptionalBool(configPath, c2, "strip_accents") : null;
        bool chinese = configRoot is { } c3 ? OptionalBool(configPath, c3, "tokenize_chinese_chars") ?? true : true;
        var normalizer = new BertNormalizer(cleanText: true, handleChineseChars: chinese, stripAccents: stripAccents, lowercase: lowercase);

        var names = ReadSpecialTokenNames(dir);
        string unk = names.GetValueOrDefault("unk_token") ?? "[UNK]";
        string cls = names.GetValueOrDefault("cls_token") ?? "[CLS]";
        string sep = names.GetValueOrDefault("sep_token") ?? "[SEP]";
        var model = Wrap(vocabPath, () => new WordPieceModel(vocab, unk, "##", 100));

        // added_tokens_decoder first (with its flags), then the special tokens it lacks.
        var added = new List<AddedToken>();
        if (configRoot is { } c4 && c4.TryGetProperty("added_tokens_decoder", out var decoder) && decoder.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in decoder.EnumerateObject())
            {
                if (!int.TryParse(entry.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
                    throw Malformed(configPath, $"added_tokens_decoder key '{entry.Name}' is not an id");
                added.Add(ReadAddedToken(configPath, entry.Value, $"added_tokens_decoder.{entry.Name}", id));
            }
        }
        int nextId = Math.Max(model.IdLimit, added.Count == 0 ? 0 : added.Max(t => t.Id) + 1);
        foreach (var key in new[] { "unk_token", "sep_token", "pad_token", "cls_token", "mask_token" })
        {
            string? content = names.GetValueOrDefault(key) ?? key switch
            {
                "unk_token" => "[UNK]", "sep_token" => "[SEP]", "pad_token" => "[PAD]", "cls_token" => "[CLS]", _ => "[MASK]",
            };
            if (added.Any(t => t.Content == content)) continue;
            int id = model.TokenToId(content) ?? nextId++;
            added.Add(new AddedToken(content, id, Special: true, Normalized: false));
        }
        var addedVocabulary = Wrap(vocabPath, () => new AddedVocabulary(added, normalizer));

        int clsId = model.TokenToId(cls) ?? addedVocabulary.Find(cls)?.Id
            ?? throw Malformed(vocabPath, $"the vocabulary has no cls token '{cls}'");
        int sepId = model.TokenToId(sep) ?? addedVocabulary.Find(sep)?.Id
            ?? throw Malformed(vocabPath, $"the vocabulary has no sep token '{sep}'");
        var postProcessor = TemplatePostProcessor.Bert(cls, clsId, sep, sepId);
        return new WordPieceTokenizer(model, normalizer, true, addedVocabulary, postProcessor,
            names.GetValueOrDefault("pad_token"), names.GetValueOrDefault("mask_token"))
        {
            ModelMaxLength = ReadModelMaxLength(dir),
        };
    }

    /// <summary>The model type of a tokenizer.json "model" object ("WordPiece", "BPE", "Unigram", "WordLevel"),
    /// inferring it from the fields when "type" is absent (old files).</summary>
    internal static string ModelType(JsonElement model)
    {
        if (model.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String) return type.GetString()!;
        if (model.TryGetProperty("merges", out _)) return "BPE";
        if (model.TryGetProperty("vocab", out var v) && v.ValueKind == JsonValueKind.Array) return "Unigram";
        if (model.TryGetProperty("continuing_subword_prefix", out _) || model.TryGetProperty("max_input_chars_per_word", out _)) return "WordPiece";
        return "WordLevel";
    }

    /// <summary>The message for a tokenizer kind this project cannot run yet.</summary>
    internal static string UnsupportedModel(string modelType, string where) => modelType switch
    {
        "WordLevel" => $"WordLevel tokenizers are not supported ({where}); WordPiece, byte-level BPE and Unigram tokenizers are",
        _ => $"unknown tokenizer model type \"{modelType}\" ({where}); WordPiece, byte-level BPE and Unigram tokenizers are supported",
    };

    /// <summary>Parses a JSON file, turning I/O and syntax errors into <see cref="TokenizerException"/>.</summary>
    internal static JsonDocument ParseJsonFile(string path)
    {
        try
        {
            return StrictJson.ParseFile(path, new JsonDocumentOptions { AllowTrailingCommas = false, MaxDepth = InputLimits.MaxJsonDepth });
        }
        catch (JsonException e)
        {
            throw new TokenizerException($"'{path}' is not valid JSON: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new TokenizerException($"cannot read '{path}': {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new TokenizerException($"cannot read '{path}': {e.Message}", e);
        }
    }

    internal static Dictionary<string, int> ReadVocabObject(string path, JsonElement model)
    {
        if (!model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
            throw Malformed(path, "model.vocab is missing or not an object of token → id");
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocab.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw Malformed(path, $"model.vocab gives token '{entry.Name}' the id {entry.Value.GetRawText()}, not a non-negative integer");
            result[entry.Name] = id;
            if (result.Count > InputLimits.MaxVocabularySize)
                throw Malformed(path, $"model.vocab has more than {InputLimits.MaxVocabularySize:N0} entries, the most a vocabulary may have");
        }
        if (result.Count == 0) throw Malformed(path, "model.vocab is empty");
        return result;
    }

    internal static Dictionary<string, int> ReadVocabTxt(string path)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            int index = 0;
            // Python's universal newlines: a line ends at \n, \r or \r\n, as StreamReader.ReadLine; later duplicates win.
            foreach (var line in File.ReadLines(path, System.Text.Encoding.UTF8))
            {
                if (index == InputLimits.MaxVocabularySize)
                    throw Malformed(path, $"the vocabulary has more than {InputLimits.MaxVocabularySize:N0} lines, the most a vocabulary may have");
                vocab[line] = index++;
            }
        }
        catch (IOException e)
        {
            throw new TokenizerException($"cannot read '{path}': {e.Message}", e);
        }
        if (vocab.Count == 0) throw Malformed(path, "the vocabulary is empty");
        return vocab;
    }

    internal static INormalizer? ReadNormalizer(string path, JsonElement element, string field)
    {
        if (element.ValueKind == JsonValueKind.Null) return null;
        if (element.ValueKind != JsonValueKind.Object) throw Malformed(path, $"{field} is not an object");
        string type = RequiredString(path, element, "type", $"{field}.type");
        switch (type)
        {
            case "BertNormalizer":
                return new BertNormalizer(
                    cleanText: OptionalBool(path, element, "clean_text") ?? true,
                    handleChineseChars: OptionalBool(path, element, "handle_chinese_chars") ?? true,
                    stripAccents: OptionalBool(path, element, "strip_accents"),
                    lowercase: OptionalBool(path, element, "lowercase") ?? true);
            case "Lowercase": return new LowercaseNormalizer();
            case "NFD": return new NfdNormalizer();
            case "StripAccents": return new StripAccentsNormalizer();
            case "Precompiled":
            {
                string charsmap = OptionalString(path, element, "precompiled_charsmap", $"{field}.precompiled_charsmap")
                    ?? throw Malformed(path, $"{field}.precompiled_charsmap is missing");
                return Wrap(path, () => new PrecompiledNormalizer(PrecompiledCharsmap.FromBase64(charsmap)));
            }
            case "Sequence":
                if (!element.TryGetProperty("normalizers", out var list) || list.ValueKind != JsonValueKind.Array)
                    throw Malformed(path, $"{field}.normalizers is missing or not an array");
                var steps = new List<INormalizer>();
                int i = 0;
                foreach (var item in list.EnumerateArray())
                {
                    var step = ReadNormalizer(path, item, $"{field}.normalizers[{i++}]");
                    if (step is not null) steps.Add(step);
                }
                return new NormalizerSequence(steps);
            default:
                throw new TokenizerException($"'{path}': {field} type \"{type}\" is not supported (supported: BertNormalizer, Lowercase, NFD, StripAccents, Precompiled, Sequence)");
        }
    }

    internal static bool ReadPreTokenizer(string path, JsonElement element, string field)
    {
        if (element.ValueKind == JsonValueKind.Null) return false;
        if (element.ValueKind != JsonValueKind.Object) throw Malformed(path, $"{field} is not an object");
        string type = RequiredString(path, element, "type", $"{field}.type");
        if (type == "BertPreTokenizer") return true;
        if (type == "Sequence" && element.TryGetProperty("pretokenizers", out var list) && list.ValueKind == JsonValueKind.Array
            && list.GetArrayLength() == 1)
            return ReadPreTokenizer(path, list[0], $"{field}.pretokenizers[0]");
        throw new TokenizerException($"'{path}': {field} type \"{type}\" is not supported (supported: BertPreTokenizer)");
    }

    internal static List<AddedToken> ReadAddedTokens(string path, JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Null) return [];
        if (element.ValueKind != JsonValueKind.Array) throw Malformed(path, "added_tokens is not an array");
        var tokens = new List<AddedToken>();
        int i = 0;
        foreach (var item in element.EnumerateArray())
        {
            string field = $"added_tokens[{i++}]";
            if (item.ValueKind != JsonValueKind.Object) throw Malformed(path, $"{field} is not an object");
            int id = OptionalInt(path, item, "id", $"{field}.id") ?? throw Malformed(path, $"{field} has no id");
            tokens.Add(ReadAddedToken(path, item, field, id));
        }
        return tokens;
    }

    internal static AddedToken ReadAddedToken(string path, JsonElement item, string field, int id)
    {
        if (item.ValueKind == JsonValueKind.String) return new AddedToken(item.GetString()!, id, Special: true, Normalized: false);
        if (item.ValueKind != JsonValueKind.Object) throw Malformed(path, $"{field} is not an object");
        string content = RequiredString(path, item, "content", $"{field}.content");
        bool special = OptionalBool(path, item, "special") ?? false;
        return new AddedToken(content, id,
            Special: special,
            SingleWord: OptionalBool(path, item, "single_word") ?? false,
            Lstrip: OptionalBool(path, item, "lstrip") ?? false,
            Rstrip: OptionalBool(path, item, "rstrip") ?? false,
            Normalized: OptionalBool(path, item, "normalized") ?? !special);
    }

    internal static TemplatePostProcessor? ReadPostProcessor(string path, JsonElement element)
    {
        const string field = "post_processor";
        if (element.ValueKind == JsonValueKind.Null) return null;
        if (element.ValueKind != JsonValueKind.Object) throw Malformed(path, $"{field} is not an object");
        string type = RequiredString(path, element, "type", $"{field}.type");
        switch (type)
        {
            case "BertProcessing":
            {
                var (sep, sepId) = ReadTokenPair(path, element, "sep");
                var (cls, clsId) = ReadTokenPair(path, element, "cls");
                return Wrap(path, () => TemplatePostProcessor.Bert(cls, clsId, sep, sepId));
            }
            case "TemplateProcessing":
            {
                var single = ReadTemplate(path, element, "single");
                var pair = ReadTemplate(path, element, "pair");
                var specials = new Dictionary<string, TemplatePostProcessor.SpecialToken>(StringComparer.Ordinal);
                if (element.TryGetProperty("special_tokens", out var map) && map.ValueKind == JsonValueKind.Object)
                {
                    foreach (var entry in map.EnumerateObject())
                    {
                        string f = $"{field}.special_tokens.{entry.Name}";
                        if (entry.Value.ValueKind != JsonValueKind.Object) throw Malformed(path, $"{f} is not an object");
                        string id = OptionalString(path, entry.Value, "id", $"{f}.id") ?? entry.Name;
                        if (!entry.Value.TryGetProperty("ids", out var ids) || ids.ValueKind != JsonValueKind.Array
                            || !entry.Value.TryGetProperty("tokens", out var toks) || toks.ValueKind != JsonValueKind.Array)
                            throw Malformed(path, $"{f} needs arrays \"ids\" and \"tokens\"");
                        var idList = new List<int>();
                        foreach (var x in ids.EnumerateArray())
                        {
                            if (x.ValueKind != JsonValueKind.Number || !x.TryGetInt32(out int v) || v < 0) throw Malformed(path, $"{f}.ids holds {x.GetRawText()}, not an id");
                            idList.Add(v);
                        }
                        var tokenList = new List<string>();
                        foreach (var x in toks.EnumerateArray())
                        {
                            if (x.ValueKind != JsonValueKind.String) throw Malformed(path, $"{f}.tokens holds {x.GetRawText()}, not a string");
                            tokenList.Add(x.GetString()!);
                        }
                        specials[id] = new TemplatePostProcessor.SpecialToken(id, idList.ToArray(), tokenList.ToArray());
                    }
                }
                return Wrap(path, () => new TemplatePostProcessor(single, pair, specials));
            }
            default:
                throw new TokenizerException($"'{path}': {field} type \"{type}\" is not supported (supported: TemplateProcessing, BertProcessing)");
        }
    }

    internal static (string Token, int Id) ReadTokenPair(string path, JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var pair) || pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2
            || pair[0].ValueKind != JsonValueKind.String || pair[1].ValueKind != JsonValueKind.Number || !pair[1].TryGetInt32(out int id))
            throw Malformed(path, $"post_processor.{name} is not a [token, id] pair");
        return (pair[0].GetString()!, id);
    }

    internal static IReadOnlyList<TemplatePostProcessor.Piece> ReadTemplate(string path, JsonElement element, string name)
    {
        string field = $"post_processor.{name}";
        if (!element.TryGetProperty(name, out var template)) throw Malformed(path, $"{field} is missing");
        if (template.ValueKind == JsonValueKind.String) return Wrap(path, () => TemplatePostProcessor.ParseTemplate(template.GetString()!));
        if (template.ValueKind != JsonValueKind.Array) throw Malformed(path, $"{field} is not an array");
        var pieces = new List<TemplatePostProcessor.Piece>();
        int i = 0;
        foreach (var item in template.EnumerateArray())
        {
            string f = $"{field}[{i++}]";
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("SpecialToken", out var special) && special.ValueKind == JsonValueKind.Object)
                pieces.Add(new TemplatePostProcessor.SpecialTokenPiece(RequiredString(path, special, "id", $"{f}.SpecialToken.id"),
                    OptionalInt(path, special, "type_id", $"{f}.SpecialToken.type_id") ?? 0));
            else if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("Sequence", out var sequence) && sequence.ValueKind == JsonValueKind.Object)
            {
                string id = RequiredString(path, sequence, "id", $"{f}.Sequence.id");
                if (id is not ("A" or "B")) throw Malformed(path, $"{f}.Sequence.id is \"{id}\", not \"A\" or \"B\"");
                pieces.Add(new TemplatePostProcessor.SequencePiece(id == "B", OptionalInt(path, sequence, "type_id", $"{f}.Sequence.type_id") ?? 0));
            }
            else throw Malformed(path, $"{f} is neither {{\"SpecialToken\": ...}} nor {{\"Sequence\": ...}}");
        }
        return pieces;
    }

    /// <summary>
    /// Special-token names (unk_token, sep_token, pad_token, cls_token, mask_token, bos_token, eos_token) from tokenizer_config.json, then
    /// special_tokens_map.json (which wins, as in transformers); each a string or an object with "content".
    /// Missing files give no names.
    /// </summary>
    internal static Dictionary<string, string> ReadSpecialTokenNames(string dir)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in new[] { TokenizerConfigJson, SpecialTokensMapJson })
        {
            string path = Path.Combine(dir, file);
            if (!File.Exists(path)) continue;
            using var document = ParseJsonFile(path);
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw Malformed(path, "the root is not a JSON object");
            foreach (var key in new[] { "unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "bos_token", "eos_token" })
            {
                if (!document.RootElement.TryGetProperty(key, out var value)) continue;
                string? name = value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString(),
                    JsonValueKind.Object when value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String => content.GetString(),
                    JsonValueKind.Null => null,
                    _ => throw Malformed(path, $"{key} is neither a string nor a token object"),
                };
                if (name is not null) names[key] = name;
            }
        }
        return names;
    }

    /// <summary>tokenizer_config.json <c>model_max_length</c>, or null when absent, not a positive int, or HF's
    /// "unlimited" sentinel (int(1e30)).</summary>
    internal static int? ReadModelMaxLength(string dir)
    {
        string path = Path.Combine(dir, TokenizerConfigJson);
        if (!File.Exists(path)) return null;
        using var document = ParseJsonFile(path);
        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("model_max_length", out var value)
            || value.ValueKind != JsonValueKind.Number) return null;
        return value.TryGetInt32(out int length) && length > 0 ? length : null;
    }

    internal static string RequiredString(string path, JsonElement element, string name, string field) =>
        OptionalString(path, element, name, field) ?? throw Malformed(path, $"{field} is missing");

    internal static string? OptionalString(string path, JsonElement element, string name, string field)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw Malformed(path, $"{field} is {value.ValueKind}, not a string");
        return value.GetString();
    }

    internal static int? OptionalInt(string path, JsonElement element, string name, string field)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int result)) throw Malformed(path, $"{field} is {value.GetRawText()}, not an integer");
        return result;
    }

    internal static bool? OptionalBool(string path, JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Malformed(path, $"{name} is {value.GetRawText()}, not true/false/null"),
        };
    }

    internal static TokenizerException Malformed(string path, string what) => new($"'{path}' is malformed: {what}");

    /// <summary>Runs a constructor, prefixing the file to its <see cref="TokenizerException"/> message.</summary>
    internal static T Wrap<T>(string path, Func<T> build)
    {
        try
        {
            return build();
        }
        catch (TokenizerException e)
        {
            throw new TokenizerException($"'{path}': {e.Message}", e);
        }
    }
}
