using MixLens.Engine.SafeTensors;

namespace MixLens.Engine.Model;

/// <summary>
/// Weights of the embedding block (E = embedding width, d = hidden width): E_word [V,E], E_pos [P,E], E_type [T,E]
/// (empty for a family without token types), LayerNorm γ, β [E], and for ELECTRA with E ≠ d the projection
/// W_proj [d,E], b_proj [d] (empty otherwise).
/// </summary>
public sealed record EmbeddingWeights(
    ReadOnlyMemory<float> Word,
    ReadOnlyMemory<float> Position,
    ReadOnlyMemory<float> TokenType,
    ReadOnlyMemory<float> LayerNormWeight,
    ReadOnlyMemory<float> LayerNormBias,
    ReadOnlyMemory<float> ProjectionWeight = default,
    ReadOnlyMemory<float> ProjectionBias = default)
{
    /// <summary>True when the block ends with the E → d projection (ELECTRA).</summary>
    public bool HasProjection => !ProjectionWeight.IsEmpty;
}

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
/// The encoder weights, resolved from a checkpoint's names through its family's <see cref="CheckpointLayout"/> (BERT,
/// RoBERTa, DistilBERT, ELECTRA). Accepts a bare checkpoint (<c>embeddings.word_embeddings.weight</c>) or one saved
/// with a task head (<c>bert.</c>, <c>roberta.</c>, <c>distilbert.</c>, <c>electra.</c> prefix), and the old
/// TensorFlow-era LayerNorm names (<c>LayerNorm.gamma</c> / <c>LayerNorm.beta</c>). F32 weights stay in the
/// memory-mapped file; F16/BF16 are widened once by the reader.
/// </summary>
public sealed class BertWeights
{
    public required EmbeddingWeights Embeddings { get; init; }
    public required IReadOnlyList<LayerWeights> Layers { get; init; }
    /// <summary>The name prefix found in the checkpoint ("" or e.g. "bert.").</summary>
    public required string Prefix { get; init; }

    /// <summary>Resolves and shape-checks every encoder weight of <paramref name="file"/> under the layout of
    /// <paramref name="config"/>'s family.</summary>
    /// <exception cref="ModelFormatException">a weight is missing (the message names it and the prefixes tried) or has
    /// the wrong shape (the message gives the expected and the actual shape).</exception>
    public static BertWeights Load(SafeTensorsFile file, EncoderConfig config) =>
        Load(new WeightNames(file, CheckpointLayout.For(config.Family)), config);

