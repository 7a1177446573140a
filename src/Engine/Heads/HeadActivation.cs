using System.Numerics.Tensors;
using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Engine.Heads;

/// <summary>The activation inside a task head (between its dense layer and the output layer).</summary>
public enum HeadActivation
{
    /// <summary>tanh: BERT's pooler, RoBERTa's classification head.</summary>
    Tanh,
    /// <summary>Exact GELU, x·½(1 + erf(x/√2)): ELECTRA's heads, RoBERTa's LM head.</summary>
    Gelu,
    /// <summary>Tanh-approximated GELU (a <c>hidden_act</c> of <c>gelu_new</c> etc.).</summary>
    GeluTanh,
    /// <summary>ReLU: DistilBERT's <c>pre_classifier</c>.</summary>
    Relu,
}

/// <summary>Applies a <see cref="HeadActivation"/> in place.</summary>
public static class HeadActivations
{
    /// <summary>x ← act(x), element-wise.</summary>
    public static void Apply(this HeadActivation activation, Span<float> x)
    {
        switch (activation)
        {
            case HeadActivation.Tanh: TensorPrimitives.Tanh(x, x); break;
            case HeadActivation.Gelu: Activations.Gelu(x); break;
            case HeadActivation.GeluTanh: Activations.GeluTanh(x); break;
            case HeadActivation.Relu: Activations.Relu(x); break;
            default: throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown head activation");
        }
    }

    /// <summary>g ← g ⊙ act′(u) at the pre-activations u (the chain rule's factor; tanh′ = 1 − tanh²).</summary>
    public static void MultiplyByDerivative(this HeadActivation activation, ReadOnlySpan<float> u, Span<float> g)
    {
        switch (activation)
        {
            case HeadActivation.Tanh:
                for (int i = 0; i < u.Length; i++) { double t = Math.Tanh(u[i]); g[i] = (float)(g[i] * (1 - t * t)); }
                break;
            case HeadActivation.Gelu: Activations.MultiplyByDerivative(GemmActivation.Gelu, u, g); break;
            case HeadActivation.GeluTanh: Activations.MultiplyByDerivative(GemmActivation.GeluTanh, u, g); break;
            case HeadActivation.Relu: Activations.MultiplyByDerivative(GemmActivation.Relu, u, g); break;
            default: throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown head activation");
        }
    }

    /// <summary>The head activation of a config's <c>hidden_act</c> / <c>activation</c> (heads that reuse it: BERT's and
    /// DistilBERT's LM heads).</summary>
    public static HeadActivation From(Activation hiddenAct) => hiddenAct switch
    {
        Activation.Gelu => HeadActivation.Gelu,
        Activation.GeluTanh => HeadActivation.GeluTanh,
        Activation.Relu => HeadActivation.Relu,
        _ => throw new ArgumentOutOfRangeException(nameof(hiddenAct), hiddenAct, "unknown activation"),
    };
}
