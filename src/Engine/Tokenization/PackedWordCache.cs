using System.Runtime.CompilerServices;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// <see cref="WordCache{T}"/> for words packed with their pieces (<see cref="PackedWords"/>): the same two-way set
/// associative cache, a word hashing to a set of a protected and a probation slot, a word met again in the probation
/// slot promoted, but each entry is the packed array alone, which holds its own key: one object per cached word,
/// read in one place on a hit. Entries are immutable and slots are written whole, so concurrent readers and writers
/// need no lock: a race can only lose an entry, which costs a recomputation.
/// </summary>
internal sealed class PackedWordCache
{
    readonly int[]?[] _slots;
    // The hash of each slot's word (0: empty), checked before the entry is read: a word not in the cache, or in the
    // other slot, costs no visit to an entry. Only a filter: the key comparison decides.
    readonly uint[] _tags;
    readonly int _setMask;

    /// <summary>A cache of at least <paramref name="capacity"/> words (rounded up to a power of two).</summary>
    public PackedWordCache(int capacity)
    {
        int sets = 1;
        while (2 * sets < capacity) sets <<= 1;
        _slots = new int[]?[2 * sets];
        _tags = new uint[2 * sets];
        _setMask = sets - 1;
    }

    /// <summary>Number of words the cache can hold.</summary>
    public int Capacity => _slots.Length;

    /// <summary>The cached entry of the word, or null.</summary>
    public int[]? Find(ReadOnlySpan<char> word)
    {
        uint hash = WordCache<int[]>.Hash(word);
        int set = (int)((hash >> 1) & (uint)_setMask) << 1;
        var tags = _tags;
        var slots = _slots;
        if (tags[set] == hash && slots[set] is { } first && word.SequenceEqual(PackedWords.Word(first))) return first;
        if (tags[set + 1] != hash) return null;
        var entry = slots[set + 1];
        if (entry is null || !word.SequenceEqual(PackedWords.Word(entry))) return null;
        // Met again: promoted to the protected slot.
        (tags[set], tags[set + 1]) = (hash, tags[set]);
        slots[set + 1] = slots[set];
        slots[set] = entry;
        return entry;
    }

    /// <summary>Caches an entry (not when its word is longer than <see cref="WordCache{T}.MaxWordLength"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Add(int[] entry)
    {
        var word = PackedWords.Word(entry);
        if (word.Length > WordCache<int[]>.MaxWordLength) return;
        uint hash = WordCache<int[]>.Hash(word);
        int set = (int)((hash >> 1) & (uint)_setMask) << 1;
        int slot = _slots[set] is null ? set : set + 1;
        _slots[slot] = entry;
        _tags[slot] = hash;
    }
}
