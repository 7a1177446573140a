using MixLens.Engine;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Docs;

/// <summary>
/// docs/walkthrough.md prints numbers of a real forward pass; this test computes them again (<see cref="WalkthroughNumbers"/>)
/// and compares them with the page's marked blocks, to the precision the page prints, so that the page cannot drift
/// from the code. To rewrite the blocks after a deliberate change, run it with <c>MIXLENS_UPDATE_DOCS=1</c>.
/// </summary>
public class WalkthroughPageTests(ITestOutputHelper output)
{
    /// <summary>Relative difference allowed beyond the printed digits (float32 rounding differs between SIMD paths).</summary>
    const double Slack = 1e-5;

    static string PagePath => Path.Combine(SharedData.RepoRoot, "docs", "walkthrough.md");

    [Fact]
    public void WalkthroughPage_NumbersOfEveryBlock_MatchTheEngine()
    {
        using var model = EncoderModel.Load(SharedData.Models(WalkthroughNumbers.Model));
        var rendered = WalkthroughNumbers.Render(model);
        string page = File.ReadAllText(PagePath);

        if (Environment.GetEnvironmentVariable("MIXLENS_UPDATE_DOCS") == "1")
        {
            page = MarkedBlocks.Replace(page, rendered.ToDictionary(kv => kv.Key, kv => kv.Value.ToString()));
            File.WriteAllText(PagePath, page);
            output.WriteLine($"rewrote the {rendered.Count} blocks of {PagePath}");
        }

        var blocks = MarkedBlocks.Read(page);
        Assert.Equal(rendered.Keys.Order(), blocks.Keys.Order());
        var failures = new List<string>();
        foreach (var (id, block) in rendered)
        {
            output.WriteLine($"<!-- numbers: {id} -->\n{block}");
            if (!block.Matches(blocks[id], Slack, out var why)) failures.Add($"block '{id}': {why}");
        }
        Assert.True(failures.Count == 0, $"docs/walkthrough.md differs from the engine (MIXLENS_UPDATE_DOCS=1 rewrites it):\n{string.Join("\n", failures)}");
    }

    [Fact]
    public void Matches_DigitChanged_Fails()
    {
        var block = new NumberBlock().Text("x = ").Number(0.12344, "F4").Line();
        Assert.True(block.Matches("x = 0.1234\n", Slack, out _));
        Assert.False(block.Matches("x = 0.1236\n", Slack, out var why));
        Assert.Contains("0.1236", why);
        Assert.False(block.Matches("y = 0.1234\n", Slack, out _));
        Assert.False(block.Matches("x = 0.1234\nmore\n", Slack, out _));
        Assert.False(block.Matches("x = \n", Slack, out _));
    }

    [Fact]
    public void Matches_ValueNearARoundingBoundary_AcceptsEitherNeighbour()
    {
        // 0.12345 is printed 0.1234 or 0.1235 depending on the last float bit; both are within half a unit.
        var block = new NumberBlock().Number(0.123450001, "F4");
        Assert.True(block.Matches("0.1234", Slack, out _));
        Assert.True(block.Matches("0.1235", Slack, out _));
        Assert.False(block.Matches("0.1233", Slack, out _));
        var small = new NumberBlock().Number(1.2345e-3, "0.00e+0");
        Assert.True(small.Matches("1.23e-3", 0, out _));
        Assert.False(small.Matches("1.20e-3", 0, out _));
    }

    [Fact]
    public void MarkedBlocks_ReadAndReplace_RoundTrip()
    {
        const string page = "intro\n<!-- numbers: a -->\n```\n1 2\n3\n```\ntext\n<!-- numbers: b-2 -->\n```text\n```\nend\n";
        var blocks = MarkedBlocks.Read(page);
        Assert.Equal("1 2\n3\n", blocks["a"]);
        Assert.Equal("", blocks["b-2"]);
        string replaced = MarkedBlocks.Replace(page, new Dictionary<string, string> { ["b-2"] = "4\n" });
        Assert.Equal(page.Replace("```text\n```", "```text\n4\n```"), replaced);
    }
}
