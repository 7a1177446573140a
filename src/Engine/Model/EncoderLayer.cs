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
/// Activations are packed rows [T, ·] of all texts in the batch; each named line is a trace point.
/// </summary>
internal static class EncoderLayer
{
    public static float[] Forward(int i, LayerWeights w, EncoderConfig c, float[] x, PackedBatch batch, StepHooks hooks)
    {
        int T = batch.TotalTokens, d = c.HiddenSize, f = c.IntermediateSize;

        // Q = X W_Qᵀ + b_Q,  K = X W_Kᵀ + b_K,  V = X W_Vᵀ + b_V                      [T, d]
        var query = Linear(x, w.QueryWeight, w.QueryBias, T, d, d);
        hooks.AfterRows(i, LayerStep.Query, query, d);
        var key = Linear(x, w.KeyWeight, w.KeyBias, T, d, d);
        hooks.AfterRows(i, LayerStep.Key, key, d);
        var value = Linear(x, w.ValueWeight, w.ValueBias, T, d, d);
        hooks.AfterRows(i, LayerStep.Value, value, d);

        // context = concat_h softmax(Q_h K_hᵀ / √d_head + mask) V_h                    [T, d]
        var context = SelfAttention.Forward(i, query, key, value, batch, c.NumAttentionHeads, c.HeadDim, hooks);
        hooks.AfterRows(i, LayerStep.Context, context, d);

        // attention output = context W_Oᵀ + b_O                                        [T, d]
        var attentionOutput = Linear(context, w.AttentionOutputWeight, w.AttentionOutputBias, T, d, d);
        hooks.AfterRows(i, LayerStep.AttentionOutput, attentionOutput, d);

        // residual₁ = attention output + X
        var attentionResidual = new float[T * d];
        TensorPrimitives.Add(attentionOutput, x, attentionResidual);
        hooks.AfterRows(i, LayerStep.AttentionResidual, attentionResidual, d);

        // X₁ = LayerNorm₁(residual₁)
        var x1 = new float[T * d];
        LayerNorm.Forward(attentionResidual, w.AttentionLayerNormWeight.Span, w.AttentionLayerNormBias.Span, c.LayerNormEps, x1, T, d);
        hooks.AfterRows(i, LayerStep.AttentionLayerNorm, x1, d);

        // intermediate = act(X₁ W_inᵀ + b_in)                                           [T, f]
        var intermediate = Linear(x1, w.IntermediateWeight, w.IntermediateBias, T, f, d);
        Activate(c.HiddenAct, intermediate);
        hooks.AfterRows(i, LayerStep.FfnIntermediate, intermediate, f);

        // ffn output = intermediate W_outᵀ + b_out                                      [T, d]
        var ffnOutput = Linear(intermediate, w.OutputWeight, w.OutputBias, T, d, f);
        hooks.AfterRows(i, LayerStep.FfnOutput, ffnOutput, d);

        // residual₂ = ffn output + X₁
        var ffnResidual = new float[T * d];
        TensorPrimitives.Add(ffnOutput, x1, ffnResidual);
        hooks.AfterRows(i, LayerStep.FfnResidual, ffnResidual, d);

        // Y = LayerNorm₂(residual₂)
        var y = new float[T * d];
        LayerNorm.Forward(ffnResidual, w.OutputLayerNormWeight.Span, w.OutputLayerNormBias.Span, c.LayerNormEps, y, T, d);
        hooks.AfterRows(i, LayerStep.Output, y, d);
        return y;
    }

    /// <summary>y = x Wᵀ + b for x [rows, inFeatures], W [outFeatures, inFeatures] (HF Linear layout).</summary>
    internal static float[] Linear(float[] x, ReadOnlyMemory<float> weight, ReadOnlyMemory<float> bias, int rows, int outFeatures, int inFeatures)
    {
        var y = new float[rows * outFeatures];
        Gemm.MatMulNT(x, inFeatures, weight.Span, inFeatures, y, outFeatures, rows, outFeatures, inFeatures, bias.Span);
        return y;
    }

    internal static void Activate(Model.Activation activation, Span<float> x)
    {
        switch (activation)
        {
            case Model.Activation.Gelu: Activations.Gelu(x); break;
            case Model.Activation.GeluTanh: Activations.GeluTanh(x); break;
            case Model.Activation.Relu: Activations.Relu(x); break;
            default: throw new NotSupportedException($"activation {activation}");
        }
    }
}
