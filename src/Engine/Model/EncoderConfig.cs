using System.Text.Json;

namespace MixLens.Engine.Model;

/// <summary>
/// The encoder hyper-parameters of a HuggingFace <c>config.json</c>, under its own field names
/// (<c>hidden_size</c>, <c>num_attention_heads</c>, …; DistilBERT's <c>dim</c>, <c>n_heads</c>, … are read into the
/// same properties). Defaults are bert-base's.
/// </summary>
public sealed record EncoderConfig
{
    /// <summary>The <c>model_type</c> values this version loads.</summary>
    public static IReadOnlyList<string> SupportedModelTypes => ModelFamilies.ModelTypes;

    public string ModelType { get; init; } = "bert";
    /// <summary>The architecture family of <see cref="ModelType"/>.</summary>
    public ModelFamily Family { get; init; } = ModelFamily.Bert;
    public int VocabSize { get; init; } = 30522;
    /// <summary>d, the width of the residual stream.</summary>
    public int HiddenSize { get; init; } = 768;
    /// <summary>
    /// E, the width of the embedding tables (ELECTRA's <c>embedding_size</c>); equal to d for every other family.
    /// When E ≠ d the embedding block ends with a projection E → d (<c>embeddings_project</c>).
    /// </summary>
    public int EmbeddingSize { get => _embeddingSize ?? HiddenSize; init => _embeddingSize = value; }
    int? _embeddingSize;
    /// <summary>L, the number of encoder layers.</summary>
    public int NumHiddenLayers { get; init; } = 12;
    /// <summary>H, the number of attention heads per layer.</summary>
    public int NumAttentionHeads { get; init; } = 12;
    /// <summary>f, the FFN width.</summary>
    public int IntermediateSize { get; init; } = 3072;
    public Activation HiddenAct { get; init; } = Activation.Gelu;
    public string HiddenActName { get; init; } = "gelu";
    /// <summary>P, the rows of <c>position_embeddings</c>.</summary>
    public int MaxPositionEmbeddings { get; init; } = 512;
    /// <summary>The rows of <c>token_type_embeddings</c>; 0 for a family without token types (DistilBERT), whose
    /// forward ignores the token type ids.</summary>
    public int TypeVocabSize { get; init; } = 2;
    public float LayerNormEps { get; init; } = 1e-12f;
    public int PadTokenId { get; init; }
    /// <summary>How positions are numbered (RoBERTa: after the padding index).</summary>
    public PositionScheme PositionScheme { get; init; } = PositionScheme.FromZero;
    /// <summary>DistilBERT's <c>sinusoidal_pos_embds</c>: the position table is the fixed sinusoid of Vaswani et al.
    /// (used only when the checkpoint does not store it).</summary>
    public bool SinusoidalPositionEmbeddings { get; init; }
    /// <summary>Class labels (<c>id2label</c>), index = class id; empty when the config has none.</summary>
    public IReadOnlyList<string> Id2Label { get; init; } = [];
    /// <summary><c>num_labels</c> when config.json states it (HF uses it only when there is no <c>id2label</c>);
    /// null when absent.</summary>
    public int? NumLabels { get; init; }
    /// <summary><c>problem_type</c>: <c>regression</c>, <c>single_label_classification</c>,
    /// <c>multi_label_classification</c>, or null when absent (HF <c>PretrainedConfig</c> allows only these).</summary>
    public string? ProblemType { get; init; }
    /// <summary>The <c>architectures</c> list (e.g. <c>BertForTokenClassification</c>); empty when absent.</summary>
    public IReadOnlyList<string> Architectures { get; init; } = [];
    /// <summary><c>tie_word_embeddings</c> (HF <c>PretrainedConfig</c> default true): whether a masked-LM decoder is
    /// the word-embedding table. When false and the checkpoint stores no decoder, HF initialises the decoder randomly.</summary>
    public bool TieWordEmbeddings { get; init; } = true;

    /// <summary>d_head = d / H.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>
    /// The longest text in tokens: <c>max_position_embeddings</c>, less the positions the scheme skips (RoBERTa:
    /// padding_idx + 1, so 514 → 512).
    /// </summary>
    public int MaxSequenceLength => PositionScheme == PositionScheme.AfterPadding
        ? MaxPositionEmbeddings - PadTokenId - 1
        : MaxPositionEmbeddings;

    /// <summary>True when <c>architectures</c> names a class ending in <paramref name="suffix"/>
    /// (e.g. "ForTokenClassification").</summary>
    public bool DeclaresArchitecture(string suffix) => Architectures.Any(a => a.EndsWith(suffix, StringComparison.Ordinal));

