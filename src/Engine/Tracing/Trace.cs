namespace MixLens.Engine.Tracing;

/// <summary>The tensors captured for one text during a forward pass, by trace name (see <see cref="TraceNames"/>).</summary>
public sealed class Trace
{
    readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);

    /// <summary>Names in capture (forward) order.</summary>
    public IReadOnlyList<string> Names => _order;
    readonly List<string> _order = [];

    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>The captured tensor <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">the tensor was not requested, with the names that were.</exception>
    public Tensor this[string name] => _tensors.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"'{name}' was not captured; captured: {(_order.Count == 0 ? "nothing" : string.Join(", ", _order.Take(6)) + (_order.Count > 6 ? ", …" : ""))}");

    public Tensor this[int layer, LayerStep step] => this[TraceNames.Of(layer, step)];

    internal void Add(string name, Tensor tensor)
    {
        if (_tensors.TryAdd(name, tensor)) _order.Add(name);
        else _tensors[name] = tensor;
    }
}
