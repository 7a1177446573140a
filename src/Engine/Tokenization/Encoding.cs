namespace MixLens.Engine.Tokenization;

/// <summary>
/// The tokenizer's output for one text (or text pair), as HuggingFace's <c>Encoding</c>:
/// ids, token strings, token type ids (0 for the first sequence, 1 for the pair), character offsets into the
/// text each token came from (UTF-16 code units, i.e. C# string indices; [0,0] for inserted special tokens),
/// the sequence each token belongs to (null for inserted special tokens), and 1 for inserted special tokens.
/// </summary>
public sealed record Encoding(
    int[] Ids,
    string[] Tokens,
    int[] TypeIds,
    (int Start, int End)[] Offsets,
    int?[] SequenceIds,
    int[] SpecialTokensMask)
{
    public int Length => Ids.Length;
}
