using System.Globalization;
using System.Text;

namespace MixLens.Tests.Docs;

/// <summary>
/// Text with computed numbers in it, as a docs page prints it: literal text (which must match the page exactly) and
/// numbers (which must match the page to the precision the page prints them). Built by a renderer, compared with a
/// page block by <see cref="Matches"/>.
/// </summary>
public sealed class NumberBlock
{
    /// <summary>A piece of the block: literal text, or a number with its exact value and its printed form.</summary>
    readonly record struct Segment(string Text, double? Value);

    readonly List<Segment> _segments = [];

    /// <summary>Appends literal text.</summary>
    public NumberBlock Text(string text)
    {
        _segments.Add(new Segment(text, null));
        return this;
    }

    /// <summary>Appends literal text and a newline.</summary>
    public NumberBlock Line(string text = "") => Text(text + "\n");

    /// <summary>Appends <paramref name="value"/> printed with <paramref name="format"/> (e.g. "F4", "E2"), right-aligned in
    /// <paramref name="width"/> characters.</summary>
    public NumberBlock Number(double value, string format, int width = 0)
    {
        string printed = value.ToString(format, CultureInfo.InvariantCulture).PadLeft(width);
        _segments.Add(new Segment(printed, value));
        return this;
    }

    /// <summary>Appends numbers separated by <paramref name="separator"/>.</summary>
    public NumberBlock Numbers(IEnumerable<double> values, string format, int width = 0, string separator = " ")
    {
        bool first = true;
        foreach (var v in values)
        {
            if (!first) Text(separator);
            Number(v, format, width);
            first = false;
        }
        return this;
    }

    /// <summary>The block as printed.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var s in _segments) text.Append(s.Text);
        return text.ToString();
    }

    /// <summary>
    /// Whether <paramref name="page"/> (the block as a page holds it) says the same: every literal piece identical, and
    /// every number within half a unit of its last printed digit of the exact value (plus <paramref name="slack"/>
    /// relative to max(1, |value|), for float32 rounding that differs between SIMD paths), so that a page printed on
    /// one machine still matches on another unless a digit really changed.
    /// </summary>
    /// <param name="page">the page's block.</param>
    /// <param name="slack">allowed relative difference beyond the printed precision.</param>
    /// <param name="why">where the first difference is, when there is one.</param>
    public bool Matches(string page, double slack, out string why)
    {
        int at = 0;
        foreach (var s in _segments)
        {
            if (s.Value is not double value)
            {
                if (at + s.Text.Length > page.Length || string.CompareOrdinal(page, at, s.Text, 0, s.Text.Length) != 0)
                {
                    why = $"text differs at character {at}: page has {Excerpt(page, at)}, the code prints {Excerpt(s.Text, 0)}";
                    return false;
                }
                at += s.Text.Length;
                continue;
            }
            int start = at;
            while (at < page.Length && page[at] == ' ') at++;
            int numberStart = at;
            while (at < page.Length && (char.IsAsciiDigit(page[at]) || page[at] is '-' or '+' or '.' or 'E' or 'e' or '∞')) at++;
            string printed = page[numberStart..at];
            if (!double.TryParse(printed, NumberStyles.Float, CultureInfo.InvariantCulture, out double shown))
            {
                why = $"expected a number at character {start}, found {Excerpt(page, start)} (the code prints '{s.Text.Trim()}')";
                return false;
            }
            double allowed = HalfUnitOfLastDigit(printed) + slack * Math.Max(1, Math.Abs(value));
            if (Math.Abs(shown - value) > allowed)
            {
                why = $"number at character {start}: the page prints {printed}, the code computes {value:G9} (prints '{s.Text.Trim()}')";
                return false;
            }
        }
        if (at != page.Length)
        {
            why = $"the page has more text at character {at}: {Excerpt(page, at)}";
            return false;
        }
        why = "";
        return true;
    }

    /// <summary>Half a unit in the last printed place of a fixed-point or exponent-form number ("0.1234" → 5e-5,
    /// "1.23E-004" → 5e-7, "12" → 0.5).</summary>
    static double HalfUnitOfLastDigit(string printed)
    {
        int e = printed.IndexOfAny(['E', 'e']);
        string mantissa = e < 0 ? printed : printed[..e];
        int exponent = e < 0 ? 0 : int.Parse(printed[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int dot = mantissa.IndexOf('.');
        int decimals = dot < 0 ? 0 : mantissa.Length - dot - 1;
        return 0.5 * Math.Pow(10, exponent - decimals);
    }

    static string Excerpt(string text, int at) =>
        at >= text.Length ? "(the end)" : "'" + text.Substring(at, Math.Min(40, text.Length - at)).Replace("\n", "\\n") + "'";
}
