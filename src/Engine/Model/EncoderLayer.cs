using System.Numerics.Tensors;
using MixLens.Engine.Tracing;
using MixLens.Kernels;

namespace MixLens.Engine.Model;

/// <summary>
/// One post-LayerNorm transformer encoder layer (Vaswani et al. 2017 §3.1; Devlin et al. 2019; HF <c>BertLayer</c>):
/// <code>
/// X₁ = LayerNorm₁(X + MultiHead(X) W_Oᵀ + b_O)
/// Y  = LayerNorm₂(X₁ + act(X₁ W_inᵀ + b_in) W_outᵀ + b_out)
/// </code>
/// Activations are packed rows [T, ·] of all texts in the batch, held in a reused <see cref="ForwardWorkspace"/>; each
/// named line is a trace point. The bias, the activation and the residual additions happen in the GEMMs' write-back
/// (<see cref="GemmEpilogue"/>); a residual sum is computed from a materialised projection output only when that
/// output is traced or patched, with the same result bit for bit.
/// </summary>
internal static partial class EncoderLayer
{
    /// <summary>Y = Layer(X): reads x [T, d], writes y [T, d] (distinct buffers, each at least T rows).</summary>
    /// <param name="tape">null, or where to keep what the backward needs (<see cref="Gradients.LayerTape"/>): Q, K, V,
    /// the attention probabilities, both residual sums with their LayerNorm statistics, and the FFN pre-activation.
    /// The taped forward computes the same values as the untaped one, bit for bit.</param>
    public static void Forward(int i, PackedLayerWeights w, EncoderConfig c, float[] x, float[] y, PackedBatch batch,
        ForwardWorkspace ws, StepHooks hooks, Gradients.LayerTape? tape = null)
    {
        int T = batch.TotalTokens, d = c.HiddenSize, f = c.IntermediateSize;
        var b = w.Source;
        float[] query = tape?.Query ?? ws.Query, key = tape?.Key ?? ws.Key, value = tape?.Value ?? ws.Value;
        float[] residual1 = tape?.AttentionResidual ?? ws.AttentionResidual, residual2 = tape?.FfnResidual ?? ws.FfnResidual;

        // Q = X W_Qᵀ + b_Q,  K = X W_Kᵀ + b_K,  V = X W_Vᵀ + b_V                      [T, d]
        Linear(x, w.Query, query, T, new GemmEpilogue { Bias = b.QueryBias.Span });
        hooks.AfterRows(i, LayerStep.Query, query, d);
        Linear(x, w.Key, key, T, new GemmEpilogue { Bias = b.KeyBias.Span });
        hooks.AfterRows(i, LayerStep.Key, key, d);
        Linear(x, w.Value, value, T, new GemmEpilogue { Bias = b.ValueBias.Span });
        hooks.AfterRows(i, LayerStep.Value, value, d);

        // context = concat_h softmax(Q_h K_hᵀ / √d_head + mask) V_h                    [T, d]
        SelfAttention.Forward(i, query, key, value, ws.Context, batch, c.NumAttentionHeads, c.HeadDim, hooks, ws.Attention, tape);
        hooks.AfterRows(i, LayerStep.Context, ws.Context, d);

        // attention output = context W_Oᵀ + b_O;  residual₁ = attention output + X     [T, d]
        if (hooks.Wants(i, LayerStep.AttentionOutput))
        {
            ws.EnsureProjectionOutputs(T, d);
            Linear(ws.Context, w.AttentionOutput, ws.AttentionOutput, T, new GemmEpilogue { Bias = b.AttentionOutputBias.Span });
            hooks.AfterRows(i, LayerStep.AttentionOutput, ws.AttentionOutput, d);
            TensorPrimitives.Add(ws.AttentionOutput.AsSpan(0, T * d), x.AsSpan(0, T * d), residual1.AsSpan(0, T * d));
        }
        else
        {
            Linear(ws.Context, w.AttentionOutput, residual1, T,
                new GemmEpilogue { Bias = b.AttentionOutputBias.Span, Residual = x.AsSpan(0, T * d), ResidualStride = d });
        }
        hooks.AfterRows(i, LayerStep.AttentionResidual, residual1, d);

        // X₁ = LayerNorm₁(residual₁)
        LayerNorm.Forward(residual1.AsSpan(0, T * d), b.AttentionLayerNormWeight.Span, b.AttentionLayerNormBias.Span,
            c.LayerNormEps, ws.AttentionNorm.AsSpan(0, T * d), T, d, tape is null ? default : tape.AttentionMean.AsSpan(0, T),
            tape is null ? default : tape.AttentionRstd.AsSpan(0, T), parallel: true);
        hooks.AfterRows(i, LayerStep.AttentionLayerNorm, ws.AttentionNorm, d);

        // intermediate = act(U),  U = X₁ W_inᵀ + b_in                                   [T, f]
        Intermediate(w, c, ws, tape?.PreActivation, T);
        hooks.AfterRows(i, LayerStep.FfnIntermediate, ws.Intermediate, f);

        // ffn output = intermediate W_outᵀ + b_out;  residual₂ = ffn output + X₁         [T, d]
        if (hooks.Wants(i, LayerStep.FfnOutput))
        {
            ws.EnsureProjectionOutputs(T, d);
            Linear(ws.Intermediate, w.Output, ws.FfnOutput, T, new GemmEpilogue { Bias = b.OutputBias.Span });
            hooks.AfterRows(i, LayerStep.FfnOutput, ws.FfnOutput, d);
            TensorPrimitives.Add(ws.FfnOutput.AsSpan(0, T * d), ws.AttentionNorm.AsSpan(0, T * d), residual2.AsSpan(0, T * d));
        }
        else
        {
            Linear(ws.Intermediate, w.Output, residual2, T,
                new GemmEpilogue { Bias = b.OutputBias.Span, Residual = ws.AttentionNorm.AsSpan(0, T * d), ResidualStride = d });
        }
        hooks.AfterRows(i, LayerStep.FfnResidual, residual2, d);

        // Y = LayerNorm₂(residual₂)
        LayerNorm.Forward(residual2.AsSpan(0, T * d), b.OutputLayerNormWeight.Span, b.OutputLayerNormBias.Span, c.LayerNormEps,
            y.AsSpan(0, T * d), T, d, tape is null ? default : tape.OutputMean.AsSpan(0, T),
            tape is null ? default : tape.OutputRstd.AsSpan(0, T), parallel: true);
        hooks.AfterRows(i, LayerStep.Output, y, d);
    }

