using MixLens.Engine.Heads;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Engine.Tokenization;

namespace MixLens.Engine;

/// <summary>
/// A HuggingFace model directory loaded for inference: <c>config.json</c>, <c>model.safetensors</c> (memory-mapped),
/// the tokenizer files, and the sentence-transformers pooling when present. Dispose to unmap the weights.
/// </summary>
public sealed class EncoderModel : IDisposable
{
    readonly SafeTensorsFile _weightsFile;

    /// <summary>The model directory.</summary>
    public string Directory { get; }
    /// <summary>A short name: the directory's name.</summary>
    public string Name => Path.GetFileName(Path.TrimEndingDirectorySeparator(Directory));
    public EncoderConfig Config => Encoder.Config;
    public BertEncoder Encoder { get; }
    public ITokenizer Tokenizer { get; }
    /// <summary>The sentence-transformers pooling, or null when the directory has none.</summary>
    public SentencePooling? Pooling { get; }
    /// <summary>The sequence-classification head (pooler + classifier), or null when the checkpoint has none.</summary>
    public SequenceClassifier? Classifier { get; }

    EncoderModel(string directory, SafeTensorsFile file, BertEncoder encoder, ITokenizer tokenizer, SentencePooling? pooling,
        SequenceClassifier? classifier)
    {
        Classifier = classifier;
        Directory = directory;
        _weightsFile = file;
        Encoder = encoder;
        Tokenizer = tokenizer;
        Pooling = pooling;
    }

    /// <summary>Loads a model directory.</summary>
    /// <exception cref="ModelFormatException">the directory or a required file is missing, or config/weights are invalid.</exception>
    /// <exception cref="SafeTensorsException">model.safetensors is malformed.</exception>
    /// <exception cref="TokenizerException">the tokenizer files are missing or malformed.</exception>
    public static EncoderModel Load(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new ModelFormatException($"model directory '{directory}' not found");
        var config = EncoderConfig.Load(Path.Combine(directory, "config.json"));
        string weightsPath = Path.Combine(directory, "model.safetensors");
        if (!File.Exists(weightsPath))
        {
            string hint = File.Exists(Path.Combine(directory, "pytorch_model.bin"))
                ? " (the directory has pytorch_model.bin: convert it to model.safetensors first)"
                : File.Exists(Path.Combine(directory, "model.safetensors.index.json"))
                    ? " (sharded checkpoints are not supported yet)"
                    : "";
            throw new ModelFormatException($"{weightsPath}: weights file not found{hint}");
        }
        var file = SafeTensorsFile.Open(weightsPath);
        try
        {
            var weights = BertWeights.Load(file, config);
            var tokenizer = TokenizerFactory.Load(directory);
            var pooling = SentencePooling.Load(directory);
            var classifier = SequenceClassifier.TryLoad(new WeightNames(file), config);
            return new EncoderModel(directory, file, new BertEncoder(config, weights), tokenizer, pooling, classifier);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Tokenizes a text (and optional pair). Without <paramref name="truncate"/>, an input longer than the model's
    /// max_position_embeddings is an error stating its length and the limit; with it, the input is truncated to the
    /// limit (HF longest_first).
    /// </summary>
    /// <exception cref="EncoderInputException">the input is too long and <paramref name="truncate"/> is false.</exception>
    public Tokenization.Encoding Tokenize(string text, string? pair = null, bool truncate = false)
    {
        int limit = Config.MaxPositionEmbeddings;
        if (truncate) return Tokenizer.Encode(text, pair, limit);
        var encoding = Tokenizer.Encode(text, pair);
        if (encoding.Length > limit)
            throw new EncoderInputException(
                $"the input is {encoding.Length} tokens long, over the model's limit of {limit} tokens (max_position_embeddings); pass --truncate to cut it to {limit}");
        return encoding;
    }

    /// <summary>Sentence embeddings [d] for a batch of encodings (pooling as configured, or mean pooling when the
    /// directory has no sentence-transformers files).</summary>
    public float[][] Embed(IReadOnlyList<Tokenization.Encoding> encodings)
    {
        var pooling = Pooling ?? new SentencePooling(PoolingMode.Mean, Normalize: false);
        var output = Encoder.Forward(encodings.Select(EncoderInput.From).ToArray());
        var result = new float[encodings.Count][];
        for (int s = 0; s < result.Length; s++) result[s] = pooling.Pool(output.LastHiddenStates[s]);
        return result;
    }

    /// <summary>Classifies a batch of encodings with the sequence-classification head.</summary>
    /// <exception cref="ModelFormatException">the checkpoint has no classification head.</exception>
    public Classification[] Classify(IReadOnlyList<Tokenization.Encoding> encodings)
    {
        var head = Classifier ?? throw new ModelFormatException(
            $"{Directory}: the checkpoint has no sequence-classification head (no 'classifier.weight' with a pooler)");
        var output = Encoder.Forward(encodings.Select(EncoderInput.From).ToArray());
        return output.LastHiddenStates.Select(head.Classify).ToArray();
    }

    public void Dispose() => _weightsFile.Dispose();
}
