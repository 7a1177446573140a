namespace MixLens.Engine.Tokenization;

/// <summary>
/// Per-thread char buffers for words too long for the stack (each use site has its own, so that nested uses cannot
/// share one). Kept from call to call up to 64 Ki chars; a longer word gets a buffer of its own. Used instead of
/// <see cref="System.Buffers.ArrayPool{T}.Shared"/>, whose trimming after every gen 2 collection cost the finalizer
/// thread a tenth of the tokenizers' time.
/// </summary>
internal static class LongWordBuffer
{
    [ThreadStatic] static char[]? t_bpeKey, t_unigramWord, t_unigramView;
    const int KeepLimit = 1 << 16;

    /// <summary>BpeModel's key buffer.</summary>
    public static char[] BpeKey(int size) => Get(ref t_bpeKey, size);

    /// <summary>UnigramModel's word buffer.</summary>
    public static char[] UnigramWord(int size) => Get(ref t_unigramWord, size);

    /// <summary>UnigramTokenizer's view buffer.</summary>
    public static char[] UnigramView(int size) => Get(ref t_unigramView, size);

    static char[] Get(ref char[]? slot, int size)
    {
        if (slot is { } buffer && buffer.Length >= size) return buffer;
        if (size > KeepLimit) return new char[size];
        return slot = new char[Math.Max(size, 1024)];
    }
}