    /// <summary>
    /// intermediate = act(U), U = X₁ W_inᵀ + b_in [rows, f], from ws.AttentionNorm into ws.Intermediate: the activation
    /// fused into the GEMM, or, when <paramref name="preActivation"/> is given (a taped forward), U kept there first and
    /// the activation applied to a copy (the same values bit for bit).
    /// </summary>
    static void Intermediate(PackedLayerWeights w, EncoderConfig c, ForwardWorkspace ws, float[]? preActivation, int rows)
    {
        var b = w.Source;
        if (preActivation is null)
        {
            Linear(ws.AttentionNorm, w.Intermediate, ws.Intermediate, rows,
                new GemmEpilogue { Bias = b.IntermediateBias.Span, Activation = ToGemm(c.HiddenAct) });
            return;
        }
        int f = c.IntermediateSize;
        Linear(ws.AttentionNorm, w.Intermediate, preActivation, rows, new GemmEpilogue { Bias = b.IntermediateBias.Span });
        var intermediate = ws.Intermediate.AsSpan(0, rows * f);
        preActivation.AsSpan(0, rows * f).CopyTo(intermediate);
        Activate(c.HiddenAct, intermediate);
    }

    /// <summary>y = epilogue(x Wᵀ) for x [rows, in], W packed from HF Linear [out, in]; y [rows, out].</summary>
    static void Linear(float[] x, PackedMatrix weight, float[] y, int rows, in GemmEpilogue epilogue)
        => Gemm.MatMul(x.AsSpan(0, rows * weight.K), weight.K, weight, y.AsSpan(0, rows * weight.N), weight.N, rows, epilogue);

    /// <summary>x ← act(x) in place, the same kernels as the GEMM's fused write-back.</summary>
    static void Activate(Activation activation, Span<float> x)
    {
        switch (activation)
        {
            case Activation.Gelu: Activations.Gelu(x); break;
            case Activation.GeluTanh: Activations.GeluTanh(x); break;
            case Activation.Relu: Activations.Relu(x); break;
            default: throw new NotSupportedException($"activation {activation}");
        }
    }

    internal static GemmActivation ToGemm(Activation activation) => activation switch
    {
        Activation.Gelu => GemmActivation.Gelu,
        Activation.GeluTanh => GemmActivation.GeluTanh,
        Activation.Relu => GemmActivation.Relu,
        _ => throw new NotSupportedException($"activation {activation}"),
    };
}
