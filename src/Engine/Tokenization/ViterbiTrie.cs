namespace MixLens.Engine.Tokenization;

/// <summary>
/// A <see cref="DoubleArrayTrie"/> of the Unigram pieces laid out for the Viterbi walk (<see cref="UnigramModel"/>),
/// where nearly all the time goes into reading units that are not in cache:
/// <list type="bullet">
/// <item>each 16-byte <see cref="Unit"/> holds, beside base and check, a 64-bit mask of the codes of its children
/// (bit <c>code mod 64</c>), so a step to a child that does not exist, which ends every walk that does not run to
/// the end of the word, is refused from the unit already read instead of probing a unit elsewhere;</item>
/// <item>the score and id of the piece ending at a node are in <see cref="Values"/>, read only at nodes that end a
/// piece, off the chain of dependent unit reads.</item>
/// </list>
/// The child of node s by code c is t = base[s] + c when bit c mod 64 of s's mask is set and check[t] = s.
/// </summary>
internal sealed class ViterbiTrie
{
    /// <summary>One node: its base (with <see cref="DoubleArrayTrie.HasValue"/>), its parent, and the mask of its
    /// children's codes mod 64.</summary>
    internal struct Unit
    {
        public int Base;
        public int Check;
        public ulong Children;
    }

    /// <summary>The score and id of the piece ending at a node.</summary>
    internal struct Value
    {
        public double Score;
        public int Id;
    }

    /// <summary>The units, indexed by node.</summary>
    internal Unit[] Units { get; }
    /// <summary>The piece ending at each node with <see cref="DoubleArrayTrie.HasValue"/>, indexed by node.</summary>
    internal Value[] Values { get; }
    /// <summary>The code of every UTF-16 unit (0: in no piece), as <see cref="DoubleArrayTrie.Codes"/>.</summary>
    internal ushort[] Codes { get; }

    /// <summary>Lays out <paramref name="trie"/>, whose values are piece ids, with the pieces' scores.</summary>
    public ViterbiTrie(DoubleArrayTrie trie, double[] scores)
    {
        var units = trie.Units;
        var values = trie.Values;
        Units = new Unit[units.Length];
        Values = new Value[units.Length];
        Codes = trie.Codes;
        for (int i = 0; i < units.Length; i++)
        {
            Units[i] = new Unit { Base = units[i].Base, Check = units[i].Check };
            if ((units[i].Base & DoubleArrayTrie.HasValue) != 0) Values[i] = new Value { Score = scores[values[i]], Id = values[i] };
        }
        // Every taken unit but the root is the child of its check by code t - base[check].
        for (int t = 0; t < units.Length; t++)
        {
            int parent = units[t].Check;
            if (t == DoubleArrayTrie.Root || parent < 0) continue;
            int code = t - (units[parent].Base & DoubleArrayTrie.BaseMask);
            Units[parent].Children |= 1UL << code;
        }
    }
}
