using MixLens.Engine.Conversion;
using MixLens.Engine.Heads;
using MixLens.Engine.Hub;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Engine.Tokenization;

namespace MixLens.Engine;

/// <summary>
/// A HuggingFace model directory loaded for inference: <c>config.json</c>, <c>model.safetensors</c> (memory-mapped;
/// or the shards of <c>model.safetensors.index.json</c>),
/// the tokenizer files, the sentence-transformers pooling when present, and the task heads the checkpoint has
/// (sequence classification, token classification, masked LM). The directory may also be named as a hub repository
/// (<c>org/name[@revision]</c>), found in the HuggingFace hub cache or downloaded into it (<see cref="ModelLocator"/>).
/// Dispose to unmap the weights.
/// </summary>
public sealed class EncoderModel : IDisposable
{
    /// <summary>model.safetensors, or the shards of a sharded checkpoint.</summary>
    readonly SafeTensorsFile[] _weightsFiles;
    readonly WeightNames _names;
    /// <summary>Heads present in the checkpoint but malformed, by property name: thrown by the Require… methods.</summary>
    readonly Dictionary<string, ModelFormatException> _headErrors;

    /// <summary>The model directory (for a hub repository, its snapshot folder in the hub cache).</summary>
    public string Directory { get; }
    /// <summary>A short name: the directory's name, or the hub repository id (<c>org/name</c>).</summary>
    public string Name { get; }
    public EncoderConfig Config => Encoder.Config;
    public BertEncoder Encoder { get; }
    public ITokenizer Tokenizer { get; }
    /// <summary>The sentence-transformers pooling, or null when the directory has none.</summary>
    public SentencePooling? Pooling { get; }
    /// <summary>The sequence-classification head (e.g. pooler + classifier), or null when the checkpoint has none or a malformed one
    /// (<see cref="HeadError"/>), or config.json's <c>architectures</c> names a token classifier.</summary>
    public SequenceClassifier? Classifier { get; }
    /// <summary>The token-classification head, or null when the checkpoint has none or a malformed one
    /// (<see cref="HeadError"/>), or config.json's <c>architectures</c> names a sequence classifier. BERT's and
    /// DistilBERT's two classifiers share the tensor <c>classifier.weight</c> [labels, d]: a checkpoint without
    /// <c>architectures</c> that has a pooler (pre_classifier) too has both <see cref="Classifier"/> and this head, so
    /// that <c>classify</c> and <c>tag</c> each run their own.</summary>
    public TokenClassifier? TokenClassifier { get; }
    /// <summary>The masked-language-model head, or null when the checkpoint has none or a malformed one
    /// (<see cref="HeadError"/>).</summary>
    public MaskedLanguageModelHead? MaskedLm { get; }
    /// <summary>The ELECTRA discriminator's replaced-token-detection head (<c>ElectraForPreTraining</c>), or null.</summary>
    public ReplacedTokenDetector? ReplacedTokenDetector { get; }

    EncoderModel(ModelLocation location, SafeTensorsFile[] files, WeightNames names, BertEncoder encoder, ITokenizer tokenizer,
        SentencePooling? pooling, SequenceClassifier? classifier, TokenClassifier? tokenClassifier, MaskedLanguageModelHead? maskedLm,
        ReplacedTokenDetector? replacedTokenDetector, Dictionary<string, ModelFormatException> headErrors)
    {
        _headErrors = headErrors;
        Directory = location.Directory;
        Name = location.Name;
        _weightsFiles = files;
        _names = names;
        Encoder = encoder;
        Tokenizer = tokenizer;
        Pooling = pooling;
        Classifier = classifier;
        TokenClassifier = tokenClassifier;
        MaskedLm = maskedLm;
        ReplacedTokenDetector = replacedTokenDetector;
    }

