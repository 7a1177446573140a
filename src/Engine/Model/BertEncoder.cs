using MixLens.Engine.Interventions;
using MixLens.Engine.Tracing;
using MixLens.Kernels;

namespace MixLens.Engine.Model;

/// <summary>The result of a forward pass: per text, the last hidden state [n, d] and the requested trace.</summary>
public sealed record EncoderOutput(IReadOnlyList<Tensor> LastHiddenStates, IReadOnlyList<Trace> Traces);

/// <summary>
/// A transformer encoder of the BERT family (BERT, RoBERTa, DistilBERT, ELECTRA: embeddings, then L post-LayerNorm
/// layers; the families differ only in their embedding block and checkpoint names) in float32, with every sub-step
/// observable (<see cref="TraceRequest"/>) and patchable (<see cref="IActivationPatch"/>).
/// Thread-safe: weights are read-only and every call rents its own activations.
/// </summary>
/// <remarks>
/// The constructor packs every layer's Linear weights for the GEMM (<see cref="PackedLayerWeights"/>; the only copy of
/// the memory-mapped weights). Activations live in <see cref="ForwardWorkspace"/>s pooled per encoder, so a forward of
/// a shape seen before allocates only its results: the embedding rows (<see cref="EncoderEmbeddings"/>), the returned
/// tensors, the requested trace, and a few small bookkeeping objects. Threads: <see cref="Parallelism.MaxThreads"/>.
/// </remarks>
public sealed class BertEncoder
{
    readonly PackedLayerWeights[] _layers;
    readonly ForwardWorkspacePool _workspaces = new();
    readonly Lazy<Gradients.BackwardLayerWeights[]> _backwardLayers;
    readonly CallGate _calls = new("the encoder");

    public EncoderConfig Config { get; }
    public BertWeights Weights { get; }

    /// <summary>Where <see cref="Forward(IReadOnlyList{EncoderInput}, TraceRequest?, IActivationPatch?)"/> and
    /// <see cref="RunLayer"/> run the layers (default <see cref="EncoderBackend.Simd"/>; the gradient methods' taped
    /// forward always runs on the SIMD kernels). Set it before sharing the encoder between threads.</summary>
    /// <exception cref="ArgumentNullException">set to null.</exception>
    public EncoderBackend Backend
    {
        get => _backend;
        set => _backend = value ?? throw new ArgumentNullException(nameof(value), "give EncoderBackend.Simd for the CPU");
    }
    EncoderBackend _backend = EncoderBackend.Simd;

    public BertEncoder(EncoderConfig config, BertWeights weights)
    {
        Config = config;
        Weights = weights;
        _layers = new PackedLayerWeights[weights.Layers.Count];
        for (int l = 0; l < _layers.Length; l++) _layers[l] = PackedLayerWeights.Pack(weights.Layers[l], config);
        _backwardLayers = new(() => weights.Layers.Select(w => Gradients.BackwardLayerWeights.Pack(w, config)).ToArray());
    }

    /// <summary>
    /// The calls in flight on this encoder (<see cref="CallGate"/>): every forward, layer re-run, backward and analysis
    /// holds a <see cref="BeginCall"/> scope while it reads the weights, so that disposing the model
    /// (<see cref="EncoderModel.Dispose"/>) waits for them before it unmaps the weights, and later calls throw
    /// <see cref="ObjectDisposedException"/>. Code that reads <see cref="Weights"/> itself should hold one too.
    /// </summary>
    public CallGate Calls => _calls;

    /// <summary>Enters a call (see <see cref="Calls"/>): <c>using var call = encoder.BeginCall();</c>.</summary>
    /// <exception cref="ObjectDisposedException">the model has been disposed.</exception>
    public CallGate.Scope BeginCall() => _calls.Enter();

    /// <summary>The activation workspaces kept for reuse between forwards, the bytes they hold, and the bytes of the
    /// largest: at most one per forward that ran concurrently, each at most as large as the largest batch it served and
    /// under 64 MiB, so the total stays within count × largest (a diagnostic for services).</summary>
    public (int Count, long Bytes, long LargestBytes) PooledWorkspaces => _workspaces.Idle;

