using MixLens.Engine.SafeTensors;

namespace MixLens.Engine.Model;

/// <summary>Weights of the embedding block: E_word [V,d], E_pos [P,d], E_type [T,d], LayerNorm γ, β [d].</summary>
public sealed record EmbeddingWeights(
    ReadOnlyMemory<float> Word,
    ReadOnlyMemory<float> Position,
    ReadOnlyMemory<float> TokenType,
    ReadOnlyMemory<float> LayerNormWeight,
    ReadOnlyMemory<float> LayerNormBias);

/// <summary>
/// Weights of one encoder layer, in HuggingFace Linear layout W [out, in] (y = x Wᵀ + b):
/// W_Q, W_K, W_V, W_O [d,d]; W_in [f,d] (<c>intermediate.dense</c>); W_out [d,f] (<c>output.dense</c>);
/// LayerNorm 1 (<c>attention.output.LayerNorm</c>) and LayerNorm 2 (<c>output.LayerNorm</c>) γ, β [d].
/// </summary>
public sealed record LayerWeights(
    ReadOnlyMemory<float> QueryWeight, ReadOnlyMemory<float> QueryBias,
    ReadOnlyMemory<float> KeyWeight, ReadOnlyMemory<float> KeyBias,
    ReadOnlyMemory<float> ValueWeight, ReadOnlyMemory<float> ValueBias,
    ReadOnlyMemory<float> AttentionOutputWeight, ReadOnlyMemory<float> AttentionOutputBias,
    ReadOnlyMemory<float> AttentionLayerNormWeight, ReadOnlyMemory<float> AttentionLayerNormBias,
    ReadOnlyMemory<float> IntermediateWeight, ReadOnlyMemory<float> IntermediateBias,
    ReadOnlyMemory<float> OutputWeight, ReadOnlyMemory<float> OutputBias,
    ReadOnlyMemory<float> OutputLayerNormWeight, ReadOnlyMemory<float> OutputLayerNormBias);

/// <summary>
/// The BERT-layout encoder weights, resolved from checkpoint names. Accepts a bare checkpoint
/// (<c>embeddings.word_embeddings.weight</c>) or one saved with a task head (<c>bert.</c> prefix), and the old
/// TensorFlow-era LayerNorm names (<c>LayerNorm.gamma</c> / <c>LayerNorm.beta</c>). F32 weights stay in the
/// memory-mapped file; F16/BF16 are widened once by the reader.
/// </summary>
public sealed class BertWeights
{
    public required EmbeddingWeights Embeddings { get; init; }
    public required IReadOnlyList<LayerWeights> Layers { get; init; }
    /// <summary>The name prefix found in the checkpoint ("" or "bert.").</summary>
    public required string Prefix { get; init; }

    /// <summary>Resolves and shape-checks every encoder weight.</summary>
    /// <exception cref="ModelFormatException">a weight is missing (the message names it and the prefixes tried) or has
    /// the wrong shape (the message gives the expected and the actual shape).</exception>
    public static BertWeights Load(SafeTensorsFile file, EncoderConfig config)
    {
        var names = new WeightNames(file);
        int d = config.HiddenSize, f = config.IntermediateSize;

        var embeddings = new EmbeddingWeights(
            names.Get("embeddings.word_embeddings.weight", config.VocabSize, d),
            names.Get("embeddings.position_embeddings.weight", config.MaxPositionEmbeddings, d),
            names.Get("embeddings.token_type_embeddings.weight", config.TypeVocabSize, d),
            names.GetLayerNorm("embeddings.LayerNorm", "weight", d),
            names.GetLayerNorm("embeddings.LayerNorm", "bias", d));

        var layers = new LayerWeights[config.NumHiddenLayers];
        for (int i = 0; i < layers.Length; i++)
        {
            string p = $"encoder.layer.{i}.";
            layers[i] = new LayerWeights(
                names.Get(p + "attention.self.query.weight", d, d), names.Get(p + "attention.self.query.bias", d),
                names.Get(p + "attention.self.key.weight", d, d), names.Get(p + "attention.self.key.bias", d),
                names.Get(p + "attention.self.value.weight", d, d), names.Get(p + "attention.self.value.bias", d),
                names.Get(p + "attention.output.dense.weight", d, d), names.Get(p + "attention.output.dense.bias", d),
                names.GetLayerNorm(p + "attention.output.LayerNorm", "weight", d),
                names.GetLayerNorm(p + "attention.output.LayerNorm", "bias", d),
                names.Get(p + "intermediate.dense.weight", f, d), names.Get(p + "intermediate.dense.bias", f),
                names.Get(p + "output.dense.weight", d, f), names.Get(p + "output.dense.bias", d),
                names.GetLayerNorm(p + "output.LayerNorm", "weight", d),
                names.GetLayerNorm(p + "output.LayerNorm", "bias", d));
        }
        return new BertWeights { Embeddings = embeddings, Layers = layers, Prefix = names.Prefix };
    }
}