    /// <summary>Resolves and shape-checks every encoder weight through <paramref name="names"/>.</summary>
    /// <exception cref="ModelFormatException">a weight is missing or mis-shaped (see above).</exception>
    public static BertWeights Load(WeightNames names, EncoderConfig config)
    {
        var map = names.Layout;
        int d = config.HiddenSize, e = config.EmbeddingSize, f = config.IntermediateSize;

        var embeddings = new EmbeddingWeights(
            names.Get(map.WordEmbeddings + ".weight", config.VocabSize, e),
            PositionTable(names, config),
            map.TokenTypeEmbeddings is { } types && config.TypeVocabSize > 0
                ? names.Get(types + ".weight", config.TypeVocabSize, e)
                : ReadOnlyMemory<float>.Empty,
            names.GetLayerNorm(map.EmbeddingLayerNorm, "weight", e),
            names.GetLayerNorm(map.EmbeddingLayerNorm, "bias", e));
        if (e != d)
        {
            string projection = map.EmbeddingProjection ?? throw new ModelFormatException(
                $"{names.Path}: embedding width {e} differs from hidden_size {d}, which only ELECTRA supports (embeddings_project)");
            embeddings = embeddings with
            {
                ProjectionWeight = names.Get(projection + ".weight", d, e),
                ProjectionBias = names.Get(projection + ".bias", d),
            };
        }

        // Grown layer by layer, not sized by num_hidden_layers up front: the config's number is trusted only as far
        // as the checkpoint confirms it (a config claiming 2^31 - 1 layers once allocated that array; found by fuzzing).
        var layers = new List<LayerWeights>();
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            string p = map.LayerPrefix(i);
            layers.Add(new LayerWeights(
                names.Get(p + map.Query + ".weight", d, d), names.Get(p + map.Query + ".bias", d),
                names.Get(p + map.Key + ".weight", d, d), names.Get(p + map.Key + ".bias", d),
                names.Get(p + map.Value + ".weight", d, d), names.Get(p + map.Value + ".bias", d),
                names.Get(p + map.AttentionOutput + ".weight", d, d), names.Get(p + map.AttentionOutput + ".bias", d),
                names.GetLayerNorm(p + map.AttentionLayerNorm, "weight", d),
                names.GetLayerNorm(p + map.AttentionLayerNorm, "bias", d),
                names.Get(p + map.Intermediate + ".weight", f, d), names.Get(p + map.Intermediate + ".bias", f),
                names.Get(p + map.Output + ".weight", d, f), names.Get(p + map.Output + ".bias", d),
                names.GetLayerNorm(p + map.OutputLayerNorm, "weight", d),
                names.GetLayerNorm(p + map.OutputLayerNorm, "bias", d)));
        }
        return new BertWeights { Embeddings = embeddings, Layers = layers.ToArray(), Prefix = names.Prefix };
    }

    /// <summary>E_pos [P, E]: the stored table, or for DistilBERT with <c>sinusoidal_pos_embds</c> and no stored table
    /// the fixed sinusoid HF writes into it (<c>create_sinusoidal_embeddings</c>).</summary>
    static ReadOnlyMemory<float> PositionTable(WeightNames names, EncoderConfig config)
    {
        string name = names.Layout.PositionEmbeddings + ".weight";
        if (names.Contains(name) || !config.SinusoidalPositionEmbeddings)
            return names.Get(name, config.MaxPositionEmbeddings, config.EmbeddingSize);
        if ((long)config.MaxPositionEmbeddings * config.EmbeddingSize > Array.MaxLength)
            throw new ModelFormatException(
                $"{names.Path}: no stored '{name}', and the sinusoidal table of max_position_embeddings {config.MaxPositionEmbeddings} x dim {config.EmbeddingSize} is too large to compute");
        return SinusoidalPositions(config.MaxPositionEmbeddings, config.EmbeddingSize);
    }

    /// <summary>
    /// The sinusoidal table [P, E] of HF <c>create_sinusoidal_embeddings</c> (Vaswani et al. 2017, §3.5):
    /// angle(pos, j) = pos / 10000^(2⌊j/2⌋/E); even columns sin, odd columns cos.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">a negative size, or a table of more than <see cref="Array.MaxLength"/> elements.</exception>
    public static float[] SinusoidalPositions(int positions, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(positions);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        if ((long)positions * width > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(positions), $"a sinusoidal table of {positions} x {width} does not fit in one array");
        var table = new float[positions * width];
        for (int pos = 0; pos < positions; pos++)
            for (int j = 0; j < width; j++)
            {
                double angle = pos / Math.Pow(10000, 2.0 * (j / 2) / width);
                table[pos * width + j] = (float)(j % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle));
            }
        return table;
    }
}

/// <summary>
/// Looks up checkpoint tensors by their canonical (un-prefixed) name, trying the model prefix, and checks shapes.
/// </summary>
public sealed class WeightNames
{
    /// <summary>The file holding each tensor: the one checkpoint file, or one of the shards of a sharded checkpoint.</summary>
    readonly Dictionary<string, SafeTensorsFile> _fileOf = new(StringComparer.Ordinal);

    /// <summary>The family's checkpoint names.</summary>
    public CheckpointLayout Layout { get; }

    /// <summary>The prefix under which this checkpoint stores the encoder ("" or e.g. "bert.").</summary>
    public string Prefix { get; }

    /// <summary>The checkpoint file's path, or a sharded checkpoint's index file (for messages).</summary>
    public string Path { get; }

    /// <summary>Finds the encoder prefix of <paramref name="file"/> under <paramref name="layout"/>'s names.</summary>
    /// <exception cref="ModelFormatException">no word-embedding table under any of the layout's prefixes.</exception>
    public WeightNames(SafeTensorsFile file, CheckpointLayout layout) : this([file], file.Path, layout) { }

