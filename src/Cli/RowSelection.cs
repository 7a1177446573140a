using System.Globalization;

namespace MixLens.Cli;

/// <summary>
/// <c>--rows</c>: the output token rows to compute, as 0-based token indices and ranges separated by commas, e.g.
/// <c>0</c> ([CLS]) or <c>0,3-5</c> (rows 0, 3, 4 and 5), in ascending order without repeats.
/// </summary>
internal static class RowSelection
{
    /// <summary>Parses <paramref name="text"/> for a text of <paramref name="n"/> tokens.</summary>
    /// <exception cref="CliException">not a list of indices and ranges, a range running backwards, an index outside
    /// 0..n-1, or a row given twice.</exception>
    public static int[] Parse(string text, int n)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var rows = new SortedSet<int>();
        foreach (var part in parts)
        {
            int dash = part.IndexOf('-', 1 < part.Length ? 1 : 0);
            int first, last;
            if (dash > 0)
            {
                first = Index(part[..dash].Trim(), text);
                last = Index(part[(dash + 1)..].Trim(), text);
                if (last < first) throw new CliException($"--rows {text}: the range {part} runs backwards; write it as {last}-{first}");
            }
            else
            {
                first = last = Index(part, text);
            }
            if (last >= n)
                throw new CliException($"--rows {text}: row {last} is out of range: the text has tokens 0..{n - 1}");
            for (int i = first; i <= last; i++)
                if (!rows.Add(i)) throw new CliException($"--rows {text}: row {i} is given twice");
        }
        return rows.ToArray();
    }

    static int Index(string s, string text)
    {
        if (s.Length == 0 || !int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int i))
            throw new CliException($"--rows {text}: '{s}' is not a token index; give 0-based indices and ranges such as 0 or 0,3-5");
        return i;
    }
}