/// <summary>
/// Looks up checkpoint tensors by their canonical (un-prefixed) name, trying the model prefix, and checks shapes.
/// </summary>
public sealed class WeightNames
{
    static readonly string[] KnownPrefixes = ["", "bert."];

    readonly SafeTensorsFile _file;

    /// <summary>The prefix under which this checkpoint stores the encoder ("" or "bert.").</summary>
    public string Prefix { get; }

    public WeightNames(SafeTensorsFile file)
    {
        _file = file;
        Prefix = KnownPrefixes.FirstOrDefault(p => file.Contains(p + "embeddings.word_embeddings.weight"))
            ?? throw new ModelFormatException(
                $"{file.Path}: no encoder weights found: expected a tensor named 'embeddings.word_embeddings.weight' " +
                $"(optionally prefixed with 'bert.'); the file has {file.Tensors.Count} tensors" +
                (file.Tensors.Count > 0 ? $", e.g. '{file.Tensors[0].Name}'" : ""));
    }

    /// <summary>True when the checkpoint holds <paramref name="name"/> (tried with the prefix, then bare).</summary>
    public bool Contains(string name) => Resolve(name) != null;

    /// <summary>The float32 tensor <paramref name="name"/> (with the model prefix, or bare), shape-checked.</summary>
    /// <exception cref="ModelFormatException">missing tensor or wrong shape.</exception>
    public ReadOnlyMemory<float> Get(string name, params int[] expectedShape)
    {
        string full = Resolve(name)
            ?? throw new ModelFormatException($"{_file.Path}: missing weight '{Prefix}{name}' (expected shape [{string.Join(", ", expectedShape)}])");
        return GetExact(full, expectedShape);
    }

    /// <summary>The first dimension of tensor <paramref name="name"/> (e.g. the number of labels of a classifier).</summary>
    /// <exception cref="ModelFormatException">the tensor is missing or is not a matrix.</exception>
    public int Rows(string name)
    {
        string full = Resolve(name) ?? throw new ModelFormatException($"{_file.Path}: missing weight '{Prefix}{name}'");
        var shape = _file.GetInfo(full).Shape;
        if (shape.Length != 2 || shape[0] <= 0 || shape[0] > int.MaxValue)
            throw new ModelFormatException($"{_file.Path}: weight '{full}' has shape [{string.Join(", ", shape)}], expected a matrix");
        return (int)shape[0];
    }

    /// <summary>A LayerNorm parameter, accepting both <c>weight</c>/<c>bias</c> and the old <c>gamma</c>/<c>beta</c>.</summary>
    public ReadOnlyMemory<float> GetLayerNorm(string module, string parameter, int width)
    {
        string old = parameter == "weight" ? "gamma" : "beta";
        string? full = Resolve($"{module}.{parameter}") ?? Resolve($"{module}.{old}");
        if (full == null)
            throw new ModelFormatException(
                $"{_file.Path}: missing weight '{Prefix}{module}.{parameter}' (or '{module}.{old}'), expected shape [{width}]");
        return GetExact(full, [width]);
    }

    string? Resolve(string name)
    {
        if (_file.Contains(Prefix + name)) return Prefix + name;
        if (_file.Contains(name)) return name;
        return null;
    }

    ReadOnlyMemory<float> GetExact(string full, int[] expectedShape)
    {
        var info = _file.GetInfo(full);
        bool ok = info.Shape.Length == expectedShape.Length;
        for (int i = 0; ok && i < expectedShape.Length; i++) ok = info.Shape[i] == expectedShape[i];
        if (!ok)
            throw new ModelFormatException(
                $"{_file.Path}: weight '{full}' has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", expectedShape)}]");
        if (info.DType is not (DType.F32 or DType.F16 or DType.BF16 or DType.F64))
            throw new ModelFormatException($"{_file.Path}: weight '{full}' has dtype {info.DType}, expected a floating-point type (F32, F16, BF16)");
        return _file.GetFloat32(full);
    }
}
