using System.Globalization;

namespace MixLens.Analysis.Evaluation;

/// <summary>One labelled sentence of a data set; <see cref="Line"/> is its 1-based line in the file.</summary>
/// <param name="Text">the sentence.</param>
/// <param name="Label">a class id (0, 1, …) for a classifier's data; any finite number for a regression head's (e.g.
/// STS-B similarity scores).</param>
/// <param name="Line">1-based line number in the file.</param>
public sealed record LabeledSentence(string Text, double Label, int Line);

/// <summary>
/// Reads a GLUE-style TSV (SST-2 dev): a header line <c>sentence\tlabel</c>, then one <c>sentence&lt;TAB&gt;label</c>
/// per line, the label an integer class id (or, for a regression head's data, a decimal number). Blank lines (and a
/// final newline) are ignored.
/// </summary>
public static class LabeledTsv
{
    /// <summary>Reads up to <paramref name="limit"/> sentences (null: all).</summary>
    /// <param name="path">the TSV file.</param>
    /// <param name="limit">the most sentences to read (null: all).</param>
    /// <param name="decimalLabels">false: labels must be class ids (0, 1, …); true: any finite decimal number
    /// (invariant culture), as a regression head's targets are.</param>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="FormatException">a line is malformed; the message names the file and the line number.</exception>
    public static IReadOnlyList<LabeledSentence> Read(string path, int? limit = null, bool decimalLabels = false)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"data file '{path}' not found", path);
        var result = new List<LabeledSentence>();
        int lineNo = 0;
        bool header = true;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            if (limit is not null && result.Count >= limit) break;
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            var fields = line.Split('\t');
            if (header)
            {
                header = false;
                if (fields.Length == 2 && fields[0].Trim() == "sentence" && fields[1].Trim() == "label") continue;
                throw new FormatException($"{path}, line {lineNo}: expected the header 'sentence<TAB>label'");
            }
            if (fields.Length != 2)
                throw new FormatException($"{path}, line {lineNo}: expected 'sentence<TAB>label' (2 tab-separated fields), found {fields.Length}");
            string labelText = fields[1].Trim();
            double label;
            if (decimalLabels)
            {
                if (!double.TryParse(labelText, NumberStyles.Float, CultureInfo.InvariantCulture, out label) || !double.IsFinite(label))
                    throw new FormatException($"{path}, line {lineNo}: the label '{labelText}' is not a finite number");
            }
            else if (int.TryParse(labelText, NumberStyles.Integer, CultureInfo.InvariantCulture, out int classId) && classId >= 0)
                label = classId;
            else
                throw new FormatException($"{path}, line {lineNo}: the label '{labelText}' is not a class id (0, 1, …)");
            string text = fields[0].Trim();
            if (text.Length == 0) throw new FormatException($"{path}, line {lineNo}: empty sentence");
            result.Add(new LabeledSentence(text, label, lineNo));
        }
        if (header) throw new FormatException($"{path}: empty file (expected the header 'sentence<TAB>label')");
        return result;
    }
}
