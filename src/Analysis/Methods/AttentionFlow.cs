using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;

namespace MixLens.Analysis.Methods;

/// <summary>
/// Attention flow: how much of output token i of layer l can flow back to input token j, as a maximum flow through
/// the attention graph of all the layers up to l.
/// Abnar &amp; Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020, arXiv:2005.00928, §3 ("Attention Flow").
/// <code>
/// nodes:     (k, a) for layers k = 0..L (k = 0: the embeddings) and tokens a = 0..n-1
/// edges:     (k, a) → (k-1, b) of capacity Ã_k[a, b], for k = 1..L
///            Ã_k = Ā_k + I with rows renormalised, Ā_k = the head-mean attention of layer k (1-based)
/// F_l[i, j] = max-flow value from node (l, i) to node (0, j);   each row i then divided by its sum
/// </code>
/// The result is [L, n, n]: entry [l-1, i, j] = F_l[i, j], row i = output token, column j = input token. Only the
/// layers 1..l enter row (l, i).
/// <para>
/// Computation: Dinic's algorithm in float64 (the generic solver is <see cref="FlowGraph"/>; here a copy specialised
/// to the dense layered graph, see <see cref="LayeredDinic"/>), with the sink T standing for the input token j:
/// edges (1, a) → T carry Ã_1[a, j]. Layer-0 tokens other than j have no outgoing edges, so leaving them out changes
/// no max-flow value; nodes above the source's layer are unreachable from it. Each (source, sink) pair is its own
/// max-flow problem (a single flow to a super-sink would give the sum over j, not each F_l[i, j]); the L·n source
/// rows run in parallel, each thread with its own flow matrices, reset between pairs. Cost: L·n² max-flows on graphs
/// of up to L·n² edges, so about n⁴; intended for short texts (the fixtures stop at 24 tokens; see
/// bench/Analysis/AttentionFlowBenchmarks.cs for 24 and 64 tokens).
/// </para>
/// <para>
/// Deviations: the residual connection is modelled as in the paper and the authors' code (attention_flow repository,
/// <c>compute_flows</c>) by adding I to the head-mean attention and renormalising the rows, i.e. 0.5·Ā + 0.5·I for
/// row-stochastic Ā, rather than from the model's actual residual stream. Capacities are computed in float64 from the
/// float32 attention; the max flow uses float64 with residual capacities ≤ 1e-12 counted as saturated (the authors
/// use networkx on float64 capacities; the max-flow value is unique, so the algorithm does not matter beyond
/// round-off).
/// </para>
/// </summary>
public static class AttentionFlow
{
    /// <summary>The trace attention flow needs: attention probabilities of every layer.</summary>
    public static TraceRequest Requirements { get; } = TraceRequest.Steps(false, LayerStep.Probs);

    /// <summary>Attention flow of one text: runs the forward pass for the attention, then <see cref="Compute(Tensor, bool, bool)"/>.</summary>
    public static Tensor Compute(BertEncoder encoder, EncoderInput input, bool allLayers = true) =>
        Compute(encoder, input, null, allLayers);

