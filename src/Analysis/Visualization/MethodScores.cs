namespace MixLens.Analysis.Visualization;

/// <summary>One method's result as shown by the views: a context-mixing method's [L, n, n] (row i = output token,
/// column j = input token), or a token-vector method's [n] (<see cref="MixingMethods.IsTokenVector"/>), shown as a
/// saliency bar over the tokens.</summary>
/// <param name="Name">the command-line name, e.g. "value-zeroing" (<see cref="MixingMethods.NameOf"/>).</param>
/// <param name="Description">one line saying what the numbers are (<see cref="MixingMethods.Describe"/>).</param>
/// <param name="Scores">[L, n, n] or [n], as returned by <see cref="MixingMethods.Compute"/>.</param>
/// <param name="Signed">whether the scores have a sign worth showing (gradient-x-input, integrated-gradients: a
/// diverging colour scale centred on 0).</param>
public sealed record MethodScores(string Name, string Description, Engine.Tensor Scores, bool Signed = false)
{
    /// <summary>Whether the scores are one per token, [n], rather than one matrix per layer.</summary>
    public bool IsTokenVector => Scores.Rank == 1;
}
