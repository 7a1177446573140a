using MixLens.Engine.Model;

namespace MixLens.Engine;

/// <summary>
/// Bounds on the sizes that input files and texts control and that no format bounds by itself: the length of a text
/// before tokenization, the nesting of JSON files, the size of config.json, and the vocabulary and merge counts of a
/// tokenizer. Each is far above what real inputs reach (the largest public vocabularies have about 256,000 entries,
/// config.json files a few KiB) and far below what exhausts memory or time; going over one is an error in one line
/// naming the file or text and the limit.
/// </summary>
public static class InputLimits
{
    /// <summary>Characters (UTF-16 code units) of one text, or of a text and its pair together: 4 Mi, about a million
    /// words, which tokenizes in about a second; the model then reads at most max_position_embeddings tokens.</summary>
    public const int MaxTextChars = 4 << 20;

    /// <summary>Nesting depth of the JSON files read (config.json, tokenizer.json, tokenizer_config.json, a corpus
    /// line): real files nest fewer than 10 levels.</summary>
    public const int MaxJsonDepth = 64;

    /// <summary>Bytes of config.json: 16 MiB (real ones are a few KiB; the file is read whole).</summary>
    public const long MaxConfigBytes = 16L << 20;

    /// <summary>Entries of a tokenizer's vocabulary: 4 Mi (the largest public ones have about 256,000).</summary>
    public const int MaxVocabularySize = 4 << 20;

    /// <summary>Merge rules of a BPE tokenizer: 4 Mi (roberta-base has 50,000).</summary>
    public const int MaxMerges = 4 << 20;

    /// <summary>Refuses a text (and pair) longer than <see cref="MaxTextChars"/>.</summary>
    /// <exception cref="EncoderInputException">the text is too long.</exception>
    public static void CheckText(string text, string? pair)
    {
        long length = (long)text.Length + (pair?.Length ?? 0);
        if (length > MaxTextChars)
            throw new EncoderInputException(
                $"the input is {length:N0} characters long, over the limit of {MaxTextChars:N0} characters per text (and pair) before tokenization; split it into shorter texts");
    }
}
