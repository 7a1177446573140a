namespace MixLens.Engine.Tokenization;

/// <summary>
/// HuggingFace's <c>longest_first</c> truncation (direction right, stride 0), applied to the sequences before the
/// post-processor adds its special tokens. One sequence keeps its first <c>maxLength</c> tokens. For a pair, with
/// n1 the length of the shorter sequence (A when both are equally long): if n1 ≤ maxLength − n1 the shorter is kept
/// whole and the longer cut to maxLength − n1; otherwise the shorter keeps ⌊maxLength/2⌋ tokens and the longer
/// ⌈maxLength/2⌉. (This is the Rust closed form, not the slow tokenizer's one-token-at-a-time loop, which can
/// split an odd budget the other way.)
/// Source: tokenizers/src/utils/truncation.rs (<c>truncate_encodings</c>, <c>TruncationStrategy::LongestFirst</c>).
/// </summary>
public static class Truncation
{
    /// <summary>How many tokens of A and of B (0 when there is no B) to keep so that together they fit in
    /// <paramref name="maxLength"/> (which excludes the special tokens).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is negative.</exception>
    public static (int KeepA, int KeepB) LongestFirst(int lengthA, int? lengthB, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        int total = lengthA + (lengthB ?? 0);
        if (total <= maxLength) return (lengthA, lengthB ?? 0);
        if (lengthB is not int b) return (maxLength, 0);

        int n1 = lengthA, n2 = b;
        bool swap = n1 > n2;
        if (swap) (n1, n2) = (n2, n1);
        n2 = n1 > maxLength ? n1 : Math.Max(n1, maxLength - n1);
        if (n1 + n2 > maxLength)
        {
            n1 = maxLength / 2;
            n2 = n1 + maxLength % 2;
        }
        if (swap) (n1, n2) = (n2, n1);
        return (Math.Min(n1, lengthA), Math.Min(n2, b));
    }
}
