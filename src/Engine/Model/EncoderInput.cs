namespace MixLens.Engine.Model;

/// <summary>
/// One text's encoder input: token ids [n], token type ids [n] (segment A = 0, B = 1) and an optional
/// attention mask [n] (1 = real token, 0 = padding, which no token attends to; null = all real).
/// </summary>
public sealed record EncoderInput(int[] InputIds, int[] TokenTypeIds, int[]? AttentionMask = null)
{
    public int Length => InputIds.Length;

    /// <summary>The input of a tokenizer encoding.</summary>
    public static EncoderInput From(Tokenization.Encoding encoding) => new(encoding.Ids, encoding.TypeIds);
}

/// <summary>
/// Thrown for an encoder input the model cannot take: empty, longer than <c>max_position_embeddings</c>, ids or
/// type ids out of range, or arrays of different lengths. The message states the value and the limit.
/// </summary>
public sealed class EncoderInputException : Exception
{
    public EncoderInputException(string message) : base(message) { }
}