    /// <summary>The tensors of several files as one checkpoint: the shards of a sharded checkpoint
    /// (<c>model.safetensors.index.json</c>, whose path <paramref name="path"/> names them in messages).</summary>
    /// <exception cref="ModelFormatException">a tensor in two of the files, or no word-embedding table under any of the
    /// layout's prefixes.</exception>
    public WeightNames(IReadOnlyList<SafeTensorsFile> files, string path, CheckpointLayout layout)
    {
        Path = path;
        Layout = layout;
        foreach (var file in files)
            foreach (var tensor in file.Tensors)
                if (!_fileOf.TryAdd(tensor.Name, file))
                    throw new ModelFormatException(
                        $"{path}: tensor '{tensor.Name}' is in both {System.IO.Path.GetFileName(_fileOf[tensor.Name].Path)} and {System.IO.Path.GetFileName(file.Path)}");
        string word = Layout.WordEmbeddings + ".weight";
        string? first = files.SelectMany(f => f.Tensors).FirstOrDefault()?.Name;
        Prefix = Layout.Prefixes.FirstOrDefault(p => _fileOf.ContainsKey(p + word))
            ?? throw new ModelFormatException(
                $"{path}: no encoder weights found: expected a tensor named '{word}' " +
                $"(optionally prefixed with {string.Join(" or ", Layout.Prefixes.Where(p => p.Length > 0).Select(p => $"'{p}'"))}, " +
                $"as {Layout.Name} checkpoints name it); the file has {_fileOf.Count} tensors" +
                (first is not null ? $", e.g. '{first}'" : ""));
    }

    /// <summary>True when the checkpoint holds <paramref name="name"/> (tried with the prefix, then bare).</summary>
    public bool Contains(string name) => Resolve(name) != null;

    /// <summary>The float32 tensor <paramref name="name"/> (with the model prefix, or bare), shape-checked.</summary>
    /// <exception cref="ModelFormatException">missing tensor or wrong shape.</exception>
    public ReadOnlyMemory<float> Get(string name, params int[] expectedShape)
    {
        string full = Resolve(name)
            ?? throw new ModelFormatException($"{Path}: missing weight '{Prefix}{name}' (expected shape [{string.Join(", ", expectedShape)}])");
        return GetExact(full, expectedShape);
    }

    /// <summary>The names among <paramref name="names"/> that the checkpoint lacks (neither prefixed nor bare).</summary>
    public IReadOnlyList<string> Missing(params string[] names) => names.Where(n => !Contains(n)).ToArray();

    /// <summary>The first dimension of tensor <paramref name="name"/> (e.g. the number of labels of a classifier).</summary>
    /// <exception cref="ModelFormatException">the tensor is missing or is not a matrix.</exception>
    public int Rows(string name)
    {
        string full = Resolve(name) ?? throw new ModelFormatException($"{Path}: missing weight '{Prefix}{name}'");
        var shape = _fileOf[full].GetInfo(full).Shape;
        if (shape.Length != 2 || shape[0] <= 0 || shape[0] > int.MaxValue)
            throw new ModelFormatException($"{Path}: weight '{full}' has shape [{string.Join(", ", shape)}], expected a matrix");
        return (int)shape[0];
    }

    /// <summary>A LayerNorm parameter, accepting both <c>weight</c>/<c>bias</c> and the old <c>gamma</c>/<c>beta</c>.</summary>
    public ReadOnlyMemory<float> GetLayerNorm(string module, string parameter, int width)
    {
        string old = parameter == "weight" ? "gamma" : "beta";
        string? full = Resolve($"{module}.{parameter}") ?? Resolve($"{module}.{old}");
        if (full == null)
            throw new ModelFormatException(
                $"{Path}: missing weight '{Prefix}{module}.{parameter}' (or '{module}.{old}'), expected shape [{width}]");
        return GetExact(full, [width]);
    }

    string? Resolve(string name)
    {
        if (_fileOf.ContainsKey(Prefix + name)) return Prefix + name;
        if (_fileOf.ContainsKey(name)) return name;
        return null;
    }

    ReadOnlyMemory<float> GetExact(string full, int[] expectedShape)
    {
        var file = _fileOf[full];
        var info = file.GetInfo(full);
        bool ok = info.Shape.Length == expectedShape.Length;
        for (int i = 0; ok && i < expectedShape.Length; i++) ok = info.Shape[i] == expectedShape[i];
        if (!ok)
            throw new ModelFormatException(
                $"{Path}: weight '{full}' has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", expectedShape)}]");
        if (info.DType is not (DType.F32 or DType.F16 or DType.BF16 or DType.F64))
            throw new ModelFormatException($"{Path}: weight '{full}' has dtype {info.DType}, expected a floating-point type (F32, F16, BF16)");
        return file.GetFloat32(full);
    }
}
