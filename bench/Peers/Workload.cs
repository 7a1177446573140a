using MixLens.Engine.Tokenization;

namespace MixLens.Bench.Peers;

/// <summary>One benchmark input: a batch of tokenized texts (ids with [CLS] … [SEP], token types 0).</summary>
/// <param name="Key">short name for --shapes, e.g. "n128".</param>
/// <param name="Name">row label, e.g. "b1 n128".</param>
/// <param name="Texts">token ids per text.</param>
public sealed record Workload(string Key, string Name, int[][] Texts)
{
    public int Batch => Texts.Length;
    public int MaxLength => Texts.Max(t => t.Length);
    /// <summary>Real tokens (what MixLens computes on; ORT computes on Batch × MaxLength).</summary>
    public int Tokens => Texts.Sum(t => t.Length);

    /// <summary>
    /// The side-by-side's shapes, tokenized from real English (SST-2 dev sentences, concatenated where a text must be
    /// longer than one sentence, then truncated to exactly n tokens): batch 1 at n = 16, 128, 512; batch 32 at n = 128;
    /// a mixed batch of 32 texts of 8..128 tokens (lengths spread evenly, in a seeded random order).
    /// </summary>
    public static List<Workload> Standard(ITokenizer tokenizer, string sst2Path)
    {
        var sentences = File.ReadLines(sst2Path).Skip(1).Select(l => l.Split('\t')[0].Trim()).Where(s => s.Length > 0).ToArray();
        int[] Text(int index, int n) => Tokenize(tokenizer, sentences, index, n);

        var mixedLengths = Enumerable.Range(0, 32).Select(i => 8 + 120 * i / 31).ToArray();
        new Random(1).Shuffle(mixedLengths);
        return
        [
            new("n16", "b1 n16", [Text(0, 16)]),
            new("n128", "b1 n128", [Text(1, 128)]),
            new("n512", "b1 n512", [Text(2, 512)]),
            new("b32", "b32 n128", Enumerable.Range(0, 32).Select(i => Text(10 + i, 128)).ToArray()),
            new("mixed", "mixed b32 n8–128", mixedLengths.Select((n, i) => Text(50 + i, n)).ToArray()),
        ];
    }

    /// <summary>Exactly n token ids: sentences from a per-text starting point, appended until the text is long enough.</summary>
    static int[] Tokenize(ITokenizer tokenizer, string[] sentences, int index, int n)
    {
        int start = index * 37 % sentences.Length;
        var text = new System.Text.StringBuilder();
        for (int s = start; ; s = (s + 1) % sentences.Length)
        {
            text.Append(sentences[s]).Append(' ');
            if (text.Length < 3 * n) continue;
            var ids = tokenizer.Encode(text.ToString(), maxLength: n).Ids;
            if (ids.Length == n) return ids;
        }
    }
}
