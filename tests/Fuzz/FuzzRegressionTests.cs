using MixLens.Fuzz;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Fuzz;

/// <summary>
/// Replays the fuzzing corpora through the same target logic the fuzzer runs (tools/fuzz/Targets): every input the
/// fuzzers found to crash, hang or break the rule (tests/FuzzRegressions/TARGET/*, each fixed since) and every seed
/// (tools/fuzz/seeds/TARGET/*). An input passes when it parses, or is refused with the parser's documented exception
/// naming the file, within the allocation budget and the time limit (docs/robustness.md, "Fuzzing").
/// </summary>
public class FuzzRegressionTests
{
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    static readonly string RegressionRoot = Path.Combine(SharedData.RepoRoot, "tests", "FuzzRegressions");
    static readonly string SeedRoot = Path.Combine(SharedData.RepoRoot, "tools", "fuzz", "seeds");

    public static TheoryData<string, string> Regressions => Inputs(RegressionRoot);
    public static TheoryData<string, string> Seeds => Inputs(SeedRoot);

    [Theory]
    [MemberData(nameof(Regressions))]
    public void RegressionInput_EndsInDocumentedOutcome(string target, string file) =>
        Replay(target, Path.Combine(RegressionRoot, target, file));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void SeedInput_EndsInDocumentedOutcome(string target, string file) =>
        Replay(target, Path.Combine(SeedRoot, target, file));

    [Fact]
    public void CorpusFolders_AreNamedAfterTargets_AndEveryTargetHasSeeds()
    {
        var names = FuzzTargets.All.Select(t => t.Name).ToHashSet();
        foreach (var root in new[] { RegressionRoot, SeedRoot })
            foreach (var dir in Directory.GetDirectories(root))
                Assert.True(names.Contains(Path.GetFileName(dir)), $"{dir} is not named after a fuzz target ({string.Join(", ", names)})");
        foreach (var name in names)
            Assert.True(Directory.Exists(Path.Combine(SeedRoot, name)) && Directory.GetFiles(Path.Combine(SeedRoot, name)).Length > 0,
                $"fuzz target '{name}' has no seeds in {SeedRoot}");
    }

    static void Replay(string targetName, string path)
    {
        var target = FuzzTargets.Find(targetName);
        byte[] input = File.ReadAllBytes(path);
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try { target.Run(input); }
            catch (Exception e) { failure = e; }
        }, maxStackSize: 16 << 20) { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(Limit), $"{path}: target '{targetName}' did not finish within {Limit.TotalSeconds} s (a hang)");
        if (failure != null)
            Assert.Fail($"{path}: target '{targetName}' broke the fuzzing rule: {failure.GetType().FullName}: {failure.Message}\n{failure.StackTrace}");
    }

    static TheoryData<string, string> Inputs(string root)
    {
        var data = new TheoryData<string, string>();
        if (!Directory.Exists(root)) return data;
        foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
                if (Path.GetFileName(file) != "README.md")
                    data.Add(Path.GetFileName(dir), Path.GetFileName(file));
        return data;
    }
}
