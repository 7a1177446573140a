using Microsoft.Extensions.AI;
using MixLens.Engine;
using MixLens.Engine.Hub;
using MixLens.Engine.Model;

namespace MixLens.Extensions.AI;

/// <summary>
/// A Microsoft.Extensions.AI <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over a MixLens
/// <see cref="EncoderModel"/>: one sentence embedding [d] (d = hidden_size) per text, computed exactly as
/// <c>mixlens embed</c> computes it (<see cref="EncoderModel.Tokenize"/>, then <see cref="EncoderModel.Embed"/>): the
/// model's sentence-transformers pooling (<c>modules.json</c>: mean, CLS, max or mean-sqrt-len, and L2 normalisation
/// when it has a <c>Normalize</c> module), or mean pooling without normalisation when the directory has no
/// sentence-transformers files.
/// <para>
/// The work is synchronous CPU work on the calling thread (the encoder itself is multi-threaded): the returned task is
/// complete when <see cref="GenerateAsync"/> returns. Texts are encoded in batches of
/// <see cref="MixLensEmbeddingGeneratorOptions.BatchSize"/>; the cancellation token is checked before each batch
/// (<see cref="OperationCanceledException"/>). Each <see cref="Embedding{T}"/> carries the model's name as
/// <see cref="Embedding.ModelId"/>; the result's <see cref="GeneratedEmbeddings{TEmbedding}.Usage"/> counts the input
/// tokens (special tokens included). Concurrent calls are safe: they share the model, whose encoder is thread-safe.
/// </para>
/// <para>
/// A generator made by <see cref="Load"/> owns its model and disposes it; one made over an existing model leaves it to
/// its owner. After <see cref="Dispose"/>, <see cref="GenerateAsync"/> throws <see cref="ObjectDisposedException"/>.
/// </para>
/// </summary>
public sealed class MixLensEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The provider name in <see cref="Metadata"/>.</summary>
    public const string ProviderName = "mixlens";

    readonly EncoderModel _model;
    readonly bool _ownsModel;
    readonly MixLensEmbeddingGeneratorOptions _options;
    bool _disposed;

    /// <summary>A generator over an already loaded model, which the caller keeps owning (and disposes after the
    /// generator is no longer used).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">the batch size is not positive.</exception>
    public MixLensEmbeddingGenerator(EncoderModel model, MixLensEmbeddingGeneratorOptions? options = null)
        : this(model, options, ownsModel: false) { }

    MixLensEmbeddingGenerator(EncoderModel model, MixLensEmbeddingGeneratorOptions? options, bool ownsModel)
    {
        ArgumentNullException.ThrowIfNull(model);
        _options = options ?? new MixLensEmbeddingGeneratorOptions();
        if (_options.BatchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), _options.BatchSize, "the batch size must be at least 1");
        _model = model;
        _ownsModel = ownsModel;
        Metadata = new EmbeddingGeneratorMetadata(ProviderName, new Uri(Path.GetFullPath(model.Directory)),
            defaultModelId: model.Name, defaultModelDimensions: model.Config.HiddenSize);
    }

    /// <summary>Loads a model directory or a hub repository <c>org/name[@revision]</c> (<see cref="EncoderModel.Load"/>)
    /// into a generator that owns it.</summary>
    /// <exception cref="ModelFormatException">and the other exceptions of <see cref="EncoderModel.Load"/>.</exception>
    public static MixLensEmbeddingGenerator Load(string model, MixLensEmbeddingGeneratorOptions? options = null, HubOptions? hub = null)
    {
        var encoderModel = EncoderModel.Load(model, hub);
        try { return new MixLensEmbeddingGenerator(encoderModel, options, ownsModel: true); }
        catch { encoderModel.Dispose(); throw; }
    }

    /// <summary>Provider <c>mixlens</c>, the model directory as a file URI, the model's name as the model id, and
    /// hidden_size as the dimensions.</summary>
    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <summary>The model the embeddings come from.</summary>
    public EncoderModel Model => _model;

    /// <summary>Sentence embeddings [d] of <paramref name="values"/>, in order.</summary>
    /// <param name="options"><see cref="EmbeddingGenerationOptions.ModelId"/> and
    /// <see cref="EmbeddingGenerationOptions.Dimensions"/>, when set, must be the model's (<see cref="Metadata"/>):
    /// one model is loaded and its embeddings are not cut.</param>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> or one of its texts is null.</exception>
    /// <exception cref="NotSupportedException">options ask for another model or another number of dimensions.</exception>
    /// <exception cref="EncoderInputException">a text is longer than the model's limit and
    /// <see cref="MixLensEmbeddingGeneratorOptions.Truncate"/> is false (the message gives its index).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before a batch.</exception>
    /// <exception cref="ObjectDisposedException">the generator was disposed.</exception>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckOptions(options);
        var texts = values as IReadOnlyList<string> ?? values.ToArray();
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count);
        long tokens = 0;
        for (int first = 0; first < texts.Count; first += _options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(_options.BatchSize, texts.Count - first);
            var encodings = new Engine.Tokenization.Encoding[count];
            for (int k = 0; k < count; k++)
            {
                encodings[k] = Tokenize(texts[first + k], first + k);
                tokens += encodings[k].Length;
            }
            var createdAt = DateTimeOffset.UtcNow;
            foreach (var vector in _model.Embed(encodings))
                result.Add(new Embedding<float>(vector) { ModelId = _model.Name, CreatedAt = createdAt });
        }
        result.Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens };
        return Task.FromResult(result);
    }

    Engine.Tokenization.Encoding Tokenize(string text, int index)
    {
        if (text is null) throw new ArgumentNullException("values", $"values[{index}] is null");
        try
        {
            return _model.Tokenize(text, truncate: _options.Truncate);
        }
        catch (EncoderInputException e)
        {
            throw new EncoderInputException($"values[{index}]: {e.Message}");
        }
    }

    void CheckOptions(EmbeddingGenerationOptions? options)
    {
        if (options is null) return;
        if (options.ModelId is { } modelId && modelId != _model.Name)
            throw new NotSupportedException($"this generator embeds with '{_model.Name}', not '{modelId}' (load another generator for that model)");
        if (options.Dimensions is int dimensions && dimensions != _model.Config.HiddenSize)
            throw new NotSupportedException(
                $"'{_model.Name}' makes embeddings of {_model.Config.HiddenSize} dimensions, not {dimensions} (MixLens does not cut embeddings)");
    }

    /// <summary>This generator, its <see cref="Metadata"/> or its <see cref="EncoderModel"/> when
    /// <paramref name="serviceType"/> asks for one of them and <paramref name="serviceKey"/> is null; otherwise null.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="serviceType"/> is null.</exception>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return Metadata;
        if (serviceType == typeof(EncoderModel)) return _model;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Disposes the model when this generator owns it (<see cref="Load"/>); calling it again does nothing.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_ownsModel) _model.Dispose();
    }
}