    /// <summary>Attention flow of one text, [L, n, n].</summary>
    /// <param name="trace">a trace of this text holding <see cref="Requirements"/> (null: run the forward pass here).</param>
    /// <param name="allLayers">false: only the last layer (see <see cref="Compute(Tensor, bool, bool)"/>).</param>
    /// <param name="firstRowOnly">only row 0 of the last layer (see <see cref="Compute(Tensor, bool, bool)"/>).</param>
    public static Tensor Compute(BertEncoder encoder, EncoderInput input, Trace? trace, bool allLayers = true, bool firstRowOnly = false)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        trace ??= encoder.Forward(input, Requirements).Trace;
        return Compute(RawAttention.HeadMean(trace, encoder.Config.NumHiddenLayers), allLayers, firstRowOnly);
    }

    /// <summary>Attention flow from head-mean attention matrices.</summary>
    /// <param name="headMeanAttention">Ā_l for l = 1..L, [L, n, n], row i = output token (query), column j = input token
    /// (key); non-negative and finite (as from <see cref="RawAttention.HeadMean"/>).</param>
    /// <param name="allLayers">true: every layer's flow. false: only the last layer's, F_L (the expensive one, but
    /// the one usually shown); the matrices of layers 1..L-1 in the result are then left all zero.</param>
    /// <param name="firstRowOnly">true: only row 0 of the last layer, F_L[0, ·] (the [CLS] row, evaluate's token
    /// map: n max-flows instead of n² for the last layer); every other entry is left zero. Rows are computed
    /// independently, so that row is identical to the full computation's.</param>
    /// <returns>[L, n, n]: entry [l-1, i, j] = max-flow from (l, i) to (0, j), rows divided by their sums (a row whose
    /// flows are all zero stays zero).</returns>
    /// <exception cref="ArgumentException"><paramref name="headMeanAttention"/> is not [L, n, n] with L ≥ 1, or holds a
    /// negative or non-finite entry.</exception>
    public static Tensor Compute(Tensor headMeanAttention, bool allLayers = true, bool firstRowOnly = false)
    {
        ArgumentNullException.ThrowIfNull(headMeanAttention);
        var shape = headMeanAttention.Shape;
        if (shape.Length != 3 || shape[1] != shape[2] || shape[0] < 1)
            throw new ArgumentException(
                $"attention flow needs head-mean attention as per-layer square matrices [L, n, n] with L >= 1, got [{string.Join(", ", shape)}]",
                nameof(headMeanAttention));
        int L = shape[0], n = shape[1], nn = n * n;
        var data = headMeanAttention.Data;
        for (int e = 0; e < data.Length; e++)
        {
            if (!(data[e] >= 0) || float.IsInfinity(data[e]))
                throw new ArgumentException(
                    $"attention flow needs non-negative finite attention (capacities), got {data[e]} at [{e / nn}, {e / n % n}, {e % n}]",
                    nameof(headMeanAttention));
        }
        var result = Tensor.Zeros(L, n, n);
        if (n == 0) return result;

        // Ã_k = rownorm(Ā_k + I) in float64, k = 1..L stored at [k-1].
        var capacity = new double[L * nn];
        for (int k = 0; k < L; k++)
        {
            for (int a = 0; a < n; a++)
            {
                int row = k * nn + a * n;
                double sum = 0;
                for (int b = 0; b < n; b++) sum += capacity[row + b] = data[row + b] + (a == b ? 1.0 : 0.0);
                if (sum > 0)
                    for (int b = 0; b < n; b++) capacity[row + b] /= sum;
            }
        }

        int firstLayer = allLayers && !firstRowOnly ? 1 : L;
        int rows = firstRowOnly ? 1 : (L - firstLayer + 1) * n;
        Parallel.For(0, rows, AnalysisThreads.Options,
            () => new LayeredDinic(capacity, L, n),
            (r, _, solver) =>
            {
                int l = firstLayer + r / n, i = r % n;
                solver.FlowRow(l, i, result.Data.AsSpan((l - 1) * nn + i * n, n));
                return solver;
            },
            _ => { });
        return result;
    }

    /// <summary>
    /// Dinic's algorithm (as in <see cref="FlowGraph"/>) specialised to the layered graph, one instance per thread.
    /// Nodes (k, a) for k = 1..l-1, the source (l, i) and a sink T standing for (0, j), whose in-edges (1, a) → T carry
    /// Ã_1[a, j]; layer-0 tokens other than j have no outgoing edges, so leaving them out changes no max-flow value.
    /// Capacities stay in the dense matrices Ã_k and flows in dense matrices F_k (the residual of (k, a) → (k-1, b) is
    /// Ã_k[a, b] − F_k[a, b], that of the reverse edge F_k[a, b]); node (k, a) has "virtual edges" 0..n-1 down to
    /// (k-1, b) and n..2n-1 up to (k+1, c), scanned with a current-arc pointer. The breadth-first search skips a
    /// neighbouring layer once all its nodes are labelled, which makes the first phase's search O(l·n) instead of
    /// O(l·n²), and stops when the sink is labelled (nodes at the sink's distance cannot be on a shortest path).
    /// </summary>
    sealed class LayeredDinic
    {
        const double Epsilon = FlowGraph.Epsilon;
        readonly double[] _capacity; // Ã, [L, n, n]; layer k at [k-1]
        readonly double[] _flow;     // F, [L, n, n]; layer 1 unused (the sink edges use _sinkFlow)
        readonly double[] _sinkCapacity, _sinkFlow;
        readonly int[] _level, _current, _queue, _unlabelled;
        readonly int _n, _sinkNode;
        int _l, _sinkLevel;

        public LayeredDinic(double[] capacity, int layers, int n)
        {
            _capacity = capacity;
            _n = n;
            _flow = new double[layers * n * n];
            _sinkCapacity = new double[n];
            _sinkFlow = new double[n];
            _sinkNode = (layers + 1) * n;     // node (k, a) = k·n + a
            _level = new int[_sinkNode + 1];
            _current = new int[_sinkNode + 1];
            _queue = new int[_sinkNode + 1];
            _unlabelled = new int[layers + 2];
        }

        /// <summary>Row i of F_l, divided by its sum, into <paramref name="destination"/> [n].</summary>
        public void FlowRow(int l, int i, Span<float> destination)
        {
            int n = _n, nn = n * n;
            Span<double> flows = n <= 256 ? stackalloc double[n] : new double[n];
            double sum = 0;
            for (int j = 0; j < n; j++)
            {
                if (l == 1)
                {
                    flows[j] = _capacity[i * n + j]; // a single edge (1, i) → (0, j)
                }
                else
                {
                    for (int a = 0; a < n; a++) _sinkCapacity[a] = _capacity[a * n + j];
                    _sinkFlow.AsSpan().Clear();
                    _flow.AsSpan(nn, (l - 2) * nn).Clear();                    // layers 2..l-1
                    _flow.AsSpan((l - 1) * nn + i * n, n).Clear();             // the source's row of layer l
                    flows[j] = MaxFlow(l, i);
                }
                sum += flows[j];
            }
            for (int j = 0; j < n; j++) destination[j] = sum > 0 ? (float)(flows[j] / sum) : 0f;
        }

        double MaxFlow(int l, int i)
        {
            int n = _n, source = l * n + i;
            _l = l;
            // The cuts around the source and around the sink bound the flow; reaching the smaller saves the last search.
            double outCapacity = 0, inCapacity = 0;
            for (int b = 0; b < n; b++) outCapacity += _capacity[(l - 1) * n * n + i * n + b];
            for (int a = 0; a < n; a++) inCapacity += _sinkCapacity[a];
            double bound = Math.Min(outCapacity, inCapacity);
            double done = bound - Epsilon * Math.Max(1, bound);
            double total = 0;
            while (total < done && BuildLevels(source))
            {
                Array.Clear(_current);
                while (true)
                {
                    double pushed = Augment(l, i, double.PositiveInfinity);
                    if (pushed <= 0) break;
                    total += pushed;
                }
            }
            return total;
        }

        bool BuildLevels(int source)
        {
            int n = _n, nn = n * n, l = _l;
            Array.Fill(_level, -1);
            for (int k = 1; k < l; k++) _unlabelled[k] = n;
            _unlabelled[l] = 0; // the source's layer: its other nodes are unreachable, the source is labelled
            _unlabelled[0] = 0;
            _level[source] = 0;
            int read = 0, write = 0;
            _queue[write++] = source;
            while (read < write)
            {
                int u = _queue[read++];
                int k = u / n, a = u % n, next = _level[u] + 1;
                if (k == 1)
                {
                    if (_sinkCapacity[a] - _sinkFlow[a] > Epsilon)
                    {
                        _level[_sinkNode] = next;
                        _sinkLevel = next;
                        return true;
                    }
                }
                else if (_unlabelled[k - 1] > 0)
                {
                    var cap = _capacity.AsSpan((k - 1) * nn + a * n, n);
                    var flow = _flow.AsSpan((k - 1) * nn + a * n, n);
                    int down = (k - 1) * n;
                    for (int b = 0; b < n; b++)
                    {
                        if (_level[down + b] < 0 && cap[b] - flow[b] > Epsilon)
                        {
                            _level[down + b] = next;
                            _queue[write++] = down + b;
                            _unlabelled[k - 1]--;
                        }
                    }
                }
                if (k + 1 < l && _unlabelled[k + 1] > 0)
                {
                    // Reverse edges (k+1, c) → (k, a): residual F_{k+1}[c, a].
                    int up = (k + 1) * n, column = k * nn + a;
                    for (int c = 0; c < n; c++)
                    {
                        if (_level[up + c] < 0 && _flow[column + c * n] > Epsilon)
                        {
                            _level[up + c] = next;
                            _queue[write++] = up + c;
                            _unlabelled[k + 1]--;
                        }
                    }
                }
            }
            return false;
        }

        /// <summary>Pushes up to <paramref name="limit"/> from (k, a) to the sink along level-increasing residual edges.</summary>
        double Augment(int k, int a, double limit)
        {
            int n = _n, nn = n * n, u = k * n + a, next = _level[u] + 1;
            double pushed = 0;
            ref int current = ref _current[u];
            if (k == 1)
            {
                // Down: the sink edge only (virtual edge 0).
                if (current < n)
                {
                    double r = _sinkCapacity[a] - _sinkFlow[a];
                    if (r > Epsilon && next == _sinkLevel)
                    {
                        double d = Math.Min(limit, r);
                        _sinkFlow[a] += d;
                        pushed += d;
                        if (limit - pushed <= Epsilon) return pushed;
                    }
                    current = n;
                }
            }
            else if (next < _sinkLevel)
            {
                int row = (k - 1) * nn + a * n, down = (k - 1) * n;
                for (; current < n; current++)
                {
                    int b = current;
                    if (_level[down + b] != next) continue;
                    double r = _capacity[row + b] - _flow[row + b];
                    if (r <= Epsilon) continue;
                    double d = Augment(k - 1, b, Math.Min(limit - pushed, r));
                    if (d <= 0) continue;
                    _flow[row + b] += d;
                    pushed += d;
                    if (limit - pushed <= Epsilon) return pushed;
                }
            }
            if (k + 1 < _l && next < _sinkLevel)
            {
                // Up: cancel flow on (k+1, c) → (k, a).
                int up = (k + 1) * n, column = k * nn + a;
                if (current < n) current = n;
                for (; current < 2 * n; current++)
                {
                    int c = current - n;
                    if (_level[up + c] != next) continue;
                    double r = _flow[column + c * n];
                    if (r <= Epsilon) continue;
                    double d = Augment(k + 1, c, Math.Min(limit - pushed, r));
                    if (d <= 0) continue;
                    _flow[column + c * n] -= d;
                    pushed += d;
                    if (limit - pushed <= Epsilon) return pushed;
                }
            }
            _level[u] = -1; // dead end for the rest of this phase
            return pushed;
        }
    }
}
