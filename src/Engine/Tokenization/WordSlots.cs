using System.Runtime.CompilerServices;

namespace MixLens.Engine.Tokenization;

/// <summary>The word an entry of a <see cref="WordSlots{TEntry, TWord}"/> cache holds.</summary>
internal interface IWordOf<TEntry>
{
    static abstract ReadOnlySpan<char> Word(TEntry entry);
}

/// <summary>
/// The slots of a word cache (<see cref="WordCache{T}"/>, <see cref="PackedWordCache"/>): a fixed number of entries,
/// each holding its own word (read by <typeparamref name="TWord"/>), looked up by the word's text as a span, without
/// allocating. Two-way set associative: a word hashes to a set of two slots, a protected one and a probation one. A new
/// word replaces the probation slot; a word found in the probation slot changes places with the protected one. So a
/// word met again stays however many words met once pass by (a cache that stops growing when full keeps the first words
/// it met instead). Entries are immutable and slots are written whole, so concurrent readers and writers need no lock:
/// a race can only lose an entry, which costs a recomputation.
/// </summary>
internal sealed class WordSlots<TEntry, TWord> where TEntry : class where TWord : struct, IWordOf<TEntry>
{
    readonly TEntry?[] _slots;
    // The hash of each slot's word (0: empty), checked before the entry is read: a word not in the cache, or in the
    // other slot, costs no visit to an entry. Only a filter: the key comparison decides.
    readonly uint[] _tags;
    readonly int _setMask;

    /// <summary>Slots for at least <paramref name="capacity"/> words (rounded up to a power of two).</summary>
    public WordSlots(int capacity)
    {
        int sets = 1;
        while (2 * sets < capacity) sets <<= 1;
        _slots = new TEntry?[2 * sets];
        _tags = new uint[2 * sets];
        _setMask = sets - 1;
    }

    /// <summary>Number of words the slots can hold.</summary>
    public int Capacity => _slots.Length;

    /// <summary>The entry of the word, or null.</summary>
    public TEntry? Find(ReadOnlySpan<char> word)
    {
        uint hash = Hash(word);
        int set = (int)((hash >> 1) & (uint)_setMask) << 1;
        var tags = _tags;
        var slots = _slots;
        if (tags[set] == hash && slots[set] is { } first && word.SequenceEqual(TWord.Word(first))) return first;
        if (tags[set + 1] != hash) return null;
        var entry = slots[set + 1];
        if (entry is null || !word.SequenceEqual(TWord.Word(entry))) return null;
        // Met again: promoted to the protected slot.
        (tags[set], tags[set + 1]) = (hash, tags[set]);
        slots[set + 1] = slots[set];
        slots[set] = entry;
        return entry;
    }

    /// <summary>Puts an entry in the probation slot of its word's set (the protected one while that is empty).</summary>
    public void Add(TEntry entry)
    {
        uint hash = Hash(TWord.Word(entry));
        int set = (int)((hash >> 1) & (uint)_setMask) << 1;
        int slot = _slots[set] is null ? set : set + 1;
        _slots[slot] = entry;
        _tags[slot] = hash;
    }

    /// <summary>A multiplicative hash of the UTF-16 units, four at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static uint Hash(ReadOnlySpan<char> word)
    {
        const ulong Multiplier = 0x9E3779B97F4A7C15;
        ulong h = (ulong)word.Length * Multiplier;
        var blocks = System.Runtime.InteropServices.MemoryMarshal.Cast<char, ulong>(word);
        foreach (ulong block in blocks) h = (h ^ block) * Multiplier;
        for (int i = blocks.Length * 4; i < word.Length; i++) h = (h ^ word[i]) * Multiplier;
        return ((uint)(h >> 32) ^ (uint)h) | 1; // never 0, the tag of an empty slot
    }
}