    /// <summary>Layer <paramref name="layer"/>'s weights packed for the forward.</summary>
    internal PackedLayerWeights ForwardWeights(int layer) => _layers[layer];

    /// <summary>Layer <paramref name="layer"/>'s weights packed for the backward (packed on first use, then kept).</summary>
    internal Gradients.BackwardLayerWeights BackwardWeights(int layer) => _backwardLayers.Value[layer];

    /// <summary>
    /// The forward of <see cref="Forward(IReadOnlyList{EncoderInput}, TraceRequest?, IActivationPatch?)"/> keeping what
    /// the backward needs (<see cref="Gradients.EncoderTape"/>); same outputs bit for bit.
    /// </summary>
    /// <param name="wordRows">per text null or its word-embedding rows [n, E] replacing E_word[id] (null: none).</param>
    /// <param name="firstLayer">run layers firstLayer.. only (0: the whole encoder), from <paramref name="firstInput"/>;
    /// the tape then has no embeddings and no layers below it.</param>
    /// <param name="firstInput">X^firstLayer, packed [T, d] for the batch (required above layer 0; at layer 0 it replaces
    /// the embeddings, whose tape is then absent).</param>
    internal Gradients.EncoderTape ForwardTaped(IReadOnlyList<EncoderInput> batch, IReadOnlyList<float[]?>? wordRows,
        IActivationPatch? patch, int firstLayer = 0, float[]? firstInput = null, bool firstTokensOnly = false)
    {
        if (firstTokensOnly && patch is not null && Enum.GetValues<LayerStep>().Any(step => patch.Targets(Config.NumHiddenLayers - 1, step)))
            throw new ArgumentException("a forward taped at the first tokens only takes no patch of its last layer", nameof(patch));
        if (firstTokensOnly && firstLayer >= Config.NumHiddenLayers - 1 && Config.NumHiddenLayers > 1)
            throw new ArgumentException("a forward taped at the first tokens only must start below its last layer", nameof(firstLayer));
        using var call = BeginCall();
        if (batch.Count == 0) throw new EncoderInputException("the batch is empty: give at least one text");
        for (int s = 0; s < batch.Count; s++) Validate(batch[s], s);
        if (wordRows is not null)
        {
            if (wordRows.Count != batch.Count)
                throw new ArgumentException($"{wordRows.Count} word-embedding overrides for {batch.Count} texts", nameof(wordRows));
            for (int s = 0; s < batch.Count; s++)
                if (wordRows[s] is { } rows && rows.Length != batch[s].Length * Config.EmbeddingSize)
                    throw new ArgumentException($"text {s}: {rows.Length} word-embedding values, expected n·E = {batch[s].Length}·{Config.EmbeddingSize}", nameof(wordRows));
        }
        var packed = Pack(batch);
        var traces = new Trace[batch.Count];
        for (int s = 0; s < traces.Length; s++) traces[s] = new Trace();
        var hooks = new StepHooks(null, patch, traces, packed, Config.NumAttentionHeads);
        int T = packed.TotalTokens, d = Config.HiddenSize, f = Config.IntermediateSize;
        var probsOffsets = Gradients.EncoderTape.ProbsOffsetsOf(packed, Config.NumAttentionHeads);
        var embeddingTape = firstInput is null ? new Gradients.EmbeddingTape(T, Config.EmbeddingSize) : null;
        var layerTapes = new Gradients.LayerTape[Config.NumHiddenLayers];
        if ((firstLayer > 0 || firstInput is not null) && firstInput?.Length != T * d)
            throw new ArgumentException($"a forward from layer {firstLayer} needs that layer's input, [T, d] = [{T}, {d}]", nameof(firstInput));

        var ws = _workspaces.Rent();
        try
        {
            ws.EnsureCapacity(T, d, f);
            var x = firstInput ?? EncoderEmbeddings.Forward(Weights.Embeddings, Config, batch, packed, wordRows, embeddingTape);
            int L = Config.NumHiddenLayers, fullLayers = firstTokensOnly ? L - 1 : L;
            for (int l = firstLayer; l < fullLayers; l++)
            {
                var y = ws.Hidden[l % 2];
                layerTapes[l] = new Gradients.LayerTape(packed, probsOffsets, d, f) { ProbsPatched = patch?.Targets(l, LayerStep.Probs) == true };
                EncoderLayer.Forward(l, _layers[l], Config, x, y, packed, ws, hooks, layerTapes[l]);
                x = y;
            }
            float[] lastHidden;
            Gradients.FirstTokenLayerTape? firstTokenTape = null;
            if (firstTokensOnly)
            {
                // X^L at the first tokens [B, d], written to their rows of [T, d]; the other rows are NaN (not computed)
                firstTokenTape = new Gradients.FirstTokenLayerTape(packed, Config.NumAttentionHeads, d, f);
                var first = ws.Hidden[(L - 1) % 2];
                EncoderLayer.ForwardFirstTokens(_layers[L - 1], Config, x, first, packed, ws, firstTokenTape);
                lastHidden = new float[T * d];
                Array.Fill(lastHidden, float.NaN);
                for (int s = 0; s < packed.Count; s++) first.AsSpan(s * d, d).CopyTo(lastHidden.AsSpan(packed.Starts[s] * d, d));
            }
            else lastHidden = x.AsSpan(0, T * d).ToArray();
            return new Gradients.EncoderTape
            {
                Batch = packed, Inputs = batch, WordRows = wordRows, Embeddings = embeddingTape, Layers = layerTapes,
                FirstLayer = firstLayer, LastHidden = lastHidden, ProbsOffsets = probsOffsets, FirstTokenLastLayer = firstTokenTape,
            };
        }
        finally
        {
            _workspaces.Return(ws);
        }
    }

