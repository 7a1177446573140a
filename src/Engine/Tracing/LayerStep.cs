namespace MixLens.Engine.Tracing;

/// <summary>
/// The inspectable sub-steps of one post-LayerNorm encoder layer, in forward order. Shapes are per text
/// (n tokens, d = hidden_size, H heads, f = intermediate_size); <see cref="TraceNames"/> gives each its stable name.
/// </summary>
public enum LayerStep
{
    /// <summary><c>layers.{i}.attention.query</c> [n, d]: Q = X W_Qᵀ + b_Q (heads not yet split).</summary>
    Query,
    /// <summary><c>layers.{i}.attention.key</c> [n, d]: K = X W_Kᵀ + b_K.</summary>
    Key,
    /// <summary><c>layers.{i}.attention.value</c> [n, d]: V = X W_Vᵀ + b_V (the value vectors, after the bias).</summary>
    Value,
    /// <summary><c>layers.{i}.attention.scores</c> [H, n, n]: S_h = Q_h K_hᵀ / √d_head, masked keys = -∞, before softmax.</summary>
    Scores,
    /// <summary><c>layers.{i}.attention.probs</c> [H, n, n]: A_h = softmax(S_h) over keys.</summary>
    Probs,
    /// <summary><c>layers.{i}.attention.context</c> [n, d]: concat_h(A_h V_h), heads merged, before W_O.</summary>
    Context,
    /// <summary><c>layers.{i}.attention.output</c> [n, d]: context W_Oᵀ + b_O.</summary>
    AttentionOutput,
    /// <summary><c>layers.{i}.attention.residual</c> [n, d]: attention output + layer input, before LayerNorm 1.</summary>
    AttentionResidual,
    /// <summary><c>layers.{i}.attention.layernorm</c> [n, d]: LayerNorm 1 of the residual.</summary>
    AttentionLayerNorm,
    /// <summary><c>layers.{i}.ffn.intermediate</c> [n, f]: act(X₁ W_inᵀ + b_in), after the activation.</summary>
    FfnIntermediate,
    /// <summary><c>layers.{i}.ffn.output</c> [n, d]: intermediate W_outᵀ + b_out.</summary>
    FfnOutput,
    /// <summary><c>layers.{i}.ffn.residual</c> [n, d]: FFN output + LayerNorm-1 output, before LayerNorm 2.</summary>
    FfnResidual,
    /// <summary><c>layers.{i}.output</c> [n, d]: LayerNorm 2 of the FFN residual; the next layer's input.</summary>
    Output,
}
