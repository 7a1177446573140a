using System.Text.Json;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// Loads the tokenizer of a HuggingFace model directory, picking the implementation from its files:
/// <list type="bullet">
/// <item><c>tokenizer.json</c> with a WordPiece model, or <c>vocab.txt</c> (BERT, DistilBERT, ELECTRA, MiniLM, ...):
/// <see cref="WordPieceTokenizer"/>;</item>
/// <item>anything else (BPE from tokenizer.json or vocab.json + merges.txt, Unigram/SentencePiece, WordLevel) is
/// refused with a <see cref="TokenizerException"/> saying so.</item>
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
            if (modelType != "WordPiece")
                throw new TokenizerException(WordPieceTokenizerLoader.UnsupportedModel(modelType, $"'{json}' has model.type \"{modelType}\""));
            return WordPieceTokenizerLoader.FromTokenizerJson(json);
        }
        if (File.Exists(Path.Combine(dir, "vocab.txt"))) return WordPieceTokenizerLoader.FromVocabFiles(dir);
        throw new TokenizerException(DescribeUnsupported(dir));
    }

    /// <summary>Why a directory without tokenizer.json or vocab.txt cannot be loaded.</summary>
    internal static string DescribeUnsupported(string dir)
    {
        bool Has(string file) => File.Exists(Path.Combine(dir, file));
        if (Has("vocab.json") && Has("merges.txt"))
            return $"BPE tokenizers are not supported yet: '{dir}' has vocab.json + merges.txt (byte-level BPE, e.g. RoBERTa/GPT-2); only WordPiece (BERT-style) tokenizers are";
        if (Has("spiece.model") || Has("sentencepiece.bpe.model") || Has("tokenizer.model"))
            return $"SentencePiece tokenizers are not supported yet: '{dir}' has a SentencePiece model file; only WordPiece (BERT-style) tokenizers are";
        return $"no tokenizer found in '{dir}': expected tokenizer.json or vocab.txt";
    }
}
