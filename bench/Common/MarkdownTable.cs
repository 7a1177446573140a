using System.Text;

namespace MixLens.Bench.Common;

/// <summary>A GitHub-flavoured Markdown table, columns padded so it also reads as plain text.</summary>
public sealed class MarkdownTable(params string[] headers)
{
    readonly List<string[]> _rows = [];

    /// <summary>Adds a row; cells are printed as given.</summary>
    public void Add(params object[] cells) => _rows.Add(cells.Select(c => c?.ToString() ?? "").ToArray());

    public override string ToString()
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", headers.Select((h, i) => h.PadRight(widths[i]))) + " |");
        sb.AppendLine("|" + string.Join("|", widths.Select((w, i) => i == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
        foreach (var r in _rows)
            sb.AppendLine("| " + string.Join(" | ", widths.Select((w, i) => i == 0 ? Cell(r, i).PadRight(w) : Cell(r, i).PadLeft(w))) + " |");
        return sb.ToString();
    }

    static string Cell(string[] r, int i) => i < r.Length ? r[i] : "";
}
