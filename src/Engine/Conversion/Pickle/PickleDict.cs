namespace MixLens.Engine.Conversion.Pickle;

/// <summary>
/// A Python <c>dict</c> or <c>collections.OrderedDict</c> read from a pickle. Keeps insertion order (a state dict's
/// tensor order); setting an existing key replaces its value in place, as Python does.
/// </summary>
public sealed class PickleDict
{
    readonly List<KeyValuePair<object, object?>> entries = [];
    readonly Dictionary<object, int> index = [];

    /// <summary>The entries in insertion order.</summary>
    public IReadOnlyList<KeyValuePair<object, object?>> Entries => entries;

    public int Count => entries.Count;

    /// <summary>Sets <paramref name="key"/> (a string, integer or other hashable pickle value) to <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentNullException">key is null (Python's None is not used as a state-dict key).</exception>
    public void Set(object key, object? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (index.TryGetValue(key, out int i)) entries[i] = new(key, value);
        else
        {
            index[key] = entries.Count;
            entries.Add(new(key, value));
        }
    }

    public override string ToString() => $"dict of {Count}";
}