    /// <summary>Loads a model directory, or a hub repository <c>org/name[@revision]</c> when no such directory exists
    /// (from the hub cache, downloading what it lacks unless offline: <see cref="ModelLocator"/>). A task head that is
    /// present but malformed (a tensor missing or mis-shaped, id2label or num_labels disagreeing with its weight) leaves
    /// that head null and its error for the Require… method of the head (<see cref="HeadError"/>); the encoder still loads.</summary>
    /// <param name="model">a model directory or a hub repository id.</param>
    /// <param name="hub">hub settings (default: from the environment, as huggingface_hub reads it).</param>
    /// <exception cref="ModelFormatException">the directory or a required file is missing, or config/encoder weights are invalid.</exception>
    /// <exception cref="SafeTensorsException">model.safetensors is malformed.</exception>
    /// <exception cref="TokenizerException">the tokenizer files are missing or malformed.</exception>
    /// <exception cref="HubException">a hub repository, revision or file cannot be had.</exception>
    public static EncoderModel Load(string model, HubOptions? hub = null)
    {
        var location = ModelLocator.Locate(model, ModelFileSet.Model, hub);
        string directory = location.Directory;
        var config = EncoderConfig.Load(Path.Combine(directory, "config.json"));
        var files = OpenWeights(directory, out string weightsPath);
        try
        {
            var names = new WeightNames(files, weightsPath, CheckpointLayout.For(config.Family));
            var weights = BertWeights.Load(names, config);
            var tokenizer = TokenizerFactory.Load(directory);
            var pooling = SentencePooling.Load(directory);
            // A head that is present but malformed (a missing bias, id2label disagreeing with its weight) does not stop
            // the encoder from loading, as HF's AutoModel loads the base model of such a checkpoint: its error is kept
            // and thrown by the command that needs the head (Require…).
            var headErrors = new Dictionary<string, ModelFormatException>();
            T? TryHead<T>(string key, Func<T?> load) where T : class
            {
                try { return load(); }
                catch (ModelFormatException e) { headErrors[key] = e; return null; }
            }
            // Each reading of the shared 'classifier' weight is tried on its own; architectures, when it names one of
            // the two heads, rules the other out (SequenceClassifier.TryLoad, TokenClassifier.TryLoad).
            var classifier = TryHead(nameof(Classifier), () => SequenceClassifier.TryLoad(names, config));
            var tokenClassifier = TryHead(nameof(TokenClassifier), () => Heads.TokenClassifier.TryLoad(names, config));
            var maskedLm = TryHead(nameof(MaskedLm), () => MaskedLanguageModelHead.TryLoad(names, config, weights));
            var detector = TryHead(nameof(ReplacedTokenDetector), () => Heads.ReplacedTokenDetector.TryLoad(names, config));
            return new EncoderModel(location, files, names, new BertEncoder(config, weights), tokenizer, pooling,
                classifier, tokenClassifier, maskedLm, detector, headErrors);
        }
        catch
        {
            foreach (var file in files) file.Dispose();
            throw;
        }
    }

    /// <summary>Memory-maps <c>model.safetensors</c> or, when the directory has none, every shard named by
    /// <c>model.safetensors.index.json</c> (a sharded checkpoint, as transformers' <c>save_pretrained</c> writes one).</summary>
    /// <param name="path">the weights file, or the index of a sharded checkpoint (for messages).</param>
    /// <exception cref="ModelFormatException">neither is there (a PyTorch checkpoint is named with the way to convert
    /// it), the index is malformed, or a shard is missing.</exception>
    static SafeTensorsFile[] OpenWeights(string directory, out string path)
    {
        path = Path.Combine(directory, "model.safetensors");
        if (File.Exists(path)) return [SafeTensorsFile.Open(path)];
        string indexPath = Path.Combine(directory, ShardIndex.SafeTensorsIndexName);
        if (!File.Exists(indexPath))
        {
            string? pytorch = new[] { "pytorch_model.bin", ShardIndex.PyTorchIndexName }.FirstOrDefault(f => File.Exists(Path.Combine(directory, f)));
            throw new ModelFormatException($"{path}: weights file not found" +
                (pytorch is null ? "" : $" (the directory has {pytorch}: convert it to model.safetensors first, with `mixlens convert {directory}`)"));
        }
        ShardIndex index;
        try { index = ShardIndex.Read(indexPath); }
        catch (CheckpointException e) { throw new ModelFormatException($"{indexPath}: {e.Message}", e); }
        path = indexPath;
        var files = new List<SafeTensorsFile>();
        try
        {
            foreach (var shard in index.Shards)
            {
                string shardPath = Path.Combine(directory, shard);
                if (!File.Exists(shardPath)) throw new ModelFormatException($"{indexPath}: shard {shard} not found");
                files.Add(SafeTensorsFile.Open(shardPath));
            }
            return files.ToArray();
        }
        catch
        {
            foreach (var file in files) file.Dispose();
            throw;
        }
    }