    /// <summary>Reads and validates <c>config.json</c>.</summary>
    /// <exception cref="ModelFormatException">missing file, invalid JSON, unsupported model_type or hidden_act, or an
    /// invalid dimension (the message names the file and the field).</exception>
    public static EncoderConfig Load(string path)
    {
        if (!File.Exists(path))
            throw new ModelFormatException($"{path}: config.json not found");
        JsonDocument doc;
        try
        {
            long size = new FileInfo(path).Length;
            if (size > InputLimits.MaxConfigBytes)
                throw new ModelFormatException($"{path}: {size:N0} bytes, over the limit of {InputLimits.MaxConfigBytes:N0} bytes for a config.json");
            doc = StrictJson.ParseFile(path, new JsonDocumentOptions { MaxDepth = InputLimits.MaxJsonDepth });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: invalid JSON ({e.Message})", e);
        }
        using (doc)
            return Parse(doc.RootElement, path);
    }

    /// <summary>Parses a config.json object; <paramref name="source"/> names it in error messages.</summary>
    public static EncoderConfig Parse(JsonElement root, string source)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{source}: expected a JSON object at the top level, found {root.ValueKind}");

        string modelType = GetString(root, "model_type", source)
            ?? throw new ModelFormatException($"{source}: missing \"model_type\" (supported: {string.Join(", ", SupportedModelTypes)})");
        var family = ModelFamilies.FromModelType(modelType)
            ?? throw new ModelFormatException(
                $"{source}: unsupported model_type \"{modelType}\"; supported model types: {string.Join(", ", SupportedModelTypes)}");

        var defaults = new EncoderConfig();
        var fields = family == ModelFamily.DistilBert ? ConfigFields.DistilBert : ConfigFields.Bert;
        string actName = GetString(root, fields.Activation, source) ?? "gelu";
        int hidden = GetInt(root, fields.HiddenSize, source) ?? defaults.HiddenSize;
        var config = new EncoderConfig
        {
            ModelType = modelType,
            Family = family,
            VocabSize = GetInt(root, "vocab_size", source) ?? defaults.VocabSize,
            HiddenSize = hidden,
            NumHiddenLayers = GetInt(root, fields.NumLayers, source) ?? defaults.NumHiddenLayers,
            NumAttentionHeads = GetInt(root, fields.NumHeads, source) ?? defaults.NumAttentionHeads,
            IntermediateSize = GetInt(root, fields.IntermediateSize, source) ?? defaults.IntermediateSize,
            HiddenActName = actName,
            HiddenAct = ParseActivation(actName, fields.Activation, source),
            MaxPositionEmbeddings = GetInt(root, "max_position_embeddings", source) ?? defaults.MaxPositionEmbeddings,
            // DistilBERT has no token-type embeddings (its config has no type_vocab_size).
            TypeVocabSize = family == ModelFamily.DistilBert ? 0 : GetInt(root, "type_vocab_size", source) ?? defaults.TypeVocabSize,
            // DistilBERT's LayerNorms use eps 1e-12 (HF DistilBertModel); its config has no layer_norm_eps.
            LayerNormEps = family == ModelFamily.DistilBert
                ? defaults.LayerNormEps
                : (float)(GetDouble(root, "layer_norm_eps", source) ?? defaults.LayerNormEps),
            PadTokenId = GetInt(root, "pad_token_id", source, allowNull: true) ?? (family == ModelFamily.Roberta ? 1 : 0),
            PositionScheme = family == ModelFamily.Roberta ? PositionScheme.AfterPadding : PositionScheme.FromZero,
            SinusoidalPositionEmbeddings = family == ModelFamily.DistilBert && (GetBool(root, "sinusoidal_pos_embds", source) ?? false),
            Id2Label = GetLabels(root, source),
            NumLabels = GetInt(root, "num_labels", source, allowNull: true),
            ProblemType = GetString(root, "problem_type", source),
            Architectures = GetStrings(root, "architectures", source),
            TieWordEmbeddings = GetBool(root, "tie_word_embeddings", source) ?? true,
        };
        // ELECTRA embeds at embedding_size (HF's ElectraConfig default 128); the other families at d.
        if (family == ModelFamily.Electra) config = config with { EmbeddingSize = GetInt(root, "embedding_size", source) ?? 128 };

