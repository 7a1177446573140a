using MixLens.Analysis.Corpus;

namespace MixLens.Fuzz;

/// <summary>
/// The <c>analyze-corpus</c> JSONL reader: the input is the corpus file. <see cref="CorpusInput.Read"/> reports a bad
/// line as a <see cref="CorpusLineError"/> and never throws for content, so no exception is documented; every line
/// must come back, numbered 1, 2, …, as an example with a non-empty text or an error with a message.
/// </summary>
public static class CorpusJsonlTarget
{
    public static FuzzTarget Target { get; } = new("corpus-jsonl",
        "CorpusInput.Read of an analyze-corpus JSONL file (one entry per line, errors per line)", Run);

    static void Run(byte[] data)
    {
        string path = FuzzScratch.Write(FuzzScratch.Folder("corpus-jsonl"), "corpus.jsonl", data);
        FuzzRule.WithinAllocationBudget(data.Length, () =>
        {
            var entries = CorpusInput.Read(path);
            for (int i = 0; i < entries.Count; i++)
            {
                if (entries[i].Line != i + 1) throw new FuzzRuleViolation($"entry {i} has line number {entries[i].Line}");
                switch (entries[i])
                {
                    case CorpusExample { Text.Length: 0 }: throw new FuzzRuleViolation($"line {i + 1}: an example with an empty text");
                    case CorpusLineError { Message.Length: 0 }: throw new FuzzRuleViolation($"line {i + 1}: an error without a message");
                }
            }
        });
    }
}