    /// <summary>Loads only the tokenizer of a model directory or hub repository: a folder that holds tokenizer files
    /// and nothing else will do (from the hub, only the tokenizer files are fetched).</summary>
    /// <exception cref="ModelFormatException">neither a directory nor a repository id.</exception>
    /// <exception cref="TokenizerException">the tokenizer files are missing or malformed.</exception>
    /// <exception cref="HubException">a hub repository, revision or file cannot be had.</exception>
    public static ITokenizer LoadTokenizer(string model, HubOptions? hub = null) =>
        TokenizerFactory.Load(ModelLocator.Locate(model, ModelFileSet.Tokenizer, hub).Directory);

    /// <summary>
    /// Tokenizes a text (and optional pair). Without <paramref name="truncate"/>, an input longer than the model's
    /// limit (<see cref="EncoderConfig.MaxSequenceLength"/>: max_position_embeddings, less RoBERTa's padding offset) is
    /// an error stating its length and the limit; with it, the input is truncated to the limit (HF longest_first).
    /// </summary>
    /// <exception cref="EncoderInputException">the input is too long and <paramref name="truncate"/> is false, or it has
    /// no tokens at all (an empty text with a tokenizer that adds no special tokens).</exception>
    public Tokenization.Encoding Tokenize(string text, string? pair = null, bool truncate = false)
    {
        int limit = Config.MaxSequenceLength;
        var encoding = truncate ? Tokenizer.Encode(text, pair, limit) : Tokenizer.Encode(text, pair);
        if (encoding.Length == 0)
            throw new EncoderInputException("the input has no tokens (the text is empty and the tokenizer adds no special tokens)");
        if (truncate) return encoding;
        if (encoding.Length > limit)
            throw new EncoderInputException(
                $"the input is {encoding.Length} tokens long, over the model's limit of {limit} tokens ({BertEncoder.LimitSource(Config)}); pass --truncate to cut it to {limit}");
        return encoding;
    }

    /// <summary>Sentence embeddings [d] for a batch of encodings (pooling as configured, or mean pooling when the
    /// directory has no sentence-transformers files).</summary>
    public float[][] Embed(IReadOnlyList<Tokenization.Encoding> encodings)
    {
        using var call = Encoder.BeginCall();   // the heads read the weights too
        var pooling = Pooling ?? new SentencePooling(PoolingMode.Mean, Normalize: false);
        var output = Encoder.Forward(encodings.Select(EncoderInput.From).ToArray());
        var result = new float[encodings.Count][];
        for (int s = 0; s < result.Length; s++) result[s] = pooling.Pool(output.LastHiddenStates[s]);
        return result;
    }

    /// <summary>Classifies a batch of encodings with the sequence-classification head.</summary>
    /// <exception cref="ModelFormatException">the checkpoint has no sequence-classification head (the message names the
    /// tensors its family's head needs and the checkpoint lacks).</exception>
    public Classification[] Classify(IReadOnlyList<Tokenization.Encoding> encodings)
    {
        using var call = Encoder.BeginCall();   // the heads read the weights too
        var head = RequireClassifier();
        var output = Encoder.Forward(encodings.Select(EncoderInput.From).ToArray());
        return output.LastHiddenStates.Select(head.Classify).ToArray();
    }

    /// <summary>The sequence-classification head.</summary>
    /// <exception cref="ModelFormatException">the checkpoint has none (the message says what is missing), or has a
    /// malformed one (the load error).</exception>
    public SequenceClassifier RequireClassifier() =>
        Classifier ?? throw HeadError(nameof(Classifier)) ?? new ModelFormatException(SequenceClassifier.Absence(_names, Config) + DiscriminatorNote);

    /// <summary>Why a head that the checkpoint has could not be loaded (<paramref name="head"/>: <c>Classifier</c>,
    /// <c>TokenClassifier</c>, <c>MaskedLm</c> or <c>ReplacedTokenDetector</c>), or null when it loaded or is absent.</summary>
    public ModelFormatException? HeadError(string head) =>
        _headErrors.TryGetValue(head, out var e) ? new ModelFormatException(e.Message, e) : null;

    /// <summary>The token-classification head.</summary>
    /// <exception cref="ModelFormatException">the checkpoint has none (the message says what is missing), or has a
    /// malformed one (the load error).</exception>
    public TokenClassifier RequireTokenClassifier() =>
        TokenClassifier ?? throw HeadError(nameof(TokenClassifier)) ?? HeadError(nameof(ReplacedTokenDetector))
            ?? new ModelFormatException(Heads.TokenClassifier.Absence(_names, Config) + DiscriminatorNote);

