using MixLens.Engine.Interventions;
using MixLens.Engine.Tracing;

namespace MixLens.Engine.Model;

/// <summary>
/// What happens after each sub-step of a forward pass: apply the patch (if it targets the step), then copy the
/// (patched) activation into each text's trace (if requested). With neither, every call returns at once.
/// </summary>
internal sealed class StepHooks
{
    readonly TraceRequest _request;
    readonly IActivationPatch? _patch;
    readonly Trace[] _traces;
    readonly PackedBatch _batch;
    readonly int _heads;

    public StepHooks(TraceRequest? request, IActivationPatch? patch, Trace[] traces, PackedBatch batch, int heads)
    {
        _request = request ?? TraceRequest.None;
        _patch = patch;
        _traces = traces;
        _batch = batch;
        _heads = heads;
    }

    /// <summary>Hook for an [T, width] sub-step: patch and/or capture each text's rows.</summary>
    public void AfterRows(int layer, LayerStep step, float[] activation, int width)
    {
        bool patch = _patch?.Targets(layer, step) == true;
        bool capture = _request.Wants(layer, step);
        if (!patch && !capture) return;
        for (int s = 0; s < _batch.Count; s++)
        {
            var rows = _batch.Rows(activation, s, width);
            if (patch) _patch!.Apply(new PatchSite(layer, step, s, -1, _batch.Lengths[s], width), rows);
            if (capture) _traces[s].Add(TraceNames.Of(layer, step), new Tensor(rows.ToArray(), _batch.Lengths[s], width));
        }
    }

    /// <summary>Hook for the embeddings output [T, d].</summary>
    public void AfterEmbeddings(float[] activation, int width)
    {
        if (!_request.WantsEmbeddings) return;
        for (int s = 0; s < _batch.Count; s++)
            _traces[s].Add(TraceNames.EmbeddingsOutput, new Tensor(_batch.Rows(activation, s, width).ToArray(), _batch.Lengths[s], width));
    }

    /// <summary>Whether anything happens after sub-step <paramref name="step"/> (capture or patch): a [T, width] step
    /// is then materialised instead of fused into the next one; a per-head step (Scores, Probs) is then handed over.</summary>
    public bool Wants(int layer, LayerStep step) => _request.Wants(layer, step) || _patch?.Targets(layer, step) == true;

    /// <summary>Whether the patch rewrites sub-step <paramref name="step"/> (a backend whose activations live elsewhere
    /// then copies the patched rows back).</summary>
    public bool Patches(int layer, LayerStep step) => _patch?.Targets(layer, step) == true;

    /// <summary>Allocates the [H, n, n] trace tensors of a per-head step before the (parallel) attention loop; null
    /// (and no allocation) when the step is not traced.</summary>
    public Tensor?[]? PrepareHeadCaptures(int layer, LayerStep step)
    {
        if (!_request.Wants(layer, step)) return null;
        var captures = new Tensor?[_batch.Count];
        for (int s = 0; s < _batch.Count; s++)
        {
            int n = _batch.Lengths[s];
            captures[s] = Tensor.Zeros(_heads, n, n);
            _traces[s].Add(TraceNames.Of(layer, step), captures[s]!);
        }
        return captures;
    }

    /// <summary>Hook for one head's [n, n] matrix of text <paramref name="s"/>; thread-safe across (s, h).</summary>
    public void AfterHead(int layer, LayerStep step, int s, int h, Span<float> matrix, Tensor?[]? captures)
    {
        int n = _batch.Lengths[s];
        if (_patch?.Targets(layer, step) == true) _patch.Apply(new PatchSite(layer, step, s, h, n, n), matrix);
        if (captures?[s] is { } t) matrix.CopyTo(t.Data.AsSpan(h * n * n, n * n));
    }
}
