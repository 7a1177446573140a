using System.Globalization;
using System.Text;

namespace MixLens.Cli;

/// <summary>
/// Prints a token-vector method's scores (saliency, gradient-x-input, integrated-gradients) for a terminal: one row per
/// token, its score and a bar of |score| relative to the largest. Signed scores get a diverging bar: negative to the
/// left of the axis (░), positive to the right (█).
/// </summary>
public static class TokenScoresTable
{
    const int MaxLabel = 14;
    const int MaxBar = 40;

    /// <param name="header">lines printed first (title, description, completeness check), each wrapped to the width.</param>
    /// <param name="signed">draw a diverging bar (the method's scores have a sign).</param>
    public static void Write(TextWriter output, IEnumerable<string> header, IReadOnlyList<string> tokens, ReadOnlySpan<float> scores,
        bool signed, int width)
    {
        foreach (var text in header) MatrixTable.WriteWrapped(output, text, width);
        int n = tokens.Count;
        var labels = tokens.Select(t => Abbreviate(t, MaxLabel)).ToArray();
        int indexWidth = (n - 1).ToString(CultureInfo.InvariantCulture).Length;
        int labelWidth = Math.Max(5, labels.Max(l => l.Length));
        float largest = 0;
        foreach (float v in scores) largest = Math.Max(largest, Math.Abs(v));
        // four significant digits of the largest score, at least four decimals
        int decimals = largest == 0 ? 4 : Math.Clamp(3 - (int)Math.Floor(Math.Log10(largest)), 4, 8);
        string format = largest >= 1e4f ? "0.000E+0" : "0." + new string('0', decimals);
        var values = scores.ToArray().Select(v => v.ToString(format, CultureInfo.InvariantCulture)).ToArray();
        int valueWidth = values.Max(v => v.Length);
        int prefix = indexWidth + 1 + labelWidth + 1 + valueWidth + 2;
        int bar = Math.Clamp(width - prefix - (signed ? 1 : 0), 0, MaxBar);
        int half = signed ? bar / 2 : bar;

        MatrixTable.WriteWrapped(output, signed
            ? "bars: |score| relative to the largest; ░ left of the axis = negative, █ right = positive"
            : "bars: score relative to the largest", width);
        var line = new StringBuilder();
        for (int j = 0; j < n; j++)
        {
            line.Clear();
            line.Append(j.ToString(CultureInfo.InvariantCulture).PadLeft(indexWidth)).Append(' ');
            line.Append(labels[j].PadRight(labelWidth)).Append(' ');
            line.Append(values[j].PadLeft(valueWidth)).Append("  ");
            if (half > 0)
            {
                int length = largest == 0 ? 0 : (int)Math.Round(Math.Abs(scores[j]) / largest * half);
                if (signed)
                {
                    bool negative = scores[j] < 0;
                    line.Append(' ', half - (negative ? length : 0)).Append('░', negative ? length : 0).Append('│');
                    if (!negative) line.Append('█', length);
                }
                else
                {
                    line.Append('█', length);
                }
            }
            output.WriteLine(line.ToString().TrimEnd());
        }
    }

    static string Abbreviate(string s, int max)
    {
        var clean = new StringBuilder(s.Length);
        foreach (char c in s) clean.Append(char.IsControl(c) ? '·' : c);
        string t = clean.ToString();
        return t.Length <= max ? t : t[..(max - 1)] + "…";
    }
}
