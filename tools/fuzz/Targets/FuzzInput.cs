namespace MixLens.Fuzz;

/// <summary>
/// Splits one fuzzer input into the parts a multi-file target needs (a vocabulary, a config, a text to encode, …):
/// the parts are separated by the line <see cref="Separator"/>. Missing parts are empty; the last part keeps any
/// further separators.
/// </summary>
public static class FuzzInput
{
    /// <summary>The part separator, <c>\n=====\n</c> (also listed in the fuzzing dictionary, tools/fuzz/dict).</summary>
    public static ReadOnlySpan<byte> Separator => "\n=====\n"u8;

    /// <summary>The first <paramref name="count"/> parts of <paramref name="data"/>.</summary>
    public static byte[][] Split(ReadOnlySpan<byte> data, int count)
    {
        var parts = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            int at = i == count - 1 ? -1 : data.IndexOf(Separator);
            if (at < 0)
            {
                parts[i] = data.ToArray();
                for (int j = i + 1; j < count; j++) parts[j] = [];
                break;
            }
            parts[i] = data[..at].ToArray();
            data = data[(at + Separator.Length)..];
        }
        return parts;
    }

    /// <summary>Joins parts with <see cref="Separator"/> (the inverse of <see cref="Split"/>; used to build seeds).</summary>
    public static byte[] Join(params byte[][] parts)
    {
        var result = new List<byte>();
        for (int i = 0; i < parts.Length; i++)
        {
            if (i > 0) result.AddRange(Separator.ToArray());
            result.AddRange(parts[i]);
        }
        return result.ToArray();
    }

    /// <summary>
    /// Decodes text to encode. A part that starts with the byte 0xFF is the UTF-16LE of the rest, unpaired surrogates
    /// and all (a .NET string may hold anything); any other part is UTF-8 with invalid bytes replaced (U+FFFD).
    /// </summary>
    public static string Text(byte[] bytes) =>
        bytes is [0xFF, .. var utf16]
            ? new string(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(utf16.AsSpan(0, utf16.Length & ~1)))
            : System.Text.Encoding.UTF8.GetString(bytes);
}
