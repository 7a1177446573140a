namespace MixLens.Engine.Tokenization;

/// <summary>
/// A normalizer step of a HuggingFace tokenizer pipeline: edits a <see cref="NormalizedText"/> in place, keeping
/// its alignment to the original text. Source: tokenizers/src/normalizers/mod.rs (<c>Normalizer</c>).
/// </summary>
public interface INormalizer
{
    /// <summary>Normalises <paramref name="text"/> in place.</summary>
    void Normalize(NormalizedText text);
}

/// <summary>HF <c>Lowercase</c>: Rust <c>char::to_lowercase</c> per char. Source: tokenizers/src/normalizers/utils.rs.</summary>
public sealed class LowercaseNormalizer : INormalizer
{
    /// <inheritdoc/>
    public void Normalize(NormalizedText text) => text.Lowercase();
}

/// <summary>HF <c>NFD</c>: canonical decomposition. Source: tokenizers/src/normalizers/unicode.rs.</summary>
public sealed class NfdNormalizer : INormalizer
{
    /// <inheritdoc/>
    public void Normalize(NormalizedText text) => text.Nfd();
}

/// <summary>HF <c>StripAccents</c>: removes nonspacing marks (Mn of Unicode 8.0.0); meant to follow NFD.
/// Source: tokenizers/src/normalizers/strip.rs.</summary>
public sealed class StripAccentsNormalizer : INormalizer
{
    /// <inheritdoc/>
    public void Normalize(NormalizedText text) => text.Filter(static c => !CharProperties.IsMarkNonspacing(c));
}

/// <summary>HF <c>Sequence</c>: its normalizers one after the other. Source: tokenizers/src/normalizers/utils.rs.</summary>
public sealed class NormalizerSequence(IReadOnlyList<INormalizer> normalizers) : INormalizer
{
    /// <summary>The steps, in order.</summary>
    public IReadOnlyList<INormalizer> Normalizers { get; } = normalizers;

    /// <inheritdoc/>
    public void Normalize(NormalizedText text)
    {
        foreach (var normalizer in Normalizers) normalizer.Normalize(text);
    }
}
