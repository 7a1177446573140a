using System.Text.Json;

namespace MixLens.Engine.Model;

/// <summary>
/// The encoder hyper-parameters of a HuggingFace <c>config.json</c>, under its own field names
/// (<c>hidden_size</c>, <c>num_attention_heads</c>, …). Defaults are bert-base's.
/// </summary>
public sealed record EncoderConfig
{
    /// <summary>The <c>model_type</c> values this version loads.</summary>
    public static readonly IReadOnlyList<string> SupportedModelTypes = ["bert"];

    public string ModelType { get; init; } = "bert";
    public int VocabSize { get; init; } = 30522;
    /// <summary>d, the width of the residual stream.</summary>
    public int HiddenSize { get; init; } = 768;
    /// <summary>L, the number of encoder layers.</summary>
    public int NumHiddenLayers { get; init; } = 12;
    /// <summary>H, the number of attention heads per layer.</summary>
    public int NumAttentionHeads { get; init; } = 12;
    /// <summary>f, the FFN width.</summary>
    public int IntermediateSize { get; init; } = 3072;
    public Activation HiddenAct { get; init; } = Activation.Gelu;
    public string HiddenActName { get; init; } = "gelu";
    public int MaxPositionEmbeddings { get; init; } = 512;
    public int TypeVocabSize { get; init; } = 2;
    public float LayerNormEps { get; init; } = 1e-12f;
    public int PadTokenId { get; init; }
    /// <summary>Class labels (<c>id2label</c>), index = class id; empty when the config has none.</summary>
    public IReadOnlyList<string> Id2Label { get; init; } = [];

    /// <summary>d_head = d / H.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

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
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
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
        if (!SupportedModelTypes.Contains(modelType))
            throw new ModelFormatException(
                $"{source}: unsupported model_type \"{modelType}\"; supported model types: {string.Join(", ", SupportedModelTypes)}");

        var defaults = new EncoderConfig();
        string actName = GetString(root, "hidden_act", source) ?? "gelu";
        var config = new EncoderConfig
        {
            ModelType = modelType,
            VocabSize = GetInt(root, "vocab_size", source) ?? defaults.VocabSize,
            HiddenSize = GetInt(root, "hidden_size", source) ?? defaults.HiddenSize,
            NumHiddenLayers = GetInt(root, "num_hidden_layers", source) ?? defaults.NumHiddenLayers,
            NumAttentionHeads = GetInt(root, "num_attention_heads", source) ?? defaults.NumAttentionHeads,
            IntermediateSize = GetInt(root, "intermediate_size", source) ?? defaults.IntermediateSize,
            HiddenActName = actName,
            HiddenAct = ParseActivation(actName, source),
            MaxPositionEmbeddings = GetInt(root, "max_position_embeddings", source) ?? defaults.MaxPositionEmbeddings,
            TypeVocabSize = GetInt(root, "type_vocab_size", source) ?? defaults.TypeVocabSize,
            LayerNormEps = (float)(GetDouble(root, "layer_norm_eps", source) ?? defaults.LayerNormEps),
            PadTokenId = GetInt(root, "pad_token_id", source, allowNull: true) ?? 0,
            Id2Label = GetLabels(root, source),
        };

        RequirePositive(config.VocabSize, "vocab_size", source);
        RequirePositive(config.HiddenSize, "hidden_size", source);
        RequirePositive(config.NumHiddenLayers, "num_hidden_layers", source);
        RequirePositive(config.NumAttentionHeads, "num_attention_heads", source);
        RequirePositive(config.IntermediateSize, "intermediate_size", source);
        RequirePositive(config.MaxPositionEmbeddings, "max_position_embeddings", source);
        RequirePositive(config.TypeVocabSize, "type_vocab_size", source);
        if (config.HiddenSize % config.NumAttentionHeads != 0)
            throw new ModelFormatException(
                $"{source}: hidden_size {config.HiddenSize} is not divisible by num_attention_heads {config.NumAttentionHeads}");
        if (!(config.LayerNormEps > 0) || float.IsInfinity(config.LayerNormEps))
            throw new ModelFormatException($"{source}: layer_norm_eps must be a positive number, got {config.LayerNormEps}");
        return config;
    }

    static Activation ParseActivation(string name, string source) => name switch
    {
        "gelu" => Activation.Gelu,
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => Activation.GeluTanh,
        "relu" => Activation.Relu,
        _ => throw new ModelFormatException(
            $"{source}: unsupported hidden_act \"{name}\"; supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu"),
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
