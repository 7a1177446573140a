using MixLens.Engine.Model;

namespace MixLens.Analysis.Evaluation;

/// <summary>Encoder inputs with the same ids, token types and attention mask: the same forward pass.</summary>
sealed class SameTokens : IEqualityComparer<EncoderInput>
{
    public static readonly SameTokens Instance = new();

    public bool Equals(EncoderInput? a, EncoderInput? b) =>
        ReferenceEquals(a, b) || a is not null && b is not null
        && a.InputIds.AsSpan().SequenceEqual(b.InputIds)
        && a.TokenTypeIds.AsSpan().SequenceEqual(b.TokenTypeIds)
        && (a.AttentionMask is null ? b.AttentionMask is null : b.AttentionMask is not null && a.AttentionMask.AsSpan().SequenceEqual(b.AttentionMask));

    public int GetHashCode(EncoderInput x)
    {
        var hash = new HashCode();
        hash.Add(x.Length);
        foreach (int id in x.InputIds) hash.Add(id);
        foreach (int t in x.TokenTypeIds) hash.Add(t);
        return hash.ToHashCode();
    }
}
