namespace MixLens.Engine.Tokenization;

/// <summary>
/// A <see cref="DoubleArrayTrie"/> of the Unigram pieces laid out for the Viterbi walk (<see cref="UnigramModel"/>),
/// where much of the time goes into reading units that are not in cache. Each 16-byte <see cref="Unit"/> holds all
/// that a step reads: base and check, a mask of the codes of the node's children (bit <c>code mod 32</c>), so that a
/// step to a child that does not exist, which ends every walk that does not run to the end of the word, is refused
/// from the unit already read instead of probing a unit elsewhere; and the id of the piece ending at the node, whose
/// score is then read from a small array by id.
/// The child of node s by code c is t = base[s] + c when bit c mod 32 of s's mask is set and check[t] = s.
/// </summary>
internal sealed class ViterbiTrie
{
    /// <summary>One node: its base (with <see cref="DoubleArrayTrie.HasValue"/>), its parent, the mask of its
    /// children's codes mod 32, and the id of the piece ending there (when <see cref="DoubleArrayTrie.HasValue"/>).</summary>
    internal struct Unit
    {
        public int Base;
        public int Check;
        public uint Children;
        public int Id;
    }

    /// <summary>The units, indexed by node.</summary>
    internal Unit[] Units { get; }
    /// <summary>The code of every UTF-16 unit (0: in no piece), as <see cref="DoubleArrayTrie.Codes"/>.</summary>
    internal ushort[] Codes { get; }

    /// <summary>Lays out <paramref name="trie"/>, whose values are piece ids.</summary>
    public ViterbiTrie(DoubleArrayTrie trie)
    {
        var units = trie.Units;
        var values = trie.Values;
        Units = new Unit[units.Length];
        Codes = trie.Codes;
        for (int i = 0; i < units.Length; i++)
        {
            bool hasValue = (units[i].Base & DoubleArrayTrie.HasValue) != 0;
            Units[i] = new Unit { Base = units[i].Base, Check = units[i].Check, Id = hasValue ? values[i] : -1 };
        }
        // Every taken unit but the root is the child of its check by code t - base[check].
        for (int t = 0; t < units.Length; t++)
        {
            int parent = units[t].Check;
            if (t == DoubleArrayTrie.Root || parent < 0) continue;
            int code = t - (units[parent].Base & DoubleArrayTrie.BaseMask);
            Units[parent].Children |= 1u << code;
        }
    }
}
