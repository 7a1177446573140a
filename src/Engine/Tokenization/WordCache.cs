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
    readonly int _setMask;

    /// <summary>Longest word (UTF-16 units) that is cached; longer words are recomputed every time (HF: MAX_LENGTH).</summary>
    public const int MaxWordLength = 256;

    /// <summary>A cache of at least <paramref name="capacity"/> words (rounded up to a power of two).</summary>
    public WordCache(int capacity)
    {
        int sets = 1;
        while (2 * sets < capacity) sets <<= 1;
        _slots = new Entry?[2 * sets];
        _setMask = sets - 1;
    }

    /// <summary>Number of words the cache can hold.</summary>
    public int Capacity => _slots.Length;

    /// <summary>The cached value of the word, or null.</summary>
    public T? Find(ReadOnlySpan<char> word)
    {
        int set = (int)(Hash(word) & (uint)_setMask) << 1;
        var slots = _slots;
        var entry = slots[set];
        if (entry is not null && word.SequenceEqual(entry.Key)) return entry.Value;
        entry = slots[set + 1];
        if (entry is null || !word.SequenceEqual(entry.Key)) return null;
        // Met again: promoted to the protected slot.
        slots[set + 1] = slots[set];
        slots[set] = entry;
        return entry.Value;
    }

    /// <summary>Caches the value of a word (not when the word is longer than <see cref="MaxWordLength"/>).</summary>
    public void Add(ReadOnlySpan<char> word, T value)
    {
        if (word.Length > MaxWordLength) return;
        int set = (int)(Hash(word) & (uint)_setMask) << 1;
        var entry = new Entry(word.ToString(), value);
        if (_slots[set] is null) _slots[set] = entry;
        else _slots[set + 1] = entry;
    }

    /// <summary>A multiplicative hash of the UTF-16 units, four at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static uint Hash(ReadOnlySpan<char> word)
    {
        const ulong Multiplier = 0x9E3779B97F4A7C15;
        ulong h = (ulong)word.Length * Multiplier;
        var blocks = MemoryMarshal.Cast<char, ulong>(word);
        foreach (ulong block in blocks) h = (h ^ block) * Multiplier;
        for (int i = blocks.Length * 4; i < word.Length; i++) h = (h ^ word[i]) * Multiplier;
        return (uint)(h >> 32) ^ (uint)h;
    }
}
