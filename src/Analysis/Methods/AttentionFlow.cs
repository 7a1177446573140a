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
/// Computation: one flow graph per text (<see cref="FlowGraph"/>, Dinic's algorithm in float64) with nodes (k, a) for
/// k = 1..L and a single sink T standing for the input token j: edges (1, a) → T carry Ã_1[a, j], set for each j.
/// Layer-0 tokens other than j have no outgoing edges, so dropping them leaves every max-flow value unchanged. Nodes
/// above the source's layer are unreachable from it, so a run from (l, i) touches only layers ≤ l, and only that part
/// of the residual capacities is reset between runs. Each (source, sink) pair is its own max-flow problem (a single
/// flow to a super-sink would give the sum over j, not each F_l[i, j]); the L·n source rows run in parallel, each
/// thread with its own copy of the residual capacities. Cost: L·n² max-flows on graphs of up to L·n² edges;
/// intended for short texts (the fixtures stop at 24 tokens; 64 tokens take a few seconds, see the benchmarks).
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

    /// <summary>Attention flow of one text: runs the forward pass for the attention, then <see cref="Compute(Tensor, bool)"/>.</summary>
    public static Tensor Compute(BertEncoder encoder, EncoderInput input, bool allLayers = true) =>
        Compute(encoder, input, null, allLayers);

    /// <summary>Attention flow of one text, [L, n, n].</summary>
    /// <param name="trace">a trace of this text holding <see cref="Requirements"/> (null: run the forward pass here).</param>
    /// <param name="allLayers">false: only the last layer (see <see cref="Compute(Tensor, bool)"/>).</param>
    public static Tensor Compute(BertEncoder encoder, EncoderInput input, Trace? trace, bool allLayers = true)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        trace ??= encoder.Forward(input, Requirements).Trace;
        return Compute(RawAttention.HeadMean(trace, encoder.Config.NumHiddenLayers), allLayers);
    }

    /// <summary>Attention flow from head-mean attention matrices.</summary>
    /// <param name="headMeanAttention">Ā_l for l = 1..L, [L, n, n], row i = output token (query), column j = input token
    /// (key); non-negative and finite (as from <see cref="RawAttention.HeadMean"/>).</param>
    /// <param name="allLayers">true: every layer's flow. false: only the last layer's, F_L (the expensive one, but
    /// the one usually shown); the matrices of layers 1..L-1 in the result are then left all zero.</param>
    /// <returns>[L, n, n]: entry [l-1, i, j] = max-flow from (l, i) to (0, j), rows divided by their sums (a row whose
    /// flows are all zero stays zero).</returns>
    /// <exception cref="ArgumentException"><paramref name="headMeanAttention"/> is not [L, n, n] with L ≥ 1, or holds a
    /// negative or non-finite entry.</exception>
    public static Tensor Compute(Tensor headMeanAttention, bool allLayers = true)
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

        var network = new LayeredNetwork(capacity, L, n);
        int firstLayer = allLayers ? 1 : L;
        int rows = (L - firstLayer + 1) * n;
        Parallel.For(0, rows,
            () => network.NewRunner(),
            (r, _, runner) =>
            {
                int l = firstLayer + r / n, i = r % n;
                var destination = result.Data.AsSpan((l - 1) * nn + i * n, n);
                runner.FlowRow(l, i, destination);
                return runner;
            },
            _ => { });
        return result;
    }

    /// <summary>
    /// The flow graph of one text: nodes (k, a) = (k-1)·n + a for k = 1..L, sink T = L·n. Forward edges are added in
    /// layer order (sink edges (1, a) → T first, then layer 2 → 1, ..., L → L-1), so the residual entries of layers
    /// 1..k form a prefix of the residual array.
    /// </summary>
    sealed class LayeredNetwork
    {
        readonly FlowGraph _graph;
        readonly double[] _capacity; // Ã, [L, n, n]
        readonly int[] _prefixEnd;   // _prefixEnd[k]: residual entries of the sink edges and layers 2..k
        readonly int _layers, _n;

        public LayeredNetwork(double[] capacity, int layers, int n)
        {
            _capacity = capacity;
            _layers = layers;
            _n = n;
            int sink = layers * n;
            _graph = new FlowGraph(layers * n + 1);
            _prefixEnd = new int[layers + 1];
            for (int a = 0; a < n; a++) _graph.AddEdge(a, sink); // capacity set per sink token j
            _prefixEnd[1] = 2 * n;
            for (int k = 2; k <= layers; k++)
            {
                for (int a = 0; a < n; a++)
                    for (int b = 0; b < n; b++)
                        _graph.AddEdge((k - 1) * n + a, (k - 2) * n + b, capacity[(k - 1) * n * n + a * n + b]);
                _prefixEnd[k] = _prefixEnd[k - 1] + 2 * n * n;
            }
            _graph.Freeze();
        }

        public Runner NewRunner() => new(this);

        /// <summary>One thread's residual capacities and scratch arrays.</summary>
        public sealed class Runner(LayeredNetwork network)
        {
            readonly double[] _residual = network._graph.NewResidual();
            readonly FlowGraph.Workspace _workspace = network._graph.NewWorkspace();
            // Residual entries beyond _prefixEnd[_dirtyLayers] still hold the initial capacities.
            int _dirtyLayers;

            /// <summary>Row i of F_l, divided by its sum, into <paramref name="destination"/> [n].</summary>
            public void FlowRow(int l, int i, Span<float> destination)
            {
                var net = network;
                int n = net._n, sink = net._layers * n, source = (l - 1) * n + i;
                var initial = net._graph.InitialResidual;
                // Layers above l are unreachable from (l, i) as long as their residuals are the initial ones (in
                // particular the reverse edges into layer l carry nothing): restore everything earlier runs changed.
                int restore = net._prefixEnd[Math.Max(l, _dirtyLayers)];
                var flows = new double[n];
                double sum = 0;
                for (int j = 0; j < n; j++)
                {
                    initial[..restore].CopyTo(_residual);
                    for (int a = 0; a < n; a++) _residual[2 * a] = net._capacity[a * n + j]; // Ã_1[a, j]
                    flows[j] = net._graph.MaxFlow(source, sink, _residual, _workspace);
                    sum += flows[j];
                    restore = net._prefixEnd[l];
                }
                _dirtyLayers = l;
                for (int j = 0; j < n; j++) destination[j] = sum > 0 ? (float)(flows[j] / sum) : 0f;
            }
        }
    }
}
