using MixLens.Engine;
using MixLens.Kernels;

namespace MixLens.Analysis.Methods;

/// <summary>
/// Rollout: propagate per-layer mixing matrices through the layers by matrix products, so that R_l[i, j] says how
/// much output token i of layer l draws on input token j of the embeddings.
/// Abnar &amp; Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020, arXiv:2005.00928, §3 (Eq. 1):
/// <code>
/// Ã_l = A_l + I, rows renormalised     (the residual connection, "0.5·A + 0.5·I" for row-stochastic A)
/// R_1 = Ã_1,   R_l = Ã_l · R_{l-1}
/// </code>
/// Deviations: with <c>addIdentity: false</c> this is the plain product R_l = S_l R_{l-1} used by Value Zeroing
/// (Mohebbi et al. 2023, §3.2, following the authors' code), ALTI and GlobEnc, whose matrices already account
/// for the residual stream.
/// </summary>
public static class Rollout
{
    /// <summary>Rolls out per-layer matrices [L, n, n] into [L, n, n].</summary>
    /// <param name="layers">S_l for l = 1..L, each row i = output token, column j = input token.</param>
    /// <param name="addIdentity">true: Ã_l = rownorm(S_l + I) (attention rollout); false: Ã_l = S_l.</param>
    /// <exception cref="ArgumentException"><paramref name="layers"/> is not [L, n, n].</exception>
    public static Tensor Compute(Tensor layers, bool addIdentity)
    {
        if (layers.Rank != 3 || layers.Shape[1] != layers.Shape[2])
            throw new ArgumentException($"rollout needs per-layer square matrices [L, n, n], got [{string.Join(", ", layers.Shape)}]", nameof(layers));
        int L = layers.Shape[0], n = layers.Shape[1], nn = n * n;
        var result = Tensor.Zeros(L, n, n);
        var current = new float[nn];
        for (int l = 0; l < L; l++)
        {
            layers.Data.AsSpan(l * nn, nn).CopyTo(current);
            if (addIdentity) AddIdentityAndRenormalise(current, n);
            var r = result.Data.AsSpan(l * nn, nn);
            if (l == 0)
            {
                // R_1 = Ã_1
                current.CopyTo(r);
            }
            else
            {
                // R_l = Ã_l · R_{l-1}                                         [n, n] x [n, n]
                Gemm.MatMulNN(current, n, result.Data.AsSpan((l - 1) * nn, nn), n, r, n, n, n, n);
            }
        }
        return result;
    }

    /// <summary>Ã = (A + I) with each row divided by its sum (in place, [n, n]).</summary>
    public static void AddIdentityAndRenormalise(Span<float> a, int n)
    {
        for (int i = 0; i < n; i++)
        {
            var row = a.Slice(i * n, n);
            row[i] += 1f;
            double sum = 0;
            foreach (var v in row) sum += v;
            if (sum == 0) continue;
            for (int j = 0; j < n; j++) row[j] = (float)(row[j] / sum);
        }
    }
}