    /// <summary>
    /// Runs a batch of texts of any lengths. Texts are packed (no compute on padding), so a text's outputs do not
    /// depend on what else is in the batch.
    /// </summary>
    /// <param name="batch">the texts; each input_ids [n] with 1 ≤ n ≤ <see cref="EncoderConfig.MaxSequenceLength"/>
    /// (max_position_embeddings, less RoBERTa's padding offset); token type ids are ignored by a family without token
    /// types (DistilBERT).</param>
    /// <param name="trace">tensors to capture per text (null: none).</param>
    /// <param name="patch">an intervention applied in every text (null: none).</param>
    /// <exception cref="EncoderInputException">an empty batch or text, a text longer than the model's limit,
    /// an id or type id out of range, or mismatched array lengths.</exception>
    public EncoderOutput Forward(IReadOnlyList<EncoderInput> batch, TraceRequest? trace = null, IActivationPatch? patch = null)
    {
        using var call = BeginCall();
        if (batch.Count == 0) throw new EncoderInputException("the batch is empty: give at least one text");
        for (int s = 0; s < batch.Count; s++) Validate(batch[s], s);

        var packed = Pack(batch);
        var traces = new Trace[batch.Count];
        for (int s = 0; s < traces.Length; s++) traces[s] = new Trace();
        var hooks = new StepHooks(trace, patch, traces, packed, Config.NumAttentionHeads);

        var ws = _workspaces.Rent();
        try
        {
            ws.EnsureCapacity(packed.TotalTokens, Config.HiddenSize, Config.IntermediateSize);
            // X⁰ = embeddings                                                           [T, d]
            var x = EncoderEmbeddings.Forward(Weights.Embeddings, Config, batch, packed);
            hooks.AfterEmbeddings(x, Config.HiddenSize);
            // Xˡ = Layerₗ(Xˡ⁻¹)
            x = _backend.RunLayers(this, 0, Config.NumHiddenLayers, x, packed, ws, hooks);

            var outputs = new Tensor[batch.Count];
            for (int s = 0; s < batch.Count; s++)
                outputs[s] = new Tensor(packed.Rows(x, s, Config.HiddenSize).ToArray(), packed.Lengths[s], Config.HiddenSize);
            return new EncoderOutput(outputs, traces);
        }
        finally
        {
            _workspaces.Return(ws);
        }
    }

