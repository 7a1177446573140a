namespace MixLens.Engine.Model;

/// <summary>The FFN activation named by <c>hidden_act</c> in config.json.</summary>
public enum Activation
{
    /// <summary><c>gelu</c>: exact erf form, x·½(1 + erf(x/√2)).</summary>
    Gelu,
    /// <summary><c>gelu_new</c>, <c>gelu_pytorch_tanh</c>, <c>gelu_fast</c>: tanh approximation.</summary>
    GeluTanh,
    /// <summary><c>relu</c>.</summary>
    Relu,
}
