using System.Globalization;
using System.Text;
using MixLens.Engine;

namespace MixLens.Cli;

/// <summary>
/// Prints one layer's token × token matrix (row i = output token, column j = input token) for a terminal:
/// the full grid when it fits the width, otherwise each token's strongest inputs in descending order.
/// </summary>
public static class MatrixTable
{
    const int CellWidth = 6;      // " 0.42 "
    const int MaxLabel = 14;

    public static void Write(TextWriter output, string title, IReadOnlyList<string> tokens, Tensor scores, int layer, int width)
    {
        int n = tokens.Count;
        var matrix = scores.Data.AsSpan(layer * n * n, n * n);
        var labels = tokens.Select(t => Abbreviate(t, MaxLabel)).ToArray();
        int indexWidth = (n - 1).ToString(CultureInfo.InvariantCulture).Length;
        int labelWidth = Math.Max(5, labels.Max(l => l.Length));
        int prefix = indexWidth + 1 + labelWidth + 1;

        WriteWrapped(output, title, width);
        if (prefix + n * CellWidth <= width)
            WriteGrid(output, labels, matrix, indexWidth, labelWidth, width);
        else
            WriteTopInputs(output, labels, matrix, indexWidth, labelWidth, width);
    }

    static void WriteGrid(TextWriter output, string[] labels, ReadOnlySpan<float> matrix, int indexWidth, int labelWidth, int width)
    {
        int n = labels.Length;
        WriteWrapped(output, "rows: output token i; columns: input token j; each cell: how much i draws on j", width);
        var line = new StringBuilder();
        line.Append(' ', indexWidth + 1 + labelWidth + 1);
        foreach (var label in labels) line.Append(Abbreviate(label, CellWidth - 1).PadLeft(CellWidth));
        output.WriteLine(line.ToString().TrimEnd());
        for (int i = 0; i < n; i++)
        {
            line.Clear();
            line.Append(i.ToString(CultureInfo.InvariantCulture).PadLeft(indexWidth)).Append(' ');
            line.Append(labels[i].PadRight(labelWidth)).Append(' ');
            for (int j = 0; j < n; j++) line.Append(FormatCell(matrix[i * n + j]).PadLeft(CellWidth));
            output.WriteLine(line.ToString().TrimEnd());
        }
    }

    static void WriteTopInputs(TextWriter output, string[] labels, ReadOnlySpan<float> matrix, int indexWidth, int labelWidth, int width)
    {
        int n = labels.Length;
        WriteWrapped(output, $"{n} tokens do not fit in {width} columns: each output token i lists its strongest input tokens j (token#j weight).", width);
        WriteWrapped(output, "Use --format json for the full matrix, or --width for a wider grid.", width);
        var line = new StringBuilder();
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            line.Clear();
            line.Append(i.ToString(CultureInfo.InvariantCulture).PadLeft(indexWidth)).Append(' ');
            line.Append(labels[i].PadRight(labelWidth)).Append(" <-");
            var row = matrix.Slice(i * n, n);
            for (int j = 0; j < n; j++) order[j] = j;
            var rowCopy = row.ToArray();
            Array.Sort(order, (a, b) => rowCopy[b].CompareTo(rowCopy[a]) is var c && c != 0 ? c : a.CompareTo(b));
            foreach (int j in order)
            {
                string entry = $" {Abbreviate(labels[j], 10)}#{j} {FormatCell(row[j])}";
                if (line.Length + entry.Length > width) break;
                line.Append(entry);
            }
            output.WriteLine(line.ToString());
        }
    }

    /// <summary>Writes <paramref name="text"/> broken at spaces into lines of at most <paramref name="width"/> characters
    /// (a single word longer than the width gets a line of its own).</summary>
    internal static void WriteWrapped(TextWriter output, string text, int width)
    {
        var line = new StringBuilder();
        foreach (var word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                output.WriteLine(line.ToString());
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        output.WriteLine(line.ToString());
    }

    /// <summary>Two decimals for values in [0, 1) ("0.42", ".00" shown as "0"), a compact form otherwise.</summary>
    static string FormatCell(float v)
    {
        if (float.IsNaN(v)) return "nan";
        if (v == 0) return "0";
        if (v > -1 && v < 10) return v.ToString("0.00", CultureInfo.InvariantCulture);
        return v.ToString("0.#E0", CultureInfo.InvariantCulture);
    }

    static string Abbreviate(string s, int max)
    {
        var clean = new StringBuilder(s.Length);
        foreach (char c in s) clean.Append(char.IsControl(c) ? '·' : c);
        string t = clean.ToString();
        return t.Length <= max ? t : t[..(max - 1)] + "…";
    }
}
