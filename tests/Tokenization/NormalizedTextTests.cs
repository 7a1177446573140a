using MixLens.Engine.Tokenization;

namespace MixLens.Tests.Tokenization;

/// <summary>Alignment tracking of <see cref="NormalizedText"/> through HF's transform rules.</summary>
public sealed class NormalizedTextTests
{
    static (int, int)[] Alignments(NormalizedText text) => Enumerable.Range(0, text.Length).Select(text.Alignment).ToArray();

    [Fact]
    public void Constructor_SurrogatePair_IsOneCharSpanningTwoUnits()
    {
        var text = new NormalizedText("a😂b", 0, 4);

        Assert.Equal([(int)'a', 0x1F602, 'b'], text.Chars.ToArray());
        Assert.Equal([(0, 1), (1, 3), (3, 4)], Alignments(text));
    }

    [Fact]
    public void Lowercase_DottedCapitalI_GivesTwoCharsWithTheSourceSpan()
    {
        var text = new NormalizedText("xİy", 0, 3);

        text.Lowercase();

        Assert.Equal("xi\u0307y", text.ToString());
        Assert.Equal([(0, 1), (1, 2), (1, 2), (2, 3)], Alignments(text));
    }

    [Fact]
    public void Lowercase_FinalSigma_HasNoContextRule()
    {
        var text = new NormalizedText("ΣΑΣ", 0, 3);

        text.Lowercase();

        Assert.Equal("σασ", text.ToString());
    }

    [Fact]
    public void Nfd_ThenFilterMarks_KeepsBaseLetterSpan()
    {
        var text = new NormalizedText("Ünï", 0, 3);

        text.Nfd();
        Assert.Equal("U\u0308ni\u0308", text.ToString());
        Assert.Equal([(0, 1), (0, 1), (1, 2), (2, 3), (2, 3)], Alignments(text));

        text.Filter(c => !CharProperties.IsMarkNonspacing(c));
        Assert.Equal("Uni", text.ToString());
        Assert.Equal([(0, 1), (1, 2), (2, 3)], Alignments(text));
    }

    [Fact]
    public void Nfd_MarksOutOfCanonicalOrder_AreReorderedWithTheirSpans()
    {
        // a + U+0301 (ccc 230) + U+0316 (ccc 220): NFD puts U+0316 first; as HF, spans are then given by position.
        var text = new NormalizedText("a\u0301\u0316", 0, 3);

        text.Nfd();

        Assert.Equal("a\u0316\u0301", text.ToString());
        Assert.Equal([(0, 1), (1, 2), (2, 3)], Alignments(text));
    }

    [Fact]
    public void PadWithSpaces_InsertedSpacesTakeThePreviousSpan()
    {
        var text = new NormalizedText("a北", 0, 2);

        text.PadWithSpaces(CharProperties.IsChineseChar);

        Assert.Equal("a 北 ", text.ToString());
        Assert.Equal([(0, 1), (0, 1), (1, 2), (1, 2)], Alignments(text));
    }

    [Fact]
    public void Transform_Changes_FollowHuggingFaceRule()
    {
        var text = new NormalizedText("abcd", 0, 4);

        // "X" replaces a and drops b; "Y" is inserted (takes the span of the last consumed char, b); "Z" replaces c;
        // d, never consumed, is left out.
        text.Transform(['X', 'Y', 'Z'], [-1, 1, 0]);

        Assert.Equal("XYZ", text.ToString());
        Assert.Equal([(0, 1), (1, 2), (2, 3)], Alignments(text));
        Assert.Equal((0, 3), text.OriginalSpan(0, 3));
    }

    [Fact]
    public void Transform_InitialOffset_DropsLeadingChars()
    {
        var text = new NormalizedText("xyz", 0, 3);

        text.Transform(['Y', 'Z'], [0, 0], initialOffset: 1);

        Assert.Equal([(1, 2), (2, 3)], Alignments(text));
    }

    [Fact]
    public void Constructor_SubRange_KeepsAbsoluteSpans()
    {
        var text = new NormalizedText("hello world", 6, 11);

        Assert.Equal("world", text.ToString());
        Assert.Equal((6, 11), text.OriginalSpan(0, 5));
    }
}
