using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Heads;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Engine.Tokenization;

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
    /// <summary>Saliency ‖∂z_c/∂x_j‖₂ per token, [n] (<see cref="Methods.Saliency"/>, Simonyan et al. 2014).</summary>
    Saliency,
    /// <summary>Gradient × input per token, [n] (<see cref="Methods.GradientXInput"/>, Shrikumar et al. 2017).</summary>
    GradientXInput,
    /// <summary>Integrated gradients per token, [n] (<see cref="Methods.IntegratedGradients"/>, Sundararajan et al. 2017).</summary>
    IntegratedGradients,
    /// <summary>Attention attribution, [L, n, n] head sum (<see cref="Methods.AttentionAttribution"/>, Hao et al. 2021).</summary>
    AttAttr,
    /// <summary>Gradient-weighted attention relevance, [L, n, n] (<see cref="Methods.Chefer"/>, Chefer et al. 2021).</summary>
    Chefer,
    /// <summary>Hidden token attribution, [L, n, n] (<see cref="Methods.HiddenTokenAttribution"/>, Brunner et al. 2020).</summary>
    Hta,
}

/// <summary>
/// What the gradient methods need beyond the encoder: the sequence-classification head whose target class they explain
/// (saliency, gradient-x-input, integrated-gradients, attattr, chefer), the target (null: the predicted class), the
/// special-token mask and pad id of integrated gradients' baseline, the steps of integrated-gradients (default
/// 50) and attattr (default 20), and whether attattr computes every layer (<see cref="AttAttrAllLayers"/>).
/// </summary>
/// <param name="AttAttrAllLayers">false: attattr computes only the last layer, the others left zero (what
/// <c>evaluate</c> reads; see <see cref="AttentionAttribution.ComputeHeads"/>).</param>
public sealed record GradientOptions(SequenceClassifier? Classifier, IReadOnlyList<bool>? SpecialTokens = null, int PadTokenId = 0,
    int? Target = null, int? Steps = null, bool AttAttrAllLayers = true)
{
    /// <summary>The options of one tokenized text on a loaded model: its sequence-classification head (null when it has
    /// none), the special-token mask of <paramref name="encoding"/> (<see cref="SpecialTokenMask"/>) and config.json's
    /// <c>pad_token_id</c>.</summary>
    /// <param name="target">the class to explain (null: the predicted class).</param>
    /// <param name="steps">the steps of integrated-gradients and attattr (null: their defaults).</param>
    public static GradientOptions ForText(EncoderModel model, Encoding encoding, int? target = null, int? steps = null) =>
        new(model.Classifier, SpecialTokenMask(model.Tokenizer, encoding), model.Config.PadTokenId, target, steps);

    /// <summary>Per token, whether it is a special token, whose integrated-gradients baseline is the token itself: one
    /// the post-processor inserted (<see cref="Encoding.SpecialTokensMask"/>: [CLS], [SEP], &lt;s&gt;, …) or a special
    /// added token found in the text ([UNK], [MASK]; <see cref="ITokenizer.IsSpecialToken"/>), as the gradient fixtures
    /// and ferret mark them (the tokenizer's special ids).</summary>
    public static bool[] SpecialTokenMask(ITokenizer tokenizer, Encoding encoding) =>
        Enumerable.Range(0, encoding.Length)
            .Select(j => encoding.SpecialTokensMask[j] != 0 || tokenizer.IsSpecialToken(encoding.Ids[j])).ToArray();

    /// <summary>The class a classifier predicts for one text: argmax of its logits (the gradient methods' default
    /// target).</summary>
    public static int PredictedClass(BertEncoder encoder, SequenceClassifier classifier, EncoderInput input) =>
        ClassifierGradient.ResolveTarget(classifier, classifier.Classify(encoder.Forward(input).LastHiddenState).Logits, null);
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
        (MixingMethod.Saliency, "saliency", "gradient L2 norm ‖∂z_c/∂x_j‖ of the target logit per token (Simonyan et al. 2014); one score per token"),
        (MixingMethod.GradientXInput, "gradient-x-input", "gradient × input Σ_k x_jk ∂z_c/∂x_jk per token, signed (Shrikumar et al. 2017); one score per token"),
        (MixingMethod.IntegratedGradients, "integrated-gradients", "integrated gradients from the pad-embedding baseline, Gauss–Legendre steps (Sundararajan et al. 2017); one score per token"),
        (MixingMethod.AttAttr, "attattr", "attention attribution: A ⊙ integrated ∂p_c/∂A over scaled attention, summed over heads (Hao et al. 2021)"),
        (MixingMethod.Chefer, "chefer", "gradient-weighted attention relevance, R += mean_h(∇A ⊙ A)⁺ R through the layers (Chefer et al. 2021)"),
        (MixingMethod.Hta, "hta", "hidden token attribution: Frobenius norms of ∂e_i^l/∂e_j^0, exact, n·d tangents (Brunner et al. 2020)"),
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

    /// <summary>Whether the method scores tokens, [n], rather than token pairs per layer, [L, n, n].</summary>
    public static bool IsTokenVector(MixingMethod method) =>
        method is MixingMethod.Saliency or MixingMethod.GradientXInput or MixingMethod.IntegratedGradients;

    /// <summary>Whether the method explains a sequence classifier's class (and so needs that head and takes a target).</summary>
    public static bool NeedsClassifier(MixingMethod method) =>
        IsTokenVector(method) || method is MixingMethod.AttAttr or MixingMethod.Chefer;

    /// <summary>Whether the method runs a backward (or forward-mode) pass rather than reading a forward trace.</summary>
    public static bool IsGradientMethod(MixingMethod method) => NeedsClassifier(method) || method == MixingMethod.Hta;

    /// <summary>Whether the method takes <c>--steps</c> (integrated-gradients, attattr).</summary>
    public static bool TakesSteps(MixingMethod method) => method is MixingMethod.IntegratedGradients or MixingMethod.AttAttr;

    /// <summary>Whether the method can be limited to one head (Value Zeroing and its rollout, attattr).</summary>
    public static bool TakesHead(MixingMethod method) =>
        method is MixingMethod.ValueZeroing or MixingMethod.ValueZeroingRollout or MixingMethod.AttAttr;

    /// <summary>Whether the method's cost is per output row and it can compute a subset of the rows (flow: n max-flows
    /// per row).</summary>
    public static bool TakesRows(MixingMethod method) => method == MixingMethod.Flow;

    /// <summary>Whether the method is expensive enough to be estimated, budgeted and shown with progress (its cost grows
    /// faster than a forward pass: flow, value-zeroing and its rollout, hta, integrated-gradients, attattr).</summary>
    public static bool IsExpensive(MixingMethod method) => method is MixingMethod.Flow or MixingMethod.ValueZeroing
        or MixingMethod.ValueZeroingRollout or MixingMethod.Hta or MixingMethod.IntegratedGradients or MixingMethod.AttAttr;

    /// <summary>The trace a method needs from the forward pass.</summary>
    public static TraceRequest Requirements(MixingMethod method) => method switch
    {
        MixingMethod.Attention or MixingMethod.Rollout => TraceRequest.Steps(false, LayerStep.Probs),
        MixingMethod.Flow => AttentionFlow.Requirements,
        MixingMethod.AttentionNorm => Methods.AttentionNorm.Requirements,
        MixingMethod.Alti or MixingMethod.AltiRollout => Methods.Alti.Requirements,
        MixingMethod.GlobEnc or MixingMethod.GlobEncRollout => Methods.GlobEnc.Requirements,
        MixingMethod.AttentionNormResLn => Methods.AttentionNormResLn.Requirements,
        _ when IsGradientMethod(method) => TraceRequest.None,
        _ => Methods.ValueZeroing.Requirements,
    };

    /// <summary>Computes <paramref name="method"/> for one text: [L, n, n], or [n] for a token-vector method
    /// (<see cref="IsTokenVector"/>).</summary>
    /// <param name="trace">a trace of this text holding <see cref="Requirements"/> (null: run the forward pass here).</param>
    /// <param name="head">Value Zeroing: zero the value vectors in this head only; attattr: this head's attribution
    /// only (null: all heads).</param>
    /// <param name="flowAllLayers">Flow only: every layer (true) or only the last one (false; other layers left zero).</param>
    /// <param name="gradients">the head, target and steps of the gradient methods (<see cref="NeedsClassifier"/>).</param>
    /// <param name="rows">flow only (<see cref="TakesRows"/>): the output tokens whose rows are computed; the others are
    /// NaN (null: all rows).</param>
    /// <param name="progress">receives the fraction done, 0 to 1, from the methods that take long enough to need it
    /// (flow, value-zeroing and its rollout, hta, integrated-gradients, attattr); the others report nothing.</param>
    /// <exception cref="ArgumentException"><paramref name="head"/> given for a method without heads, <paramref name="rows"/>
    /// for a method without rows, or a gradient method without the options it needs (no classifier; no special-token
    /// mask for integrated gradients).</exception>
    /// <exception cref="ArgumentOutOfRangeException">a target class, head, row or step count out of range.</exception>
    public static Tensor Compute(MixingMethod method, BertEncoder encoder, EncoderInput input, Trace? trace = null, int? head = null,
        bool flowAllLayers = true, GradientOptions? gradients = null, IReadOnlyList<int>? rows = null, IProgress<double>? progress = null)
    {
        if (head is not null && !TakesHead(method))
            throw new ArgumentException($"a single head applies to value-zeroing, value-zeroing-rollout and attattr only, not to {NameOf(method)}", nameof(head));
        if (rows is not null && !TakesRows(method))
            throw new ArgumentException($"a subset of output rows applies to flow only, not to {NameOf(method)}", nameof(rows));
        using var call = encoder.BeginCall();   // the methods and the heads read the (memory-mapped) weights
        if (IsGradientMethod(method)) return ComputeGradientMethod(method, encoder, input, head, gradients, progress);
        trace ??= encoder.Forward(input, Requirements(method)).Trace;
        int layers = encoder.Config.NumHiddenLayers;
        return method switch
        {
            MixingMethod.Attention => RawAttention.HeadMean(trace, layers),
            MixingMethod.Rollout => Rollout.Compute(RawAttention.HeadMean(trace, layers), addIdentity: true),
            MixingMethod.ValueZeroing => Methods.ValueZeroing.Compute(encoder, input, head, trace, progress),
            MixingMethod.ValueZeroingRollout => Rollout.Compute(Methods.ValueZeroing.Compute(encoder, input, head, trace, progress), addIdentity: false),
            MixingMethod.Flow => AttentionFlow.Compute(encoder, input, trace, flowAllLayers, rows, progress),
            MixingMethod.AttentionNorm => Methods.AttentionNorm.Compute(encoder, input, trace),
            MixingMethod.Alti => Methods.Alti.Compute(encoder, input, trace),
            MixingMethod.AltiRollout => Rollout.Compute(Methods.Alti.Compute(encoder, input, trace), addIdentity: false),
            MixingMethod.GlobEnc => Methods.GlobEnc.Compute(encoder, input, trace),
            MixingMethod.GlobEncRollout => Rollout.Compute(Methods.GlobEnc.Compute(encoder, input, trace), addIdentity: false),
            MixingMethod.AttentionNormResLn => Methods.AttentionNormResLn.Compute(encoder, input, trace),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };
    }

    static Tensor ComputeGradientMethod(MixingMethod method, BertEncoder encoder, EncoderInput input, int? head, GradientOptions? options,
        IProgress<double>? progress)
    {
        if (method == MixingMethod.Hta) return HiddenTokenAttribution.Compute(encoder, input, progress);
        var classifier = options?.Classifier
            ?? throw new ArgumentException($"{NameOf(method)} explains a sequence classifier's class and needs its head; none was given", nameof(options));
        int? target = options.Target;
        return method switch
        {
            MixingMethod.Saliency => Vector(Methods.Saliency.Compute(encoder, classifier, input, target)),
            MixingMethod.GradientXInput => Vector(Methods.GradientXInput.Compute(encoder, classifier, input, target)),
            MixingMethod.IntegratedGradients => Vector(Methods.IntegratedGradients.Compute(encoder, classifier, input,
                options.SpecialTokens ?? throw new ArgumentException("integrated-gradients needs the special-token mask (its baseline keeps special tokens)", nameof(options)),
                options.PadTokenId, target, options.Steps ?? Methods.IntegratedGradients.DefaultSteps, progress).Scores),
            MixingMethod.AttAttr => AttentionAttribution.Reduce(
                AttentionAttribution.ComputeHeads(encoder, classifier, input, target, options.Steps ?? AttentionAttribution.DefaultSteps,
                    progress, options.AttAttrAllLayers), head),
            MixingMethod.Chefer => Methods.Chefer.Compute(encoder, classifier, input, target),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };

        static Tensor Vector(float[] scores) => new(scores, scores.Length);
    }

    /// <summary>
    /// <see cref="Compute"/> for several methods of one text, sharing work through <paramref name="bases"/>: each
    /// method's own matrix is cached there, and a rollout (rollout, value-zeroing-rollout, alti-rollout,
    /// globenc-rollout) multiplies its base method's cached matrix through the layers instead of computing it again.
    /// </summary>
    /// <param name="bases">the text's cache, empty at first; one per text.</param>
    /// <param name="rows">flow only: the output rows to compute (null: all).</param>
    public static Tensor ComputeSharing(MixingMethod method, BertEncoder encoder, EncoderInput input, Trace trace,
        Dictionary<MixingMethod, Tensor> bases, bool flowAllLayers = true, GradientOptions? gradients = null,
        IReadOnlyList<int>? rows = null)
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
            bases[own] = matrix = Compute(own, encoder, input, trace, flowAllLayers: flowAllLayers, gradients: gradients,
                rows: TakesRows(own) ? rows : null);
        return rolled is { } r ? Rollout.Compute(matrix, r.AddIdentity) : matrix;
    }
}
