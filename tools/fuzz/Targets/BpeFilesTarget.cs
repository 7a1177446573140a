using MixLens.Engine.Tokenization;

namespace MixLens.Fuzz;

/// <summary>
/// A byte-level BPE tokenizer from <c>vocab.json</c> + <c>merges.txt</c> with the optional
/// <c>tokenizer_config.json</c>. Input parts: vocab.json, merges.txt (both always written), tokenizer_config.json
/// (absent when empty), the text, the pair text. Documented outcome: <see cref="TokenizerException"/> naming a file
/// or the folder.
/// </summary>
public static class BpeFilesTarget
{
    public static FuzzTarget Target { get; } = new("bpe-files",
        "TokenizerFactory.Load of vocab.json + merges.txt + tokenizer_config.json, then Encode", Run);

    static void Run(byte[] data)
    {
        var parts = FuzzInput.Split(data, 5);
        string dir = FuzzScratch.Folder("bpe-files");
        FuzzScratch.Write(dir, "vocab.json", parts[0]);
        FuzzScratch.Write(dir, "merges.txt", parts[1]);
        if (parts[2].Length > 0) FuzzScratch.Write(dir, "tokenizer_config.json", parts[2]);
        FuzzRule.WithinAllocationBudget(data.Length, () => TokenizerChecks.LoadAndEncode(
            () => TokenizerFactory.Load(dir), ["vocab.json", "merges.txt", "tokenizer_config.json", dir],
            FuzzInput.Text(parts[3]), FuzzInput.Text(parts[4])));
    }
}
