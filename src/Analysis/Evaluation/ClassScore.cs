using MixLens.Engine.Model;

namespace MixLens.Analysis.Evaluation;

/// <summary>
/// The model as the faithfulness metrics see it: for a batch of token-id sequences (variants of one sentence, same
/// length and token types), the score of one fixed prediction for each (<see cref="PredictionScore"/>: a softmax or
/// sigmoid probability, or a regression head's raw output). Lets the metrics run on a fake model in tests.
/// </summary>
public delegate double[] ClassScore(IReadOnlyList<int[]> batch);

/// <summary>
/// The same as <see cref="ClassScore"/> for inputs of any lengths, each with its own token types: the score of one
/// fixed prediction for each encoder input of the batch. What <see cref="Eraser"/> needs, whose variants delete tokens.
/// </summary>
public delegate double[] InputScore(IReadOnlyList<EncoderInput> batch);
