using MixLens.Engine.Tokenization;

namespace MixLens.Fuzz;

/// <summary>
/// A BERT tokenizer from <c>vocab.txt</c> with the optional <c>tokenizer_config.json</c> and
/// <c>special_tokens_map.json</c>. Input parts: vocab.txt, tokenizer_config.json, special_tokens_map.json (each
/// absent when empty, vocab.txt always written), the text, the pair text. Documented outcome:
/// <see cref="TokenizerException"/> naming a file or the folder.
/// </summary>
public static class VocabTxtTarget
{
    public static FuzzTarget Target { get; } = new("vocab-txt",
        "TokenizerFactory.Load of vocab.txt + tokenizer_config.json + special_tokens_map.json, then Encode", Run);

    static void Run(byte[] data)
    {
        var parts = FuzzInput.Split(data, 5);
        string dir = FuzzScratch.Folder("vocab-txt");
        FuzzScratch.Write(dir, "vocab.txt", parts[0]);
        if (parts[1].Length > 0) FuzzScratch.Write(dir, "tokenizer_config.json", parts[1]);
        if (parts[2].Length > 0) FuzzScratch.Write(dir, "special_tokens_map.json", parts[2]);
        FuzzRule.WithinAllocationBudget(data.Length, () => TokenizerChecks.LoadAndEncode(
            () => TokenizerFactory.Load(dir), ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json", dir],
            FuzzInput.Text(parts[3]), FuzzInput.Text(parts[4])));
    }
}
