namespace MixLens.Engine.Conversion.Pickle;

/// <summary>A Python tuple read from a pickle: an immutable list of values.</summary>
public sealed class PickleTuple(object?[] items)
{
    public static readonly PickleTuple Empty = new([]);

    /// <summary>The items, in order.</summary>
    public IReadOnlyList<object?> Items { get; } = items;

    public int Count => Items.Count;

    public object? this[int index] => Items[index];

    public override string ToString() => $"tuple of {Count}";
}
