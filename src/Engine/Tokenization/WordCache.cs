namespace MixLens.Engine.Tokenization;

/// <summary>
/// A fixed-size cache of a model's output per word (HF keeps one per BPE and Unigram model, 10 000 words), looked up
/// by the word's text as a span, without allocating: an entry holding the word as a string and its value, in
/// <see cref="WordSlots{TEntry, TWord}"/> (two-way set associative, a word met again promoted; no lock needed).
/// </summary>
internal sealed class WordCache<T> where T : class
{
    sealed class Entry(string key, T value)
    {
        public readonly string Key = key;
        public readonly T Value = value;
    }

    struct KeyOf : IWordOf<Entry>
    {
        public static ReadOnlySpan<char> Word(Entry entry) => entry.Key;
    }

    readonly WordSlots<Entry, KeyOf> _slots;

    /// <summary>Longest word (UTF-16 units) that is cached; longer words are recomputed every time (HF: MAX_LENGTH).</summary>
    public const int MaxWordLength = 256;

    /// <summary>A cache of at least <paramref name="capacity"/> words (rounded up to a power of two).</summary>
    public WordCache(int capacity) => _slots = new(capacity);

    /// <summary>Number of words the cache can hold.</summary>
    public int Capacity => _slots.Capacity;

    /// <summary>The cached value of the word, or null.</summary>
    public T? Find(ReadOnlySpan<char> word) => _slots.Find(word)?.Value;

    /// <summary>Caches the value of a word (not when the word is longer than <see cref="MaxWordLength"/>).</summary>
    public void Add(ReadOnlySpan<char> word, T value)
    {
        if (word.Length > MaxWordLength) return;
        _slots.Add(new Entry(word.ToString(), value));
    }
}
