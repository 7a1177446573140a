namespace MixLens.Engine.Model;

/// <summary>
/// A batch of texts packed end to end: row t of every [T, ·] activation belongs to exactly one text, so the
/// position-wise steps (projections, FFN, LayerNorm) run as single GEMMs over all T real tokens and never touch
/// padding; only attention looks at one text at a time. A text's results therefore do not depend on the batch.
/// </summary>
public sealed class PackedBatch
{
    /// <summary>First row of each text.</summary>
    public int[] Starts { get; }
    /// <summary>Token count n of each text.</summary>
    public int[] Lengths { get; }
    /// <summary>Per text: key mask [n] (true = may be attended to), or null when every token is real.</summary>
    public bool[]?[] KeyMasks { get; }
    /// <summary>T, the total number of rows.</summary>
    public int TotalTokens { get; }
    public int Count => Starts.Length;
    public int MaxLength { get; }

    public PackedBatch(IReadOnlyList<int> lengths, IReadOnlyList<bool[]?>? keyMasks = null)
    {
        Starts = new int[lengths.Count];
        Lengths = new int[lengths.Count];
        KeyMasks = new bool[]?[lengths.Count];
        int t = 0;
        for (int s = 0; s < lengths.Count; s++)
        {
            Starts[s] = t;
            Lengths[s] = lengths[s];
            KeyMasks[s] = keyMasks?[s];
            t += lengths[s];
            MaxLength = Math.Max(MaxLength, lengths[s]);
        }
        TotalTokens = t;
    }

    /// <summary>The rows of text <paramref name="s"/> in a [T, width] buffer.</summary>
    public Span<float> Rows(float[] buffer, int s, int width) => buffer.AsSpan(Starts[s] * width, Lengths[s] * width);
}