        RequirePositive(config.VocabSize, "vocab_size", source);
        RequirePositive(config.HiddenSize, fields.HiddenSize, source);
        RequirePositive(config.EmbeddingSize, "embedding_size", source);
        RequirePositive(config.NumHiddenLayers, fields.NumLayers, source);
        RequirePositive(config.NumAttentionHeads, fields.NumHeads, source);
        RequirePositive(config.IntermediateSize, fields.IntermediateSize, source);
        RequirePositive(config.MaxPositionEmbeddings, "max_position_embeddings", source);
        if (family != ModelFamily.DistilBert) RequirePositive(config.TypeVocabSize, "type_vocab_size", source);
        if (config.HiddenSize % config.NumAttentionHeads != 0)
            throw new ModelFormatException(
                $"{source}: {fields.HiddenSize} {config.HiddenSize} is not divisible by {fields.NumHeads} {config.NumAttentionHeads}");
        if (config.NumLabels is <= 0)
            throw new ModelFormatException($"{source}: \"num_labels\" must be a positive integer, got {config.NumLabels}");
        if (config.ProblemType is not (null or "regression" or "single_label_classification" or "multi_label_classification"))
            throw new ModelFormatException($"{source}: unknown problem_type \"{config.ProblemType}\"; HF allows regression, " +
                "single_label_classification, multi_label_classification");
        if (!(config.LayerNormEps > 0) || float.IsInfinity(config.LayerNormEps))
            throw new ModelFormatException($"{source}: layer_norm_eps must be a positive number, got {config.LayerNormEps}");
        if (config.PositionScheme == PositionScheme.AfterPadding && (config.PadTokenId < 0 || config.MaxSequenceLength <= 0))
            throw new ModelFormatException(
                $"{source}: max_position_embeddings {config.MaxPositionEmbeddings} leaves no position after pad_token_id {config.PadTokenId} " +
                "(RoBERTa positions start at pad_token_id + 1)");
        return config;
    }

    /// <summary>The config.json field names of the hyper-parameters (DistilBERT names them its own way).</summary>
    sealed record ConfigFields(string HiddenSize, string NumLayers, string NumHeads, string IntermediateSize, string Activation)
    {
        public static readonly ConfigFields Bert = new("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act");
        public static readonly ConfigFields DistilBert = new("dim", "n_layers", "n_heads", "hidden_dim", "activation");
    }

    static Activation ParseActivation(string name, string field, string source) => name switch
    {
        "gelu" => Activation.Gelu,
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => Activation.GeluTanh,
        "relu" => Activation.Relu,
        _ => throw new ModelFormatException(
            $"{source}: unsupported {field} \"{name}\"; supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu"),
    };

    static void RequirePositive(int value, string field, string source)
    {
        if (value <= 0) throw new ModelFormatException($"{source}: \"{field}\" must be a positive integer, got {value}");
    }

    static string? GetString(JsonElement root, string name, string source)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String)
            throw new ModelFormatException($"{source}: \"{name}\" must be a string, found {v.ValueKind}");
        return v.GetString();
    }

    static int? GetInt(JsonElement root, string name, string source, bool allowNull = false)
    {
        if (!root.TryGetProperty(name, out var v) || (v.ValueKind == JsonValueKind.Null && allowNull)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i))
            throw new ModelFormatException($"{source}: \"{name}\" must be an integer, found {v.GetRawText()}");
        return i;
    }

    static bool? GetBool(JsonElement root, string name, string source)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            throw new ModelFormatException($"{source}: \"{name}\" must be true or false, found {v.GetRawText()}");
        return v.GetBoolean();
    }

    static IReadOnlyList<string> GetStrings(JsonElement root, string name, string source)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return [];
        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            throw new ModelFormatException($"{source}: \"{name}\" must be a list of strings, found {v.GetRawText()}");
        return v.EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    static double? GetDouble(JsonElement root, string name, string source)
    {
        if (!root.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number)
            throw new ModelFormatException($"{source}: \"{name}\" must be a number, found {v.GetRawText()}");
        return v.GetDouble();
    }

    static IReadOnlyList<string> GetLabels(JsonElement root, string source)
    {
        if (!root.TryGetProperty("id2label", out var v) || v.ValueKind == JsonValueKind.Null) return [];
        if (v.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{source}: \"id2label\" must be an object of id -> label");
        var pairs = new SortedDictionary<int, string>();
        foreach (var p in v.EnumerateObject())
        {
            if (!int.TryParse(p.Name, out int id) || id < 0 || p.Value.ValueKind != JsonValueKind.String)
                throw new ModelFormatException($"{source}: \"id2label\" entry \"{p.Name}\" must map a non-negative integer id to a string");
            pairs[id] = p.Value.GetString()!;
        }
        var labels = new string[pairs.Count];
        foreach (var (id, label) in pairs)
        {
            if (id >= labels.Length)
                throw new ModelFormatException($"{source}: \"id2label\" ids must be 0..{labels.Length - 1}, found {id}");
            labels[id] = label;
        }
        return labels;
    }
}
