namespace MixLens.Engine.Tracing;

/// <summary>
/// Which tensors a forward pass should capture. A forward given no request (or <see cref="None"/>) captures
/// nothing and pays nothing; each requested tensor costs one copy of that tensor.
/// </summary>
public sealed class TraceRequest
{
    readonly bool _embeddings;
    readonly Func<int, LayerStep, bool> _layerFilter;

    TraceRequest(bool embeddings, Func<int, LayerStep, bool> layerFilter)
    {
        _embeddings = embeddings;
        _layerFilter = layerFilter;
    }

    /// <summary>Capture nothing.</summary>
    public static TraceRequest None { get; } = new(false, (_, _) => false);

    /// <summary>Capture every sub-step of every layer and the embeddings output.</summary>
    public static TraceRequest All { get; } = new(true, (_, _) => true);

    /// <summary>Capture the residual stream only: the embeddings output and every layer's output.</summary>
    public static TraceRequest HiddenStates { get; } = new(true, (_, s) => s == LayerStep.Output);

    /// <summary>Capture the given sub-steps of every layer (and optionally the embeddings output).</summary>
    public static TraceRequest Steps(bool embeddings, params LayerStep[] steps) =>
        new(embeddings, (_, s) => Array.IndexOf(steps, s) >= 0);

    /// <summary>Capture the named tensors (see <see cref="TraceNames"/>).</summary>
    /// <exception cref="ArgumentException">a name is not a trace name of a model with <paramref name="layers"/> layers.</exception>
    public static TraceRequest Names(int layers, IEnumerable<string> names)
    {
        var set = new HashSet<(int, LayerStep)>();
        bool embeddings = false;
        foreach (var name in names)
        {
            if (!TraceNames.TryParse(name, layers, out int layer, out var step))
                throw new ArgumentException($"'{name}' is not a trace name of a {layers}-layer model (e.g. 'embeddings.output', 'layers.0.attention.probs')", nameof(names));
            if (step is null) embeddings = true;
            else set.Add((layer, step.Value));
        }
        return new(embeddings, (l, s) => set.Contains((l, s)));
    }

    /// <summary>Whether the embeddings output is requested.</summary>
    public bool WantsEmbeddings => _embeddings;

    /// <summary>Whether sub-step <paramref name="step"/> of layer <paramref name="layer"/> is requested.</summary>
    public bool Wants(int layer, LayerStep step) => _layerFilter(layer, step);
}