    /// <summary>
    /// The last hidden state at the first token of each text, [B, d] (row s: text s's [CLS] / &lt;s&gt;, what a
    /// sequence-classification head reads), equal bit for bit to row 0 of
    /// <see cref="Forward(IReadOnlyList{EncoderInput}, TraceRequest?, IActivationPatch?)"/>'s outputs. The last layer
    /// computes keys and values for every token but everything else for the first tokens only
    /// (<see cref="EncoderLayer.ForwardFirstTokens"/>), which saves most of that layer: for the many perturbed copies
    /// of a sentence a faithfulness evaluation scores.
    /// </summary>
    /// <exception cref="EncoderInputException">as <see cref="Forward(IReadOnlyList{EncoderInput}, TraceRequest?, IActivationPatch?)"/>.</exception>
    public Tensor ForwardFirstTokens(IReadOnlyList<EncoderInput> batch)
    {
        if (batch.Count == 0) throw new EncoderInputException("the batch is empty: give at least one text");
        for (int s = 0; s < batch.Count; s++) Validate(batch[s], s);

        var packed = Pack(batch);
        int L = Config.NumHiddenLayers, d = Config.HiddenSize;
        var hooks = new StepHooks(null, null, [], packed, Config.NumAttentionHeads);
        var ws = _workspaces.Rent();
        try
        {
            ws.EnsureCapacity(packed.TotalTokens, d, Config.IntermediateSize);
            // X⁰ = embeddings;  Xˡ = Layerₗ(Xˡ⁻¹) for every layer but the last            [T, d]
            var x = EncoderEmbeddings.Forward(Weights.Embeddings, Config, batch, packed);
            for (int l = 0; l < L - 1; l++)
            {
                var y = ws.Hidden[l % 2];
                EncoderLayer.Forward(l, _layers[l], Config, x, y, packed, ws, hooks);
                x = y;
            }
            // X^L at the first tokens                                                        [B, d]
            var first = ws.Hidden[(L - 1) % 2];
            EncoderLayer.ForwardFirstTokens(_layers[L - 1], Config, x, first, packed, ws);
            return new Tensor(first.AsSpan(0, batch.Count * d).ToArray(), batch.Count, d);
        }
        finally
        {
            _workspaces.Return(ws);
        }
    }

    /// <summary>Runs one text (see <see cref="Forward(IReadOnlyList{EncoderInput}, TraceRequest?, IActivationPatch?)"/>).</summary>
    public (Tensor LastHiddenState, Trace Trace) Forward(EncoderInput input, TraceRequest? trace = null, IActivationPatch? patch = null)
    {
        var output = Forward([input], trace, patch);
        return (output.LastHiddenStates[0], output.Traces[0]);
    }

    /// <summary>
    /// Re-runs layer <paramref name="layer"/> alone on its input (its traced input: <c>embeddings.output</c> for layer
    /// 0, else <c>layers.{layer-1}.output</c>), optionally patched, e.g. with value vectors zeroed
    /// (<see cref="ZeroValueVectors"/>). Several inputs run as one packed batch, so n perturbations of one text are
    /// one call.
    /// </summary>
    /// <param name="layer">0-based layer index.</param>
    /// <param name="inputs">layer inputs, each [n, d].</param>
    /// <param name="attentionMask">per input, the attention mask [n] (null: all tokens real).</param>
    /// <param name="patches">per input, its patch (null entries: unpatched).</param>
    /// <param name="trace">sub-steps of this layer to capture per input.</param>
    /// <returns>the layer outputs [n, d] and traces, one per input.</returns>
    public EncoderOutput RunLayer(int layer, IReadOnlyList<Tensor> inputs, IReadOnlyList<int[]?>? attentionMask = null,
        IReadOnlyList<IActivationPatch?>? patches = null, TraceRequest? trace = null)
    {
        using var call = BeginCall();
        if ((uint)layer >= (uint)Config.NumHiddenLayers)
            throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} does not exist; the model has layers 0..{Config.NumHiddenLayers - 1}");
        if (inputs.Count == 0) throw new EncoderInputException("no layer inputs given");
        int d = Config.HiddenSize;
        var lengths = new int[inputs.Count];
        var masks = new bool[]?[inputs.Count];
        for (int s = 0; s < inputs.Count; s++)
        {
            var t = inputs[s];
            if (t.Rank != 2 || t.Shape[1] != d || t.Shape[0] == 0)
                throw new EncoderInputException($"layer input {s} has shape [{string.Join(", ", t.Shape)}], expected [n, {d}] with n ≥ 1");
            lengths[s] = t.Shape[0];
            masks[s] = KeyMask(attentionMask?[s], t.Shape[0], s);
        }
        if (patches != null && patches.Count != inputs.Count)
            throw new ArgumentException($"{patches.Count} patches given for {inputs.Count} layer inputs", nameof(patches));
        var packed = new PackedBatch(lengths, masks);
        var x = new float[packed.TotalTokens * d];
        for (int s = 0; s < inputs.Count; s++) inputs[s].Data.CopyTo(x, packed.Starts[s] * d);

