using MixLens.Engine;
using MixLens.Engine.Gradients;
using MixLens.Engine.Model;

namespace MixLens.Analysis.Methods;

/// <summary>
/// Hidden token attribution (Brunner et al. 2020, "On Identifiability in Transformers", ICLR, §4.1 and Eq. 6): how much
/// each input embedding contributes to each hidden token, by the Jacobian of layer l's output row i with respect to row
/// j of <c>embeddings.output</c> e⁰:
/// <code>
///   c̃_ij^l = ‖∂e_i^l / ∂e_j^0‖_F          the Frobenius norm of a [d, d] Jacobian block
///   c_ij^l = c̃_ij^l / Σ_j' c̃_ij'^l         rows divided by their sum                                    [L, n, n]
/// </code>
/// Exact: all n·d columns of the Jacobian are pushed through the encoder in forward mode (<see cref="EncoderTangents"/>),
/// in batches of tangents, which gives every layer at once. The cost is therefore that of n·d forwards of the text
/// (GEMM work about 2·n²·d·(4d² + 2d·f)·L multiply-adds plus attention), quadratic in n: hence a token limit
/// (<see cref="DefaultMaxTokens"/>). Needs no head.
/// </summary>
public static class HiddenTokenAttribution
{
    /// <summary>Default token limit of the commands (n·d tangents of n rows each: n = 32 on MiniLM is ~10⁵ token-forwards).</summary>
    public const int DefaultMaxTokens = 32;

    /// <summary>Tangent rows per batch (bounds the workspace: about 7d + f floats per row).</summary>
    const int MaxBatchRows = 4096;

    /// <summary>c [L, n, n], rows summing to 1.</summary>
    /// <param name="progress">receives the fraction of the tangents done, after each batch (null: none).</param>
    /// <exception cref="OperationCanceledException">cancelled.</exception>
    public static Tensor Compute(BertEncoder encoder, EncoderInput input, IProgress<double>? progress = null,
        CancellationToken cancellation = default)
    {
        var c = encoder.Config;
        int n = input.Length, d = c.HiddenSize, L = c.NumHiddenLayers;
        var forward = EncoderGradients.Forward(encoder, [new GradientInput(input)]);
        var squares = new double[L * n * n];                                  // Σ over the Jacobian block of squares
        int total = n * d, perBatch = Math.Max(1, MaxBatchRows / n);
        for (int t0 = 0; t0 < total; t0 += perBatch)
        {
            cancellation.ThrowIfCancellationRequested();
            int count = Math.Min(perBatch, total - t0);
            // tangent b = the unit vector of coordinate k of input row j, (j, k) = divmod(t0 + b, d)
            var tangents = new float[count * n * d];
            for (int b = 0; b < count; b++)
            {
                int j = (t0 + b) / d, k = (t0 + b) % d;
                tangents[(b * n + j) * d + k] = 1;
            }
            EncoderTangents.Propagate(forward, tangents, count, (l, dY) =>
            {
                for (int b = 0; b < count; b++)
                {
                    int j = (t0 + b) / d;
                    for (int i = 0; i < n; i++)
                    {
                        var row = dY.AsSpan((b * n + i) * d, d);
                        double sum = 0;
                        foreach (float v in row) sum += (double)v * v;
                        squares[(l * n + i) * n + j] += sum;
                    }
                }
            });
            progress?.Report((double)(t0 + count) / total);
        }

        var result = Tensor.Zeros(L, n, n);
        for (int r = 0; r < L * n; r++)
        {
            double rowSum = 0;
            for (int j = 0; j < n; j++) rowSum += Math.Sqrt(squares[r * n + j]);
            for (int j = 0; j < n; j++) result.Data[r * n + j] = rowSum > 0 ? (float)(Math.Sqrt(squares[r * n + j]) / rowSum) : 0f;
        }
        return result;
    }
}
