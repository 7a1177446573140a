namespace MixLens.Analysis.Visualization;

/// <summary>One context-mixing method's result as shown by the views: [L, n, n], row i = output token, column j = input token.</summary>
/// <param name="Name">the command-line name, e.g. "value-zeroing" (<see cref="MixingMethods.NameOf"/>).</param>
/// <param name="Description">one line saying what the numbers are (<see cref="MixingMethods.Describe"/>).</param>
/// <param name="Scores">[L, n, n], as returned by <see cref="MixingMethods.Compute"/>.</param>
public sealed record MethodScores(string Name, string Description, Engine.Tensor Scores);
