using MixLens.Analysis.Evaluation;

namespace MixLens.Fuzz;

/// <summary>
/// The <c>evaluate</c> TSV reader: the input is the data file (a <c>sentence&lt;TAB&gt;label</c> header, then one
/// labelled sentence per line), read with class-id labels and again with decimal labels. Documented outcome:
/// <see cref="FormatException"/> naming the file (and the line); every sentence read has a text and a finite label.
/// </summary>
public static class EvaluateTsvTarget
{
    const string FileName = "data.tsv";

    public static FuzzTarget Target { get; } = new("evaluate-tsv",
        "LabeledTsv.Read of an evaluate data file, with class-id and with decimal labels", Run);

    static void Run(byte[] data)
    {
        string path = FuzzScratch.Write(FuzzScratch.Folder("evaluate-tsv"), FileName, data);
        FuzzRule.WithinAllocationBudget(data.Length, () =>
        {
            foreach (bool decimalLabels in new[] { false, true })
                FuzzRule.Expect(() =>
                {
                    foreach (var s in LabeledTsv.Read(path, decimalLabels: decimalLabels))
                        if (s.Text.Length == 0 || !double.IsFinite(s.Label) || s.Line < 2)
                            throw new FuzzRuleViolation($"line {s.Line}: sentence '{s.Text}' with label {s.Label}");
                }, [FileName], typeof(FormatException));
        });
    }
}