    /// <summary>The masked-LM head.</summary>
    /// <exception cref="ModelFormatException">the checkpoint has none (the message says what is missing), or has a
    /// malformed one (the load error).</exception>
    public MaskedLanguageModelHead RequireMaskedLm() =>
        MaskedLm ?? throw HeadError(nameof(MaskedLm)) ?? new ModelFormatException(MaskedLanguageModelHead.Absence(_names, Config) + DiscriminatorNote);

    /// <summary>What a head-less error adds for an ELECTRA discriminator: the head it does have.</summary>
    string DiscriminatorNote => ReplacedTokenDetector is null ? "" :
        "; it is an ELECTRA discriminator (ElectraForPreTraining), whose only head detects replaced tokens: tag runs it";

    /// <summary>True when <see cref="Tag"/> has a head to run: a token classifier, or an ELECTRA discriminator's
    /// replaced-token detection.</summary>
    public bool CanTag => TokenClassifier is not null || ReplacedTokenDetector is not null;

    /// <summary>Labels every token of one encoding with the token-classification head or, for an ELECTRA
    /// discriminator without one, with its replaced-token detection (labels original / replaced, logits [n, 1]).</summary>
    /// <returns>logits [n, labels] and the label of each of the n tokens (special tokens included).</returns>
    /// <exception cref="ModelFormatException">the checkpoint has neither head.</exception>
    public TokenClassification Tag(Tokenization.Encoding encoding)
    {
        using var call = Encoder.BeginCall();   // the heads read the weights too
        Func<Tensor, TokenClassification> head = TokenClassifier is { } classifier ? classifier.Classify
            : ReplacedTokenDetector is { } detector ? detector.Classify
            : RequireTokenClassifier().Classify; // throws, naming what is missing
        return head(Encoder.Forward(EncoderInput.From(encoding)).LastHiddenState);
    }

    /// <summary>The positions of the tokenizer's mask token in an encoding, in order.</summary>
    /// <exception cref="EncoderInputException">the tokenizer has no mask token, or the encoding contains none.</exception>
    public int[] MaskPositions(Tokenization.Encoding encoding)
    {
        int mask = Tokenizer.MaskId ?? throw new EncoderInputException($"{Name}: the tokenizer has no mask token");
        var positions = Enumerable.Range(0, encoding.Length).Where(t => encoding.Ids[t] == mask).ToArray();
        if (positions.Length == 0)
            throw new EncoderInputException(
                $"the text has no mask token: write {Tokenizer.IdToToken(mask)} where a token should be predicted");
        return positions;
    }

    /// <summary>
    /// Predicts every mask token of one encoding with the masked-LM head: for each mask, in order, the
    /// <paramref name="topK"/> most probable vocabulary tokens (softmax over the vocabulary).
    /// </summary>
    /// <exception cref="ModelFormatException">the checkpoint has no masked-LM head.</exception>
    /// <exception cref="EncoderInputException">the tokenizer has no mask token, or the encoding contains none.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="topK"/> is not positive.</exception>
    public MaskPrediction[] FillMask(Tokenization.Encoding encoding, int topK = 5)
    {
        using var call = Encoder.BeginCall();   // the heads read the weights too
        var head = RequireMaskedLm();
        if (topK <= 0) throw new ArgumentOutOfRangeException(nameof(topK), topK, "top-k must be at least 1");
        var positions = MaskPositions(encoding);
        var (hidden, _) = Encoder.Forward(EncoderInput.From(encoding));
        var logits = head.Logits(hidden, positions);
        return positions.Select((p, r) => new MaskPrediction(p,
            MaskedLanguageModelHead.TopK(logits.Row(r), topK)
                .Select(c => new TokenProbability(c.Id, Tokenizer.IdToToken(c.Id), c.Prob)).ToArray())).ToArray();
    }

    /// <summary>Unmaps the weights: at once when no call is running on <see cref="Encoder"/>, else when the last call in
    /// flight leaves (<see cref="BertEncoder.Calls"/>); calls started afterwards throw <see cref="ObjectDisposedException"/>.
    /// Calls of this class (<see cref="Classify"/>, <see cref="Embed"/>, …) and of the analyses count as in flight;
    /// spans a caller took from <see cref="BertEncoder.Weights"/> outside such a call must not be used afterwards.</summary>
    public void Dispose()
    {
        var files = _weightsFiles;
        Encoder.Calls.Close(() => { foreach (var file in files) file.Dispose(); });
    }
}
