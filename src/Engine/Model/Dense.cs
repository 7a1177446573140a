using MixLens.Kernels;

namespace MixLens.Engine.Model;

/// <summary>A dense (HF <c>nn.Linear</c>) layer on unpacked weights, y = x Wᵀ + b: the task heads and ELECTRA's embedding
/// projection (the encoder layers use their packed weights instead).</summary>
internal static class Dense
{
    /// <summary>y [rows, outFeatures] = x [rows, inFeatures] · W [outFeatures, inFeatures]ᵀ + b [outFeatures].</summary>
    public static float[] Forward(ReadOnlySpan<float> x, int rows, ReadOnlyMemory<float> weight, ReadOnlyMemory<float> bias,
        int outFeatures, int inFeatures)
    {
        var y = new float[rows * outFeatures];
        Gemm.MatMulNT(x, inFeatures, weight.Span, inFeatures, y, outFeatures, rows, outFeatures, inFeatures, bias.Span);
        return y;
    }
}
