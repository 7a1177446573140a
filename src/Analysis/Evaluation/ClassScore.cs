namespace MixLens.Analysis.Evaluation;

/// <summary>
/// The model as the faithfulness metrics see it: for a batch of token-id sequences (variants of one sentence, same
/// length and token types), the softmax probability of one fixed class for each. Lets the metrics run on a fake model
/// in tests.
/// </summary>
public delegate double[] ClassProbability(IReadOnlyList<int[]> batch);
