using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;

namespace MixLens.Analysis;

/// <summary>A context-mixing method: each yields one matrix per layer, [L, n, n], row i = output token, column j = input token.</summary>
public enum MixingMethod
{
    /// <summary>Head-mean raw attention (<see cref="RawAttention"/>).</summary>
    Attention,
    /// <summary>Attention rollout (<see cref="Rollout"/>, Abnar &amp; Zuidema 2020).</summary>
    Rollout,
    /// <summary>Value Zeroing (<see cref="Methods.ValueZeroing"/>, Mohebbi et al. 2023).</summary>
    ValueZeroing,
    /// <summary>Value Zeroing rolled out without added identity.</summary>
    ValueZeroingRollout,
    /// <summary>Exact attention flow (<see cref="AttentionFlow"/>, Abnar &amp; Zuidema 2020).</summary>
    Flow,
    /// <summary>Attention norm ‖Σ_h α_h f_h(x_j)‖ (<see cref="Methods.AttentionNorm"/>, Kobayashi et al. 2020).</summary>
    AttentionNorm,
    /// <summary>ALTI (<see cref="Methods.Alti"/>, Ferrando et al. 2022).</summary>
    Alti,
    /// <summary>ALTI rolled out without added identity.</summary>
    AltiRollout,
    /// <summary>GlobEnc, N-Enc (<see cref="Methods.GlobEnc"/>, Modarressi et al. 2022).</summary>
    GlobEnc,
    /// <summary>GlobEnc rolled out without added identity or normalisation.</summary>
    GlobEncRollout,
    /// <summary>Attention norm with residual and LayerNorm 1, N-ResLN (<see cref="Methods.AttentionNormResLn"/>, Kobayashi et al. 2021).</summary>
    AttentionNormResLn,
}

/// <summary>Names, parsing and dispatch of the context-mixing methods.</summary>
public static class MixingMethods
{
    static readonly (MixingMethod Method, string Name, string Description)[] Table =
    [
        (MixingMethod.Attention, "attention", "raw attention probabilities, mean over heads"),
        (MixingMethod.Rollout, "rollout", "attention rollout, (A + I) renormalised, multiplied through the layers (Abnar & Zuidema 2020)"),
        (MixingMethod.ValueZeroing, "value-zeroing", "cosine distance of each output when one token's value vectors are zeroed (Mohebbi et al. 2023)"),
        (MixingMethod.ValueZeroingRollout, "value-zeroing-rollout", "Value Zeroing multiplied through the layers (no identity added)"),
        (MixingMethod.Flow, "flow", "exact attention flow: max flow through the layered attention graph (Abnar & Zuidema 2020)"),
        (MixingMethod.AttentionNorm, "attention-norm", "norm of the attention-weighted transformed value vectors (Kobayashi et al. 2020); not normalised"),
        (MixingMethod.Alti, "alti", "ALTI: L1 proximity of each token's contribution to the LayerNorm-1 output (Ferrando et al. 2022)"),
        (MixingMethod.AltiRollout, "alti-rollout", "ALTI multiplied through the layers"),
        (MixingMethod.GlobEnc, "globenc", "GlobEnc N-Enc: contribution norms through both LayerNorms (Modarressi et al. 2022); not normalised"),
        (MixingMethod.GlobEncRollout, "globenc-rollout", "GlobEnc multiplied through the layers"),
        (MixingMethod.AttentionNormResLn, "attention-norm-res-ln", "N-ResLN: contribution norms through the residual and LayerNorm 1's linear part (Kobayashi et al. 2021); not normalised"),
    ];

    /// <summary>The command-line names, e.g. "value-zeroing".</summary>
    public static IReadOnlyList<string> Names { get; } = Table.Select(t => t.Name).ToArray();

    public static string NameOf(MixingMethod method) => Table.First(t => t.Method == method).Name;
    public static string Describe(MixingMethod method) => Table.First(t => t.Method == method).Description;

    /// <summary>Parses a command-line name (case-insensitive).</summary>
    public static bool TryParse(string name, out MixingMethod method)
    {
        foreach (var t in Table)
        {
            if (string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                method = t.Method;
                return true;
            }
        }
        method = default;
        return false;
    }

