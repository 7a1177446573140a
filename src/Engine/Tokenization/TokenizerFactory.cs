using System.Text.Json;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// Loads the tokenizer of a HuggingFace model directory, picking the implementation from its files:
/// <list type="bullet">
/// <item><c>tokenizer.json</c> with a WordPiece model, or <c>vocab.txt</c> (BERT, DistilBERT, ELECTRA, MiniLM, ...):
/// <see cref="WordPieceTokenizer"/>;</item>
/// <item><c>tokenizer.json</c> with a BPE model, or <c>vocab.json</c> + <c>merges.txt</c> (byte-level BPE: GPT-2,
/// RoBERTa, BART, ...): <see cref="BpeTokenizer"/>;</item>
/// <item><c>tokenizer.json</c> with a Unigram model (SentencePiece: T5, XLM-R, ALBERT, ...): <see cref="UnigramTokenizer"/>;</item>
/// <item>anything else (WordLevel, a SentencePiece <c>.model</c> file without tokenizer.json) is refused with a
/// <see cref="TokenizerException"/> saying so.</item>
/// </list>
/// Source: transformers AutoTokenizer (files it looks for); tokenizers <c>Tokenizer::from_file</c>.
/// </summary>
public static class TokenizerFactory
{
    /// <summary>Loads the tokenizer in <paramref name="dir"/>.</summary>
    /// <exception cref="TokenizerException">The directory does not exist, holds no tokenizer files, holds an
    /// unsupported kind of tokenizer, or a file is malformed; the message names the file or directory.</exception>
    public static ITokenizer Load(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (!Directory.Exists(dir)) throw new TokenizerException($"tokenizer directory '{dir}' does not exist");
        string json = Path.Combine(dir, "tokenizer.json");
        if (File.Exists(json))
        {
            string modelType;
            using (var document = WordPieceTokenizerLoader.ParseJsonFile(json))
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
                    throw new TokenizerException($"'{json}' is malformed: it has no \"model\" object");
                modelType = WordPieceTokenizerLoader.ModelType(model);
            }
            return modelType switch
            {
                "WordPiece" => WordPieceTokenizerLoader.FromTokenizerJson(json),
                "BPE" => BpeTokenizerLoader.FromTokenizerJson(json),
                "Unigram" => UnigramTokenizerLoader.FromTokenizerJson(json),
                _ => throw new TokenizerException(WordPieceTokenizerLoader.UnsupportedModel(modelType, $"'{json}' has model.type \"{modelType}\"")),
            };
        }
        if (File.Exists(Path.Combine(dir, "vocab.txt"))) return WordPieceTokenizerLoader.FromVocabFiles(dir);
        if (File.Exists(Path.Combine(dir, BpeTokenizerLoader.VocabJson)) && File.Exists(Path.Combine(dir, BpeTokenizerLoader.MergesTxt)))
            return BpeTokenizerLoader.FromVocabFiles(dir);
        throw new TokenizerException(DescribeUnsupported(dir));
    }

    /// <summary>Why a directory without tokenizer.json or vocab.txt cannot be loaded.</summary>
    internal static string DescribeUnsupported(string dir)
    {
        bool Has(string file) => File.Exists(Path.Combine(dir, file));
        if (Has("vocab.json") != Has("merges.txt"))
            return $"incomplete BPE tokenizer in '{dir}': it has {(Has("vocab.json") ? "vocab.json but no merges.txt" : "merges.txt but no vocab.json")}; a byte-level BPE tokenizer needs both (or a tokenizer.json)";
        if (Has("spiece.model") || Has("sentencepiece.bpe.model") || Has("tokenizer.model"))
            return $"'{dir}' has a SentencePiece model file but no tokenizer.json; SentencePiece (Unigram) tokenizers are read from tokenizer.json (transformers' AutoTokenizer.from_pretrained(...).save_pretrained(...) writes it)";
        return $"no tokenizer found in '{dir}': expected tokenizer.json, vocab.txt (WordPiece) or vocab.json + merges.txt (BPE)";
    }
}
