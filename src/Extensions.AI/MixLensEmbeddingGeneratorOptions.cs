namespace MixLens.Extensions.AI;

/// <summary>Settings of a <see cref="MixLensEmbeddingGenerator"/>.</summary>
public sealed record MixLensEmbeddingGeneratorOptions
{
    /// <summary>Texts per encoder forward pass (default 32, as <c>mixlens embed</c>). The cancellation token is checked
    /// before each batch, so a smaller batch answers a cancellation sooner.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Truncate a text longer than the model's limit (max_position_embeddings, less RoBERTa's padding offset)
    /// to that limit, as <c>mixlens embed --truncate</c> does. Default false: such a text is an
    /// <see cref="Engine.Model.EncoderInputException"/> naming its index, its length and the limit.</summary>
    public bool Truncate { get; init; }
}
