using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// A word and its pieces packed into one int array without references, the form in which <see cref="UnigramModel"/>
/// caches a word's segmentation (<see cref="PackedWordCache"/>): the garbage collector copies every cached word at
/// least once on its way to the old generation, and one small object that it need not scan costs it a fraction of
/// a key string, an entry and a piece array holding strings. Layout:
/// <code>
/// [0]                          word length (UTF-16 units)
/// [1]                          piece count | HasPairs (the word holds a surrogate pair)
/// [2, 2 + (length + 1) / 2)    the word's UTF-16 units, two per int
/// then per piece               id, start, end (code point indices into the word, end exclusive)
/// </code>
/// A piece's string is the model's piece string of its id, except for the unknown piece, whose string is the text
/// it covers (<see cref="UnigramModel.PieceString"/>).
/// </summary>
internal static class PackedWords
{
    const int HasPairsFlag = 1 << 30;

    /// <summary>A packed word with room for <paramref name="count"/> pieces (set by <see cref="SetPiece"/>).</summary>
    public static int[] Create(ReadOnlySpan<char> word, int count, bool hasPairs)
    {
        int first = PiecesAt(word.Length);
        var packed = new int[first + 3 * count];
        packed[0] = word.Length;
        packed[1] = count | (hasPairs ? HasPairsFlag : 0);
        word.CopyTo(MemoryMarshal.Cast<int, char>(packed.AsSpan(2, first - 2)));
        return packed;
    }

    /// <summary>Sets piece k.</summary>
    public static void SetPiece(int[] packed, int k, int id, int start, int end)
    {
        int at = First(packed) + 3 * k;
        packed[at] = id;
        packed[at + 1] = start;
        packed[at + 2] = end;
    }

    /// <summary>The packed word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<char> Word(int[] packed) =>
        MemoryMarshal.Cast<int, char>(packed.AsSpan(2, (packed[0] + 1) >> 1))[..packed[0]];

    /// <summary>Number of pieces.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Count(int[] packed) => packed[1] & ~HasPairsFlag;

    /// <summary>Whether the word holds a surrogate pair (code point and UTF-16 indices differ).</summary>
    public static bool HasPairs(int[] packed) => (packed[1] & HasPairsFlag) != 0;

    /// <summary>Index of the first piece's id.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int First(int[] packed) => PiecesAt(packed[0]);

    static int PiecesAt(int length) => 2 + ((length + 1) >> 1);
}
