using MixLens.Analysis.Evaluation;
using MixLens.Tests.Cli;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Evaluation;

public class LabeledTsvTests
{
    [Fact]
    public void Read_Sst2Dev_Has872Sentences()
    {
        var rows = LabeledTsv.Read(Path.Combine(SharedData.Root, "data", "sst2-dev.tsv"));
        Assert.Equal(872, rows.Count);
        Assert.Equal(2, rows[0].Line);
        Assert.All(rows, r => Assert.InRange(r.Label, 0, 1));
    }

    [Fact]
    public void Read_Limit_StopsEarly() =>
        Assert.Equal(3, LabeledTsv.Read(Path.Combine(SharedData.Root, "data", "sst2-dev.tsv"), limit: 3).Count);

    [Fact]
    public void Read_BadLabel_NamesTheLine()
    {
        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "bad.tsv");
        File.WriteAllText(path, "sentence\tlabel\ngood one\t1\nbad one\tx\n");
        var e = Assert.Throws<FormatException>(() => LabeledTsv.Read(path));
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void Read_MissingTab_NamesTheLine()
    {
        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "bad.tsv");
        File.WriteAllText(path, "sentence\tlabel\nno tab here\n");
        var e = Assert.Throws<FormatException>(() => LabeledTsv.Read(path));
        Assert.Contains("line 2", e.Message);
    }

    [Fact]
    public void Read_DecimalLabels_ParsedForRegressionData()
    {
        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "sts.tsv");
        File.WriteAllText(path, "sentence\tlabel\nA man plays a guitar .\t3.8\nA cat sleeps .\t-0.25\nTwo dogs run .\t4\n");
        var rows = LabeledTsv.Read(path, decimalLabels: true);
        Assert.Equal([3.8, -0.25, 4.0], rows.Select(r => r.Label));
        Assert.Equal([2, 3, 4], rows.Select(r => r.Line));
        // the same file is not class-id data
        var e = Assert.Throws<FormatException>(() => LabeledTsv.Read(path));
        Assert.Contains("line 2: the label '3.8' is not a class id", e.Message);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("3,5")]
    public void Read_DecimalLabels_NonFiniteOrLocalisedNumber_NamesTheLine(string label)
    {
        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "bad.tsv");
        File.WriteAllText(path, $"sentence\tlabel\nfine\t1.5\nbad\t{label}\n");
        var e = Assert.Throws<FormatException>(() => LabeledTsv.Read(path, decimalLabels: true));
        Assert.Contains($"line 3: the label '{label}' is not a finite number", e.Message);
    }
}
