namespace MixLens.Analysis.Methods;

/// <summary>
/// Maximum flow by Dinic's algorithm (Dinic 1970; see e.g. Cormen et al., "Introduction to Algorithms", §26, and
/// Ahuja, Magnanti &amp; Orlin, "Network Flows", §7.4): repeated phases of a breadth-first search that assigns each node
/// its distance from the source in the residual graph (the level graph), then a blocking flow found by depth-first
/// search along level-increasing residual edges, with a current-arc pointer per node so that no edge is scanned twice
/// in a phase after it is found useless.
/// <para>
/// The topology is built once (<see cref="AddEdge"/>, then <see cref="Freeze"/>) and solved many times: the residual
/// capacities live in a caller-owned array (one per thread), initialised from <see cref="InitialResidual"/> or any
/// other capacities of the same edges, so one graph serves many (source, sink, capacity) problems in parallel.
/// Capacities are float64; a residual capacity counts as positive only above <see cref="Epsilon"/>, so that round-off
/// left on a saturated edge (1e-17 and the like) does not start endless augmentations of negligible flow.
/// </para>
/// </summary>
public sealed class FlowGraph
{
    /// <summary>Residual capacities at or below this count as zero.</summary>
    public const double Epsilon = 1e-12;

    readonly int _nodes;
    readonly List<int> _from = [], _to = [];
    readonly List<double> _capacity = [];
    int[] _head = [], _adjacency = [], _target = [];
    double[] _initial = [];

