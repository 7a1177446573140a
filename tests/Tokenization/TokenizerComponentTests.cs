using MixLens.Engine.Tokenization;

namespace MixLens.Tests.Tokenization;

/// <summary>Truncation arithmetic, character classes and added-token matching, each against HF's own rules/tests.</summary>
public sealed class TokenizerComponentTests
{
    [Theory]
    [InlineData(10, null, 4, 4, 0)]
    [InlineData(3, null, 4, 3, 0)]
    [InlineData(10, 3, 8, 5, 3)]   // the shorter fits in half: kept whole
    [InlineData(3, 10, 8, 3, 5)]
    [InlineData(10, 10, 7, 3, 4)]  // equal: A gets the floor, B the ceiling
    [InlineData(12, 10, 7, 4, 3)]  // A longer: A gets the ceiling
    [InlineData(5, 6, 20, 5, 6)]   // fits
    [InlineData(5, 6, 0, 0, 0)]
    public void LongestFirst_Lengths_MatchRustClosedForm(int a, int? b, int max, int keepA, int keepB)
    {
        Assert.Equal((keepA, keepB), Truncation.LongestFirst(a, b, max));
    }

    [Theory]
    [InlineData(0xFDD0, false)]   // noncharacter: not "other" in unicode_categories
    [InlineData(0xFFFE, false)]
    [InlineData(0x0378, false)]   // unassigned
    [InlineData(0x200B, true)]    // ZWSP, Cf
    [InlineData(0x00AD, true)]    // soft hyphen, Cf
    [InlineData(0xE001, true)]    // private use
    [InlineData(0x0085, true)]    // NEL, Cc
    [InlineData('a', false)]
    public void IsOther_CodePoint_MatchesUnicodeCategoriesCrate(int c, bool expected) => Assert.Equal(expected, CharProperties.IsOther(c));

    [Theory]
    [InlineData('$', true)]
    [InlineData('^', true)]
    [InlineData('`', true)]
    [InlineData('~', true)]
    [InlineData(0x00BF, true)]    // ¿ Po
    [InlineData(0x2014, true)]    // em dash Pd
    [InlineData(0x00A7, true)]    // § Po
    [InlineData(0x20AC, false)]   // € Sc
    [InlineData('a', false)]
    public void IsBertPunctuation_CodePoint_IsAsciiOrUnicode8Punctuation(int c, bool expected) => Assert.Equal(expected, CharProperties.IsBertPunctuation(c));

    [Fact]
    public void IsMarkNonspacing_AdlamMarks_AreNotMarksInTheCratesTables()
    {
        Assert.True(CharProperties.IsMarkNonspacing(0x0301));
        Assert.False(CharProperties.IsMarkNonspacing(0x1E944)); // Mn only since Unicode 9.0
        Assert.False(CharProperties.IsMarkNonspacing(0x093E));  // Mc stays
    }

    static List<(string Text, bool IsToken)> Split(string text, AddedToken token)
    {
        var vocabulary = new AddedVocabulary([token], new LowercaseNormalizer());
        var normalized = new NormalizedText(text, 0, text.Length);
        normalized.Lowercase();
        var pieces = new List<AddedVocabulary.Piece>();
        vocabulary.SplitNormalized(normalized, 0, normalized.Length, pieces);
        return pieces.Select(p => (normalized.Substring(p.Start, p.End), p.Token is not null)).ToList();
    }

    [Fact]
    public void AddedVocabulary_SingleWord_SkipsGluedMatches()
    {
        // HF added_vocabulary.rs test_single_word_is_correct
        var pieces = Split("<mask> My name <mask> A<mask> <mask>ony <mask>", new AddedToken("<mask>", 1, SingleWord: true));

        Assert.Equal([("<mask>", true), (" my name ", false), ("<mask>", true), (" a<mask> <mask>ony ", false), ("<mask>", true)], pieces);
    }

    [Fact]
    public void AddedVocabulary_SingleWord_CombiningMarkIsAWordChar()
    {
        // HF added_vocabulary.rs test_single_word_is_unicode_correct
        var pieces = Split("<mask>, <mask>- ◌̰<mask>", new AddedToken("<mask>", 1, SingleWord: true));

        Assert.Equal([("<mask>", true), (", ", false), ("<mask>", true), ("- ◌̰<mask>", false)], pieces);
    }

    [Fact]
    public void AddedVocabulary_LstripRstrip_TakeUnicodeSpaces()
    {
        // HF added_vocabulary.rs test_lstrip_unicode_space
        var pieces = Split("Hi <mask> there\t<mask>\t<mask>\u2000", new AddedToken("<mask>", 1, SingleWord: true, Lstrip: true, Rstrip: true));

        Assert.Equal([("hi", false), (" <mask> ", true), ("there", false), ("\t<mask>\t", true), ("<mask>\u2000", true)], pieces);
    }

    [Fact]
    public void AddedVocabulary_LeftmostLongest_PrefersTheLongerToken()
    {
        var vocabulary = new AddedVocabulary([new AddedToken("[A]", 1, Normalized: false), new AddedToken("[A]]", 2, Normalized: false)], null);
        var text = new NormalizedText("x[A]]y[A]", 0, 9);
        var pieces = new List<AddedVocabulary.Piece>();

        vocabulary.SplitRaw(text, 0, text.Length, pieces);

        Assert.Equal([(0, 1, (int?)null), (1, 5, 2), (5, 6, null), (6, 9, 1)], pieces.Select(p => (p.Start, p.End, p.Token?.Id)));
    }
}
