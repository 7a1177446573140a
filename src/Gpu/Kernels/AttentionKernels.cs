using ILGPU;

namespace MixLens.Gpu.Kernels;

/// <summary>
/// Layout changes around the batched attention GEMMs: the packed rows [T, d] of a batch (text b at rows
/// starts[b] .. starts[b] + n_b) to and from per-(text, head) padded blocks [B, H, N, d_head] (N the longest text;
/// rows i ≥ n_b are zero), and the key mask.
/// </summary>
public static class AttentionKernels
{
    /// <summary>dst[b, h, i, e] = src[starts[b] + i, h·d_head + e] for i &lt; n_b, else 0; one thread per dst element.</summary>
    public static void SplitHeads(Index1D index, ArrayView<float> src, ArrayView<float> dst, ArrayView<int> starts,
        ArrayView<int> lengths, int heads, int headDim, int maxLength)
    {
        long k = index;
        int e = (int)(k % headDim);
        long rest = k / headDim;
        int i = (int)(rest % maxLength);
        rest /= maxLength;
        int h = (int)(rest % heads), b = (int)(rest / heads);
        dst[k] = i < lengths[b] ? src[(long)(starts[b] + i) * heads * headDim + h * headDim + e] : 0f;
    }

    /// <summary>dst[t, h·d_head + e] = src[b, h, t − starts[b], e] with b = rowText[t]; one thread per dst element [T, d].</summary>
    public static void MergeHeads(Index1D index, ArrayView<float> src, ArrayView<float> dst, ArrayView<int> starts,
        ArrayView<int> rowText, int heads, int headDim, int maxLength)
    {
        long k = index;
        int d = heads * headDim;
        int t = (int)(k / d), c = (int)(k % d), h = c / headDim, e = c % headDim;
        int b = rowText[t], i = t - starts[b];
        dst[k] = src[(((long)b * heads + h) * maxLength + i) * headDim + e];
    }

    /// <summary>S[b, h, i, j] = −∞ where keyMask[b·N + j] = 0 (padding the tokenizer marked), for real query rows i &lt; n_b.</summary>
    public static void MaskKeys(Index1D index, ArrayView<float> scores, ArrayView<int> keyMask, ArrayView<int> lengths,
        int heads, int maxLength)
    {
        long k = index;
        int j = (int)(k % maxLength);
        long rest = k / maxLength;
        int i = (int)(rest % maxLength);
        int b = (int)(rest / maxLength / heads);
        if (i < lengths[b] && j < lengths[b] && keyMask[(long)b * maxLength + j] == 0) scores[k] = float.NegativeInfinity;
    }

    /// <summary>z = x + y elementwise (a residual sum when the projection output is traced or patched).</summary>
    public static void Add(Index1D index, ArrayView<float> x, ArrayView<float> y, ArrayView<float> z) => z[index] = x[index] + y[index];
}
