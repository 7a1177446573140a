namespace MixLens.Engine.Tokenization;

/// <summary>
/// The end of HF's <c>encode</c> shared by the tokenizers: offset trimming (ByteLevel/RoBERTa <c>trim_offsets</c>),
/// <c>longest_first</c> truncation to <c>maxLength</c> tokens with the special tokens counted, and the
/// post-processor's special tokens.
/// Source: tokenizers/src/tokenizer/mod.rs (<c>post_process</c>).
/// </summary>
internal static class PostProcessing
{
    /// <summary>Lays out the tokens of A (and B) as an <see cref="Encoding"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> cannot hold the special tokens.</exception>
    public static Encoding Finish(List<Token> a, List<Token>? b, int? maxLength, TemplatePostProcessor? postProcessor,
        bool trimOffsets, bool trimKeepsPrefixSpace)
    {
        bool isPair = b is not null;
        int added = postProcessor?.AddedTokens(isPair) ?? 0;
        if (maxLength is int limit && limit < added)
            throw new ArgumentOutOfRangeException(nameof(maxLength), $"maxLength {limit} cannot hold the {added} special tokens of a {(isPair ? "pair" : "single text")}");
        if (trimOffsets)
        {
            ByteLevel.TrimOffsets(a, trimKeepsPrefixSpace);
            if (b is not null) ByteLevel.TrimOffsets(b, trimKeepsPrefixSpace);
        }
        if (maxLength is int max)
        {
            var (keepA, keepB) = Truncation.LongestFirst(a.Count, b?.Count, max - added);
            if (keepA < a.Count) a.RemoveRange(keepA, a.Count - keepA);
            if (b is not null && keepB < b.Count) b.RemoveRange(keepB, b.Count - keepB);
        }
        return postProcessor is null ? TemplatePostProcessor.Plain(a, b) : postProcessor.Apply(a, b);
    }
}
