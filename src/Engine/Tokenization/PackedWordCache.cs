using System.Runtime.CompilerServices;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// <see cref="WordCache{T}"/> for words packed with their pieces (<see cref="PackedWords"/>): the same slots
/// (<see cref="WordSlots{TEntry, TWord}"/>), but each entry is the packed array alone, which holds its own word: one
/// object without references per cached word, read in one place on a hit.
/// </summary>
internal sealed class PackedWordCache
{
    struct KeyOf : IWordOf<int[]>
    {
        public static ReadOnlySpan<char> Word(int[] packed) => PackedWords.Word(packed);
    }

    readonly WordSlots<int[], KeyOf> _slots;

    /// <summary>A cache of at least <paramref name="capacity"/> words (rounded up to a power of two).</summary>
    public PackedWordCache(int capacity) => _slots = new(capacity);

    /// <summary>Number of words the cache can hold.</summary>
    public int Capacity => _slots.Capacity;

    /// <summary>The cached entry of the word, or null.</summary>
    public int[]? Find(ReadOnlySpan<char> word) => _slots.Find(word);

    /// <summary>Caches an entry (not when its word is longer than <see cref="WordCache{T}.MaxWordLength"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Add(int[] entry)
    {
        if (PackedWords.Word(entry).Length > WordCache<int[]>.MaxWordLength) return;
        _slots.Add(entry);
    }
}
