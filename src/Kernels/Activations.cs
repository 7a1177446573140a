namespace MixLens.Kernels;

/// <summary>Elementwise activations, in place (STUB).</summary>
public static class Activations
{
    /// <summary>GELU, exact erf form: x·½(1 + erf(x/√2)).</summary>
    public static void Gelu(Span<float> x) => throw new NotImplementedException();
    /// <summary>GELU, tanh approximation (gelu_new, gelu_pytorch_tanh).</summary>
    public static void GeluTanh(Span<float> x) => throw new NotImplementedException();
    /// <summary>max(0, x).</summary>
    public static void Relu(Span<float> x) => throw new NotImplementedException();
}
