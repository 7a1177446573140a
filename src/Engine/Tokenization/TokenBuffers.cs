namespace MixLens.Engine.Tokenization;

/// <summary>
/// Per-thread token lists that <c>Encode</c> fills and empties on each call (the first and the second sequence), so
/// that encoding a text allocates only its <see cref="Encoding"/>: the lists keep their capacity from call to call.
/// </summary>
internal static class TokenBuffers
{
    [ThreadStatic] static List<Token>? t_first, t_second;
    // A list grown past this many tokens by one long text is dropped after use rather than kept.
    const int KeepCapacity = 1 << 16;

    /// <summary>The thread's empty list for the first sequence.</summary>
    public static List<Token> First() => Take(ref t_first);

    /// <summary>The thread's empty list for the second sequence.</summary>
    public static List<Token> Second() => Take(ref t_second);

    static List<Token> Take(ref List<Token>? slot)
    {
        var list = slot ??= new List<Token>(256);
        if (list.Capacity > KeepCapacity) slot = list = new List<Token>(256);
        list.Clear();
        return list;
    }
}