    /// <summary>A graph of <paramref name="nodes"/> nodes, 0..nodes-1, and no edges yet.</summary>
    public FlowGraph(int nodes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nodes);
        _nodes = nodes;
    }

    public int NodeCount => _nodes;

    /// <summary>Residual edges: every edge added and its reverse (edge e's reverse is e ^ 1).</summary>
    public int EdgeCount => _to.Count * 2;

    public bool IsFrozen { get; private set; }

    /// <summary>Adds edge <paramref name="from"/> → <paramref name="to"/>; returns its id (its reverse is id ^ 1).</summary>
    public int AddEdge(int from, int to, double capacity = 0)
    {
        if (IsFrozen) throw new InvalidOperationException("the graph is frozen");
        if ((uint)from >= (uint)_nodes || (uint)to >= (uint)_nodes)
            throw new ArgumentOutOfRangeException(nameof(to), $"edge {from} -> {to} outside nodes 0..{_nodes - 1}");
        if (!(capacity >= 0) || double.IsInfinity(capacity))
            throw new ArgumentOutOfRangeException(nameof(capacity), $"capacity must be finite and non-negative, got {capacity}");
        _from.Add(from);
        _to.Add(to);
        _capacity.Add(capacity);
        return (_to.Count - 1) * 2;
    }

    /// <summary>Builds the adjacency lists (compressed rows); no edges can be added after this.</summary>
    public void Freeze()
    {
        if (IsFrozen) return;
        int m = _to.Count;
        _target = new int[2 * m];
        _initial = new double[2 * m];
        var degree = new int[_nodes + 1];
        for (int k = 0; k < m; k++)
        {
            _target[2 * k] = _to[k];
            _target[2 * k + 1] = _from[k];
            _initial[2 * k] = _capacity[k];
            degree[_from[k] + 1]++;
            degree[_to[k] + 1]++;
        }
        for (int u = 0; u < _nodes; u++) degree[u + 1] += degree[u];
        _head = degree;
        _adjacency = new int[2 * m];
        var fill = new int[_nodes];
        for (int e = 0; e < 2 * m; e++)
        {
            int u = (e & 1) == 0 ? _from[e >> 1] : _to[e >> 1];
            _adjacency[_head[u] + fill[u]++] = e;
        }
        IsFrozen = true;
    }

    /// <summary>The residual capacities before any flow: each edge's capacity, 0 on the reverse edges.</summary>
    public ReadOnlySpan<double> InitialResidual => Frozen()._initial;

    /// <summary>A fresh residual array (<see cref="InitialResidual"/> copied).</summary>
    public double[] NewResidual() => Frozen()._initial.ToArray();

    /// <summary>Scratch arrays for <see cref="MaxFlow"/> (one per thread).</summary>
    public Workspace NewWorkspace() => new(Frozen()._nodes);

    /// <summary>
    /// The maximum flow value from <paramref name="source"/> to <paramref name="sink"/> on the residual capacities
    /// <paramref name="residual"/> (length <see cref="EdgeCount"/>), which are updated in place: afterwards
    /// residual[e ^ 1] − (initial reverse capacity) is the flow on edge e.
    /// </summary>
    public double MaxFlow(int source, int sink, Span<double> residual, Workspace workspace)
    {
        Frozen();
        if ((uint)source >= (uint)_nodes || (uint)sink >= (uint)_nodes)
            throw new ArgumentOutOfRangeException(nameof(sink), $"source {source} / sink {sink} outside nodes 0..{_nodes - 1}");
        if (residual.Length != _target.Length)
            throw new ArgumentException($"residual has {residual.Length} entries, the graph {_target.Length} residual edges", nameof(residual));
        if (workspace.Level.Length != _nodes)
            throw new ArgumentException("workspace of another graph", nameof(workspace));
        if (source == sink) return 0;
        // The cuts around the source and around the sink bound the flow; reaching the smaller saves the last search.
        double bound = Math.Min(OutCapacity(source, residual), InCapacity(sink, residual));
        double done = bound - Epsilon * Math.Max(1, bound);
        double total = 0;
        while (total < done && BuildLevels(source, sink, residual, workspace))
        {
            Array.Copy(_head, workspace.Current, _nodes);
            while (true)
            {
                double pushed = Augment(source, sink, double.PositiveInfinity, residual, workspace);
                if (pushed <= 0) break;
                total += pushed;
            }
        }
        return total;
    }

    double OutCapacity(int u, Span<double> residual)
    {
        double sum = 0;
        for (int a = _head[u], end = _head[u + 1]; a < end; a++) sum += residual[_adjacency[a]];
        return sum;
    }

    double InCapacity(int u, Span<double> residual)
    {
        double sum = 0;
        for (int a = _head[u], end = _head[u + 1]; a < end; a++) sum += residual[_adjacency[a] ^ 1];
        return sum;
    }

    /// <summary>Breadth-first levels from the source over residual edges; false when the sink is unreachable.</summary>
    bool BuildLevels(int source, int sink, Span<double> residual, Workspace w)
    {
        var level = w.Level;
        var queue = w.Queue;
        Array.Fill(level, -1);
        level[source] = 0;
        int read = 0, write = 0;
        queue[write++] = source;
        while (read < write)
        {
            int u = queue[read++];
            int next = level[u] + 1;
            // Nodes at the sink's distance or beyond cannot lie on a shortest augmenting path.
            if (level[sink] >= 0 && next > level[sink]) break;
            for (int a = _head[u], end = _head[u + 1]; a < end; a++)
            {
                int e = _adjacency[a];
                int v = _target[e];
                if (level[v] < 0 && residual[e] > Epsilon)
                {
                    level[v] = next;
                    queue[write++] = v;
                }
            }
        }
        return level[sink] >= 0;
    }

    /// <summary>
    /// Pushes up to <paramref name="limit"/> from <paramref name="u"/> to the sink along level-increasing residual
    /// edges (as much as it can through all of u's edges, advancing u's current arc past useless ones).
    /// </summary>
    double Augment(int u, int sink, double limit, Span<double> residual, Workspace w)
    {
        if (u == sink) return limit;
        var level = w.Level;
        var current = w.Current;
        int sinkLevel = level[sink];
        int next = level[u] + 1;
        double pushed = 0;
        for (int end = _head[u + 1]; current[u] < end; current[u]++)
        {
            int e = _adjacency[current[u]];
            int v = _target[e];
            double r = residual[e];
            if (level[v] != next || r <= Epsilon || (next == sinkLevel && v != sink)) continue;
            double d = Augment(v, sink, Math.Min(limit - pushed, r), residual, w);
            if (d <= 0) continue;
            residual[e] -= d;
            residual[e ^ 1] += d;
            pushed += d;
            // Limit reached: keep the current arc, the edge may still carry more in this phase.
            if (limit - pushed <= Epsilon) return pushed;
        }
        level[u] = -1; // dead end for the rest of this phase
        return pushed;
    }

    FlowGraph Frozen() => IsFrozen ? this : throw new InvalidOperationException("call Freeze() first");

    /// <summary>Per-thread scratch arrays of one graph.</summary>
    public sealed class Workspace
    {
        internal readonly int[] Level, Queue, Current;

        internal Workspace(int nodes)
        {
            Level = new int[nodes];
            Queue = new int[nodes];
            Current = new int[nodes];
        }
    }
}