        var traces = new Trace[inputs.Count];
        for (int s = 0; s < traces.Length; s++) traces[s] = new Trace();
        var patch = patches is null ? null : new PerTextPatch(patches);
        var hooks = new StepHooks(trace, patch, traces, packed, Config.NumAttentionHeads);
        var ws = _workspaces.Rent();
        try
        {
            ws.EnsureCapacity(packed.TotalTokens, d, Config.IntermediateSize);
            var y = _backend.RunLayers(this, layer, layer + 1, x, packed, ws, hooks);

            var outputs = new Tensor[inputs.Count];
            for (int s = 0; s < inputs.Count; s++) outputs[s] = new Tensor(packed.Rows(y, s, d).ToArray(), lengths[s], d);
            return new EncoderOutput(outputs, traces);
        }
        finally
        {
            _workspaces.Return(ws);
        }
    }

    PackedBatch Pack(IReadOnlyList<EncoderInput> batch)
    {
        var lengths = new int[batch.Count];
        var masks = new bool[]?[batch.Count];
        for (int s = 0; s < batch.Count; s++)
        {
            lengths[s] = batch[s].Length;
            masks[s] = KeyMask(batch[s].AttentionMask, batch[s].Length, s);
        }
        return new PackedBatch(lengths, masks);
    }

    static bool[]? KeyMask(int[]? attentionMask, int n, int s)
    {
        if (attentionMask is null) return null;
        if (attentionMask.Length != n)
            throw new EncoderInputException($"text {s}: attention_mask has {attentionMask.Length} entries for {n} tokens");
        if (Array.TrueForAll(attentionMask, m => m != 0)) return null;
        return Array.ConvertAll(attentionMask, m => m != 0);
    }

    void Validate(EncoderInput input, int s)
    {
        int n = input.Length;
        if (n == 0) throw new EncoderInputException($"text {s} has no tokens");
        if (n > Config.MaxSequenceLength)
            throw new EncoderInputException(
                $"text {s} has {n} tokens, more than the model's limit of {Config.MaxSequenceLength} ({LimitSource(Config)}); truncate it");
        if (input.TokenTypeIds.Length != n)
            throw new EncoderInputException($"text {s}: token_type_ids has {input.TokenTypeIds.Length} entries for {n} input_ids");
        for (int p = 0; p < n; p++)
        {
            if ((uint)input.InputIds[p] >= (uint)Config.VocabSize)
                throw new EncoderInputException($"text {s}: input id {input.InputIds[p]} at position {p} is outside the vocabulary 0..{Config.VocabSize - 1}");
            if (Config.TypeVocabSize > 0 && (uint)input.TokenTypeIds[p] >= (uint)Config.TypeVocabSize)
                throw new EncoderInputException($"text {s}: token type id {input.TokenTypeIds[p]} at position {p} is outside 0..{Config.TypeVocabSize - 1}");
        }
    }

    /// <summary>Where a model's token limit comes from, for messages.</summary>
    internal static string LimitSource(EncoderConfig config) => config.PositionScheme == PositionScheme.AfterPadding
        ? $"max_position_embeddings {config.MaxPositionEmbeddings} less pad_token_id + 1"
        : "max_position_embeddings";

    /// <summary>Routes each text of a batch to its own patch.</summary>
    sealed class PerTextPatch(IReadOnlyList<IActivationPatch?> patches) : IActivationPatch
    {
        public bool Targets(int layer, LayerStep step)
        {
            foreach (var p in patches)
                if (p?.Targets(layer, step) == true) return true;
            return false;
        }

        public void Apply(in PatchSite site, Span<float> activation)
        {
            var p = patches[site.Sequence];
            if (p?.Targets(site.Layer, site.Step) == true) p.Apply(site, activation);
        }
    }
}