    /// <summary>The trace a method needs from the forward pass.</summary>
    public static TraceRequest Requirements(MixingMethod method) => method switch
    {
        MixingMethod.Attention or MixingMethod.Rollout => TraceRequest.Steps(false, LayerStep.Probs),
        MixingMethod.Flow => AttentionFlow.Requirements,
        MixingMethod.AttentionNorm => Methods.AttentionNorm.Requirements,
        MixingMethod.Alti or MixingMethod.AltiRollout => Methods.Alti.Requirements,
        MixingMethod.GlobEnc or MixingMethod.GlobEncRollout => Methods.GlobEnc.Requirements,
        MixingMethod.AttentionNormResLn => Methods.AttentionNormResLn.Requirements,
        _ => Methods.ValueZeroing.Requirements,
    };

    /// <summary>Computes <paramref name="method"/> for one text: [L, n, n].</summary>
    /// <param name="trace">a trace of this text holding <see cref="Requirements"/> (null: run the forward pass here).</param>
    /// <param name="head">Value Zeroing only: zero the value vectors in this head only (null: all heads).</param>
    /// <param name="flowAllLayers">Flow only: every layer (true) or only the last one (false; other layers left zero).</param>
    /// <exception cref="ArgumentException"><paramref name="head"/> given for a method other than Value Zeroing.</exception>
    public static Tensor Compute(MixingMethod method, BertEncoder encoder, EncoderInput input, Trace? trace = null, int? head = null, bool flowAllLayers = true)
    {
        if (head is not null && method is not (MixingMethod.ValueZeroing or MixingMethod.ValueZeroingRollout))
            throw new ArgumentException($"a single head applies to Value Zeroing only, not to {NameOf(method)}", nameof(head));
        trace ??= encoder.Forward(input, Requirements(method)).Trace;
        int layers = encoder.Config.NumHiddenLayers;
        return method switch
        {
            MixingMethod.Attention => RawAttention.HeadMean(trace, layers),
            MixingMethod.Rollout => Rollout.Compute(RawAttention.HeadMean(trace, layers), addIdentity: true),
            MixingMethod.ValueZeroing => Methods.ValueZeroing.Compute(encoder, input, head, trace),
            MixingMethod.ValueZeroingRollout => Rollout.Compute(Methods.ValueZeroing.Compute(encoder, input, head, trace), addIdentity: false),
            MixingMethod.Flow => AttentionFlow.Compute(encoder, input, trace, flowAllLayers),
            MixingMethod.AttentionNorm => Methods.AttentionNorm.Compute(encoder, input, trace),
            MixingMethod.Alti => Methods.Alti.Compute(encoder, input, trace),
            MixingMethod.AltiRollout => Rollout.Compute(Methods.Alti.Compute(encoder, input, trace), addIdentity: false),
            MixingMethod.GlobEnc => Methods.GlobEnc.Compute(encoder, input, trace),
            MixingMethod.GlobEncRollout => Rollout.Compute(Methods.GlobEnc.Compute(encoder, input, trace), addIdentity: false),
            MixingMethod.AttentionNormResLn => Methods.AttentionNormResLn.Compute(encoder, input, trace),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };
    }

    /// <summary>
    /// <see cref="Compute"/> for several methods of one text, sharing work through <paramref name="bases"/>: each
    /// method's own matrix is cached there, and a rollout (rollout, value-zeroing-rollout, alti-rollout,
    /// globenc-rollout) multiplies its base method's cached matrix through the layers instead of computing it again.
    /// </summary>
    /// <param name="bases">the text's cache, empty at first; one per text.</param>
    public static Tensor ComputeSharing(MixingMethod method, BertEncoder encoder, EncoderInput input, Trace trace,
        Dictionary<MixingMethod, Tensor> bases, bool flowAllLayers = true)
    {
        (MixingMethod Base, bool AddIdentity)? rolled = method switch
        {
            MixingMethod.Rollout => (MixingMethod.Attention, true),
            MixingMethod.ValueZeroingRollout => (MixingMethod.ValueZeroing, false),
            MixingMethod.AltiRollout => (MixingMethod.Alti, false),
            MixingMethod.GlobEncRollout => (MixingMethod.GlobEnc, false),
            _ => null,
        };
        var own = rolled?.Base ?? method;
        if (!bases.TryGetValue(own, out var matrix))
            bases[own] = matrix = Compute(own, encoder, input, trace, flowAllLayers: flowAllLayers);
        return rolled is { } r ? Rollout.Compute(matrix, r.AddIdentity) : matrix;
    }
}
