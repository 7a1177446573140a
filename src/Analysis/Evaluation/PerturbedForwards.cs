using MixLens.Engine.Model;

namespace MixLens.Analysis.Evaluation;

/// <summary>
/// The perturbed forward passes of one sentence (blank-out's masked copies, AOPC's, ERASER's deletions; every method's),
/// collected first and then run together: each distinct token sequence once, all in as few packed batches as the
/// token budget allows. The metrics are written against a score function (<see cref="ClassScore"/>,
/// <see cref="InputScore"/>) called once per metric; they run twice here, first against <see cref="Recording"/>, which
/// only notes the inputs asked for (and answers NaN), then, after <see cref="Run"/>, against <see cref="Cached"/>,
/// which answers from the scores computed. A text's outputs do not depend on what else is in its packed batch
/// (<see cref="BertEncoder.Forward(IReadOnlyList{EncoderInput}, Engine.Tracing.TraceRequest?, Engine.Interventions.IActivationPatch?)"/>),
/// so the metrics equal those of one batch per metric, bit for bit.
/// </summary>
/// <param name="score">the model's score of the prediction for a batch of inputs of any lengths.</param>
/// <param name="tokensPerBatch">the most tokens per call of <paramref name="score"/> (bounds the workspace; a longer
/// single input still goes alone).</param>
public sealed class PerturbedForwards(InputScore score, int tokensPerBatch = PerturbedForwards.DefaultTokensPerBatch)
{
    /// <summary>Tokens per packed batch by default: large enough to fill the GEMM tiles many times over, small enough
    /// that the forward's workspace stays in the encoder's pool (about 46 MB for MiniLM; the pool keeps up to 64 MiB).</summary>
    public const int DefaultTokensPerBatch = 2048;

    readonly Dictionary<EncoderInput, double> _scores = new(SameTokens.Instance);
    readonly List<EncoderInput> _pending = [];
    readonly HashSet<EncoderInput> _asked = new(SameTokens.Instance);

    /// <summary>Inputs asked for so far, each distinct sequence once (for tests and profiles).</summary>
    public int Distinct => _asked.Count;

    /// <summary>Inputs asked for so far, counting repeats.</summary>
    public int Requested { get; private set; }

    /// <summary>Notes each input of a batch to run later, answering NaN for each.</summary>
    public InputScore Recording => batch =>
    {
        foreach (var input in batch)
        {
            Requested++;
            if (_asked.Add(input)) _pending.Add(input);
        }
        var none = new double[batch.Count];
        Array.Fill(none, double.NaN);
        return none;
    };

    /// <summary><see cref="Recording"/> for same-length id variants of one text with token types
    /// <paramref name="typeIds"/> (blank-out, AOPC).</summary>
    public ClassScore RecordingIds(int[] typeIds) => Ids(Recording, typeIds);

    /// <summary>Runs every input noted and not yet scored, in input order, in packed batches of at most
    /// <c>tokensPerBatch</c> tokens.</summary>
    public void Run()
    {
        int start = 0;
        while (start < _pending.Count)
        {
            int end = start, tokens = 0;
            while (end < _pending.Count && (end == start || tokens + _pending[end].Length <= tokensPerBatch)) tokens += _pending[end++].Length;
            var batch = _pending.GetRange(start, end - start);
            var scores = score(batch);
            if (scores.Length != batch.Count) throw new InvalidOperationException($"the score function returned {scores.Length} values for {batch.Count} inputs");
            for (int i = 0; i < batch.Count; i++) _scores[batch[i]] = scores[i];
            start = end;
        }
        _pending.Clear();
    }

    /// <summary>Answers from the scores of <see cref="Run"/>.</summary>
    /// <exception cref="InvalidOperationException">an input that was not recorded and run.</exception>
    public InputScore Cached => batch => batch.Select(input => _scores.TryGetValue(input, out double s) ? s
        : throw new InvalidOperationException("an input was asked for that was not recorded before Run")).ToArray();

    /// <summary><see cref="Cached"/> for same-length id variants of one text with token types <paramref name="typeIds"/>.</summary>
    public ClassScore CachedIds(int[] typeIds) => Ids(Cached, typeIds);

    static ClassScore Ids(InputScore score, int[] typeIds) => batch => score(batch.Select(ids => new EncoderInput(ids, typeIds)).ToArray());
}
