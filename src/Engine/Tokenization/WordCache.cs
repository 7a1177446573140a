using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// A fixed-size cache of a model's output per word (HF keeps one per BPE and Unigram model, 10 000 words), looked up
/// by the word's text as a span, without allocating. Two-way set associative: a word hashes to a set of two slots,
/// a protected one and a probation one. A new word replaces the probation slot; a word found in the probation slot
/// changes places with the protected one. So a word met again stays however many words met once pass by (a cache
/// that stops growing when full keeps the first words it met instead). Entries are immutable and slots are written
/// whole, so concurrent readers and writers need no lock: a race can only lose an entry, which costs a
/// recomputation.
/// </summary>
internal sealed class WordCache<T> where T : class
{
    sealed class Entry(string key, T value)
    {
        public readonly string Key = key;
        public readonly T Value = value;
    }

    readonly Entry?[] _slots;
    // The hash of each slot's word (0: empty), checked before the entry is read: a word not in the cache, or in the
    // other slot, costs no visit to an entry. Only a filter: the key comparison decides.
    readonly uint[] _tags;
    readonly int _setMask;

    /// <summary>Longest word (UTF-16 units) that is cached; longer words are recomputed every time (HF: MAX_LENGTH).</summary>
    public const int MaxWordLength = 256;

    /// <summary>A cache of at least <paramref name="capacity"/> words (rounded up to a power of two).</summary>
    public WordCache(int capacity)
    {
        int sets = 1;
        while (2 * sets < capacity) sets <<= 1;
        _slots = new Entry?[2 * sets];
        _tags = new uint[2 * sets];
        _setMask = sets - 1;
    }

    /// <summary>Number of words the cache can hold.</summary>
    public int Capacity => _slots.Length;

    /// <summary>The cached value of the word, or null.</summary>
    public T? Find(ReadOnlySpan<char> word)
    {
        uint hash = Hash(word);
        int set = (int)((hash >> 1) & (uint)_setMask) << 1;
        var tags = _tags;
        if (tags[set] == hash)
        {
            var first = _slots[set];
            if (first is not null && word.SequenceEqual(first.Key)) return first.Value;
        }
        if (tags[set + 1] != hash) return null;
        var slots = _slots;
        var entry = slots[set + 1];
        if (entry is null || !word.SequenceEqual(entry.Key)) return null;
        // Met again: promoted to the protected slot.
        (tags[set], tags[set + 1]) = (hash, tags[set]);
        slots[set + 1] = slots[set];
        slots[set] = entry;
        return entry.Value;
    }

    /// <summary>Caches the value of a word (not when the word is longer than <see cref="MaxWordLength"/>).</summary>
    public void Add(ReadOnlySpan<char> word, T value)
    {
        if (word.Length > MaxWordLength) return;
        uint hash = Hash(word);
        int set = (int)((hash >> 1) & (uint)_setMask) << 1;
        var entry = new Entry(word.ToString(), value);
        int slot = _slots[set] is null ? set : set + 1;
        _slots[slot] = entry;
        _tags[slot] = hash;
    }

    /// <summary>A multiplicative hash of the UTF-16 units, four at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Hash(ReadOnlySpan<char> word)
    {
        const ulong Multiplier = 0x9E3779B97F4A7C15;
        ulong h = (ulong)word.Length * Multiplier;
        var blocks = MemoryMarshal.Cast<char, ulong>(word);
        foreach (ulong block in blocks) h = (h ^ block) * Multiplier;
        for (int i = blocks.Length * 4; i < word.Length; i++) h = (h ^ word[i]) * Multiplier;
        return ((uint)(h >> 32) ^ (uint)h) | 1; // never 0, the tag of an empty slot
    }
}
