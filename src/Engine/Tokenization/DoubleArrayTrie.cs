namespace MixLens.Engine.Tokenization;

/// <summary>
/// A double-array trie (Aoe 1989; the layout of darts and SentencePiece) over UTF-16 code units: the child of node
/// s by unit c is t = base[s] + code(c) when check[t] = s, where code numbers the units of the keys by how often they
/// occur (1 = most often), so that the children of a node lie close together. Built once from sorted keys,
/// breadth first (the nodes every walk passes through come first in the array and stay in cache), each node's
/// children at the first base where all their slots are free. A node's unit holds its base, its parent and whether
/// a key ends there; the key's id is in a separate array.
/// </summary>
internal sealed class DoubleArrayTrie
{
    /// <summary>The root node.</summary>
    public const int Root = 0;
    /// <summary>The flag of <see cref="Unit.Base"/> that a key ends at the node, and the mask of the base itself.</summary>
    internal const int HasValue = 1 << 30, BaseMask = HasValue - 1;
    Unit[] _units;
    int[] _values;
    readonly ushort[] _codes = new ushort[0x10000];

    /// <summary>The units (for a walk inlined by the caller).</summary>
    internal Unit[] Units => _units;
    /// <summary>The code of every UTF-16 unit (0: in no key).</summary>
    internal ushort[] Codes => _codes;
    /// <summary>The id of the key ending at each node that has <see cref="HasValue"/>.</summary>
    internal int[] Values => _values;

    internal struct Unit
    {
        public int Base; // base | HasValue
        public int Check;
    }

    /// <summary>Builds the trie of the keys (each non-empty) with their ids.</summary>
    public DoubleArrayTrie(IEnumerable<KeyValuePair<string, int>> entries)
    {
        var keys = entries.OrderBy(e => e.Key, StringComparer.Ordinal).ToArray();
        var counts = new int[0x10000];
        foreach (var (key, _) in keys)
            foreach (char c in key) counts[c]++;
        var byCount = Enumerable.Range(0, 0x10000).Where(c => counts[c] > 0).OrderByDescending(c => counts[c]).ThenBy(c => c).ToArray();
        for (int i = 0; i < byCount.Length; i++) _codes[byCount[i]] = (ushort)(i + 1);

        _units = new Unit[Math.Max(1024, 2 * keys.Length)];
        _values = new int[_units.Length];
        Clear(0, _units.Length);
        _units[Root].Check = Root; // taken
        _nextCheck = 1;
        var queue = new Queue<(int Node, int Lo, int Hi, int Depth)>();
        queue.Enqueue((Root, 0, keys.Length, 0));
        var labels = new List<int>();
        while (queue.TryDequeue(out var item))
        {
            var (node, lo, hi, depth) = item;
            if (lo < hi && keys[lo].Key.Length == depth)
            {
                _units[node].Base |= HasValue;
                _values[node] = keys[lo].Value;
                lo++;
            }
            if (lo == hi) continue;
            // The children's labels: the codes of the units at depth (grouped, since the keys are sorted).
            labels.Clear();
            for (int i = lo; i < hi; i++)
            {
                int code = _codes[keys[i].Key[depth]];
                if (labels.Count == 0 || labels[^1] != code) labels.Add(code);
            }
            var sorted = labels.Order().ToArray();
            int b = FindBase(sorted);
            _units[node].Base |= b;
            foreach (int code in sorted) _units[b + code].Check = node;
            for (int i = lo; i < hi;)
            {
                char c = keys[i].Key[depth];
                int j = i + 1;
                while (j < hi && keys[j].Key[depth] == c) j++;
                queue.Enqueue((b + _codes[c], i, j, depth + 1));
                i = j;
            }
        }
    }

    /// <summary>The child of <paramref name="node"/> by <paramref name="c"/>, or -1.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public int Child(int node, char c)
    {
        int code = _codes[c];
        if (code == 0) return -1;
        var units = _units;
        uint t = (uint)((units[node].Base & BaseMask) + code);
        return t < (uint)units.Length && units[t].Check == node ? (int)t : -1;
    }

    /// <summary>The id of the key ending at <paramref name="node"/>, or -1.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public int Value(int node) => (_units[node].Base & HasValue) != 0 ? _values[node] : -1;

    /// <summary>The id of the key <paramref name="key"/>, or -1.</summary>
    public int Find(ReadOnlySpan<char> key)
    {
        int node = FindNode(key);
        return node < 0 ? -1 : Value(node);
    }

    /// <summary>The node reached by <paramref name="key"/> from the root, or -1.</summary>
    public int FindNode(ReadOnlySpan<char> key)
    {
        int node = Root;
        foreach (char c in key)
            if ((node = Child(node, c)) < 0) return -1;
        return node;
    }

    int _nextCheck;

    /// <summary>darts-clone's search: the first base b ≥ 1 with every slot b + label free, starting at the first free
    /// slot; the start moves on once the slots before a found base are 95% taken.</summary>
    int FindBase(int[] labels)
    {
        int first = labels[0];
        int pos = Math.Max(_nextCheck, first + 1) - 1;
        int taken = 0;
        bool seenFree = false;
        while (true)
        {
            pos++;
            Ensure(pos);
            if (_units[pos].Check >= 0)
            {
                taken++;
                continue;
            }
            if (!seenFree)
            {
                _nextCheck = pos;
                seenFree = true;
            }
            int b = pos - first;
            Ensure(b + labels[^1]);
            bool fits = true;
            for (int k = 1; k < labels.Length && fits; k++) fits = _units[b + labels[k]].Check < 0;
            if (!fits) continue;
            if ((double)taken / (pos - _nextCheck + 1) >= 0.95) _nextCheck = pos;
            return b;
        }
    }

    void Ensure(int index)
    {
        if (index < _units.Length) return;
        int old = _units.Length;
        int size = Math.Max(index + 1, 2 * old);
        Array.Resize(ref _units, size);
        Array.Resize(ref _values, size);
        Clear(old, size);
    }

    void Clear(int from, int to)
    {
        for (int i = from; i < to; i++) _units[i] = new Unit { Check = -1 };
    }
}
