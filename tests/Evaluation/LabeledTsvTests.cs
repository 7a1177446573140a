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
}
