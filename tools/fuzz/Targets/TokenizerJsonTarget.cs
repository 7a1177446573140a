using MixLens.Engine.Tokenization;

namespace MixLens.Fuzz;

/// <summary>
/// <c>tokenizer.json</c> (WordPiece, BPE or Unigram, picked by its model.type as <see cref="TokenizerFactory"/> does)
/// with an optional <c>tokenizer_config.json</c> beside it. Input parts (<see cref="FuzzInput"/>): tokenizer.json,
/// tokenizer_config.json (absent when empty), the text, the pair text. Documented outcome:
/// <see cref="TokenizerException"/> naming a file or the folder; any text must then encode.
/// </summary>
public static class TokenizerJsonTarget
{
    public static FuzzTarget Target { get; } = new("tokenizer-json",
        "TokenizerFactory.Load of tokenizer.json (+ tokenizer_config.json), then Encode of arbitrary text and pairs", Run);

    static void Run(byte[] data)
    {
        var parts = FuzzInput.Split(data, 4);
        string dir = FuzzScratch.Folder("tokenizer-json");
        FuzzScratch.Write(dir, "tokenizer.json", parts[0]);
        if (parts[1].Length > 0) FuzzScratch.Write(dir, "tokenizer_config.json", parts[1]);
        FuzzRule.WithinAllocationBudget(data.Length, () => TokenizerChecks.LoadAndEncode(
            () => TokenizerFactory.Load(dir), ["tokenizer.json", "tokenizer_config.json", dir],
            FuzzInput.Text(parts[2]), FuzzInput.Text(parts[3])));
    }
}
