using System.Buffers.Binary;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// SentencePiece's precompiled normalisation map (the <c>precompiled_charsmap</c> of a tokenizer.json
/// <c>Precompiled</c> normalizer, base64): a little-endian u32 byte size of the trie, the trie itself as a darts-clone
/// double array of u32 units, then a blob of NUL-terminated UTF-8 replacement strings. Each trie key is the UTF-8 of
/// a source string; its value is the byte offset of the replacement in the blob.
/// <see cref="Lookup"/> returns the replacement of the <b>shortest</b> key that is a prefix of the input, as HF's
/// <c>Precompiled::transform</c> (which takes the first result of <c>common_prefix_search</c>).
/// Source: spm_precompiled crate (<c>Precompiled::from</c>, <c>transform</c>, <c>DoubleArray::common_prefix_search</c>);
/// sentencepiece src/normalizer.cc; darts-clone (<c>has_leaf</c>, <c>value</c>, <c>label</c>, <c>offset</c>).
/// </summary>
public sealed class PrecompiledCharsmap
{
    readonly uint[] _array;
    readonly byte[] _normalized;

    /// <summary>Decodes the binary map (already base64-decoded).</summary>
    /// <exception cref="TokenizerException">The bytes are too short, the trie size is not a multiple of 4 or exceeds
    /// the data, or the trie is empty.</exception>
    public PrecompiledCharsmap(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4) throw new TokenizerException($"precompiled_charsmap has {data.Length} bytes, fewer than its 4-byte header");
        uint trieSize = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (trieSize % 4 != 0 || trieSize > data.Length - 4 || trieSize == 0)
            throw new TokenizerException($"precompiled_charsmap declares a trie of {trieSize} bytes, which does not fit its {data.Length - 4} bytes of data in 4-byte units");
        _array = new uint[trieSize / 4];
        for (int i = 0; i < _array.Length; i++) _array[i] = BinaryPrimitives.ReadUInt32LittleEndian(data[(4 + 4 * i)..]);
        _normalized = data[(4 + (int)trieSize)..].ToArray();
    }

    /// <summary>Decodes the base64 form stored in tokenizer.json.</summary>
    /// <exception cref="TokenizerException">The text is not base64, or the bytes are not a valid map.</exception>
    public static PrecompiledCharsmap FromBase64(string base64)
    {
        byte[] data;
        try
        {
            data = Convert.FromBase64String(base64);
        }
        catch (FormatException e)
        {
            throw new TokenizerException($"precompiled_charsmap is not valid base64: {e.Message}", e);
        }
        return new PrecompiledCharsmap(data);
    }

    /// <summary>
    /// The replacement for the shortest key that is a prefix of <paramref name="utf8"/> (the UTF-8 of a grapheme or a
    /// char), or null when no key is. An empty string means "delete".
    /// </summary>
    public string? Lookup(ReadOnlySpan<byte> utf8)
    {
        int offset = LookupOffset(utf8);
        return offset < 0 ? null : Replacement(offset);
    }

    /// <summary>
    /// Where the replacement of <see cref="Lookup"/> starts in the blob of replacements (equal offsets, equal
    /// replacements), or -1 when no key is a prefix of <paramref name="utf8"/>.
    /// </summary>
    public int LookupOffset(ReadOnlySpan<byte> utf8)
    {
        long nodePos = 0;
        uint unit = _array[0];
        nodePos ^= Offset(unit);
        foreach (byte c in utf8)
        {
            if (c == 0) break;
            nodePos ^= c;
            if ((ulong)nodePos >= (ulong)_array.Length) return -1;
            unit = _array[nodePos];
            if (Label(unit) != c) return -1;
            nodePos ^= Offset(unit);
            if (HasLeaf(unit))
            {
                if ((ulong)nodePos >= (ulong)_array.Length) return -1;
                uint value = Value(_array[nodePos]);
                return value <= (uint)_normalized.Length ? (int)value : -1;
            }
        }
        return -1;
    }

    /// <summary>
    /// Whether a key can be a prefix of some text starting with <paramref name="utf8"/>: false when the trie walk
    /// over these bytes fails before their end (or meets a NUL, where <see cref="LookupOffset"/> stops), so that
    /// <see cref="Lookup"/> finds nothing for any such text.
    /// </summary>
    public bool MayMatchAfter(ReadOnlySpan<byte> utf8)
    {
        long nodePos = 0;
        uint unit = _array[0];
        nodePos ^= Offset(unit);
        foreach (byte c in utf8)
        {
            if (c == 0) return false;
            nodePos ^= c;
            if ((ulong)nodePos >= (ulong)_array.Length) return false;
            unit = _array[nodePos];
            if (Label(unit) != c) return false;
            nodePos ^= Offset(unit);
            if (HasLeaf(unit)) return true;
        }
        return true;
    }

    /// <summary>Size of the blob of replacements (offsets are below or at it).</summary>
    public int ReplacementsLength => _normalized.Length;

    /// <summary>The replacement that starts at <paramref name="index"/> of the blob (up to its NUL).</summary>
    public string? Replacement(int index)
    {
        if ((uint)index > (uint)_normalized.Length) return null;
        int end = Array.IndexOf(_normalized, (byte)0, index);
        if (end < 0) end = _normalized.Length;
        return System.Text.Encoding.UTF8.GetString(_normalized, index, end - index);
    }

    static bool HasLeaf(uint unit) => ((unit >> 8) & 1) == 1;
    static uint Value(uint unit) => unit & ((1u << 31) - 1);
    static uint Label(uint unit) => unit & ((1u << 31) | 0xFF);
    static long Offset(uint unit) => (long)(unit >> 10) << (int)((unit & (1u << 9)) >> 6);
}
