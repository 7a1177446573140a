namespace MixLens.Engine.Conversion.Pickle;

/// <summary>
/// What a <see cref="PickleReader"/> asks of its owner whenever a pickle would, in Python, import or call something.
/// The reader itself only builds plain values (strings, numbers, tuples, lists, dicts); an implementation decides which
/// globals exist at all (an allow-list) and builds inert C# descriptions for the calls it allows. It must throw
/// (never return a placeholder) for anything it does not know.
/// </summary>
public interface IPickleResolver
{
    /// <summary>
    /// Resolves a GLOBAL / STACK_GLOBAL (already renamed Python 2 → 3 where the protocol calls for it) to an opaque
    /// token that later reaches <see cref="Call"/> or appears as an argument. Throws
    /// <see cref="UnsafeCheckpointException"/> for any global not on the allow-list.
    /// </summary>
    object ResolveGlobal(string module, string name);

    /// <summary>REDUCE (<c>callable(*args)</c>) or NEWOBJ (<c>cls.__new__(cls, *args)</c>) on a resolved global.</summary>
    object? Call(object? callable, PickleTuple args, bool isNewObj);

    /// <summary>BUILD: applies <paramref name="state"/> to <paramref name="target"/> (e.g. a state dict's <c>_metadata</c>).</summary>
    void Build(object? target, object? state);

    /// <summary>BINPERSID: resolves a persistent id (PyTorch: a storage reference tuple).</summary>
    object PersistentLoad(object? persistentId);
}
