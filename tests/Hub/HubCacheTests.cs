using MixLens.Engine;
using MixLens.Engine.Hub;
using MixLens.Tests.Cli;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Hub;

/// <summary>A hub cache laid out as huggingface_hub leaves it (built once from the shared all-MiniLM-L6-v2 files:
/// blobs, relative symbolic links, refs/main), shared read-only by the tests of this class.</summary>
public sealed class MiniLmHubCache : IDisposable
{
    readonly TempFolder _temp = new();

    public MiniLmHubCache()
    {
        Directory = _temp.File("hub");
        Snapshot = HubLayout.Build(Directory, HubLayout.MiniLmRepo, HubLayout.FilesOf(HubLayout.MiniLm, HubLayout.MiniLmFiles));
    }

    public string Directory { get; }
    public string Snapshot { get; }

    public void Dispose() => _temp.Dispose();
}

/// <summary>
/// <c>--model org/name</c> from a hub cache without the network: the same model as its folder, no request made when the
/// cache settles every file (a server that counts requests stands by), <c>HF_HUB_OFFLINE</c> errors that name the
/// missing file, <c>@commit</c> and <c>@branch</c>, <c>.no_exist</c> marks, dangling links, and the fall-back to the
/// cache when the hub cannot be reached.
/// </summary>
public class HubCacheTests(MiniLmHubCache cache) : IClassFixture<MiniLmHubCache>
{
    const string Text = "The quick brown fox jumps over the lazy dog.";

    [Fact]
    public void Load_RepoIdInHubCache_SameEmbeddingAsTheFolderAndNoRequest()
    {
        using var hub = new FakeHub();
        using var fromHub = EncoderModel.Load(HubLayout.MiniLmRepo, HubLayout.Options(cache.Directory, hub.Endpoint));
        using var fromFolder = EncoderModel.Load(SharedData.Models(HubLayout.MiniLm));

        Assert.Equal(cache.Snapshot, fromHub.Directory);
        Assert.Equal(HubLayout.MiniLmRepo, fromHub.Name);
        Assert.NotNull(fromHub.Pooling);
        var expected = fromFolder.Embed([fromFolder.Tokenize(Text)])[0];
        var actual = fromHub.Embed([fromHub.Tokenize(Text)])[0];
        Assert.Equal(expected, actual);
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public void EmbedCommand_RepoIdInHubCache_PrintsTheFoldersEmbedding()
    {
        using var hub = new FakeHub();
        string folder = CliHarness.RunOk("embed", "--model", SharedData.Models(HubLayout.MiniLm), "--text", Text).Stdout;
        string fromHub;
        using (HubLayout.CliScope(HubLayout.Options(cache.Directory, hub.Endpoint, offline: true)))
            fromHub = CliHarness.RunOk("embed", "--model", HubLayout.MiniLmRepo, "--text", Text).Stdout;
        Assert.Equal(folder, fromHub);
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public void AnalyzeCommand_RepoIdInHubCache_NamesTheRepository()
    {
        using (HubLayout.CliScope(HubLayout.Options(cache.Directory, "http://127.0.0.1:9", offline: true)))
        {
            var lines = CliHarness.RunOk("analyze", "--model", HubLayout.MiniLmRepo, "--text", Text, "--method", "rollout", "--width", "120").StdoutLines;
            Assert.Equal($"rollout · layer 5 of 0..5 · {HubLayout.MiniLmRepo}", lines[0]);
        }
    }

    [Fact]
    public void Load_CommitRevisionWithoutRef_ResolvesTheSnapshot()
    {
        using var model = EncoderModel.Load($"{HubLayout.MiniLmRepo}@{HubLayout.Commit}", HubLayout.Options(cache.Directory, "http://127.0.0.1:9", offline: true));
        Assert.Equal(cache.Snapshot, model.Directory);
    }

    [Fact]
    public void Load_OfflineAndRevisionNotCached_ErrorNamesTheRef()
    {
        var e = Assert.Throws<HubException>(() =>
            EncoderModel.Load($"{HubLayout.MiniLmRepo}@v2", HubLayout.Options(cache.Directory, "http://127.0.0.1:9", offline: true)));
        Assert.Contains("has no refs/v2", e.Message);
        Assert.Contains("HF_HUB_OFFLINE", e.Message);
    }

    [Fact]
    public void AnyCommand_OfflineAndRepoNotCached_OneLineError()
    {
        using var hub = new FakeHub();
        using (HubLayout.CliScope(HubLayout.Options(cache.Directory, hub.Endpoint, offline: true)))
        {
            string line = CliHarness.RunUserError("in the hub cache", "embed", "--model", "org/not-downloaded", "--text", "x");
            Assert.Contains($"'org/not-downloaded' is neither a model directory nor in the hub cache {cache.Directory}", line);
            Assert.Contains("HF_HUB_OFFLINE is set", line);
        }
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public void Load_OfflineAndRequiredFileMissing_ErrorNamesTheFile()
    {
        using var temp = new TempFolder();
        string dir = temp.File("hub");
        var files = HubLayout.FilesOf(HubLayout.MiniLm, "config.json", "tokenizer.json", "tokenizer_config.json");
        HubLayout.Build(dir, HubLayout.MiniLmRepo, files);
        using var hub = new FakeHub();
        var e = Assert.Throws<HubException>(() => EncoderModel.Load(HubLayout.MiniLmRepo, HubLayout.Options(dir, hub.Endpoint, offline: true)));
        Assert.Equal($"{HubLayout.MiniLmRepo}: model.safetensors is not in the hub cache ({Path.Combine(dir, "models--sentence-transformers--all-MiniLM-L6-v2", "snapshots", HubLayout.Commit)}); HF_HUB_OFFLINE is set, so nothing is downloaded", e.Message);
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public void Load_DanglingSnapshotLink_CountsAsMissing()
    {
        using var temp = new TempFolder();
        string dir = temp.File("hub");
        var files = HubLayout.FilesOf("bert-mlm-random", HubLayout.MlmFiles);
        HubLayout.Build(dir, "org/mlm", files);
        File.Delete(Path.Combine(dir, "models--org--mlm", "blobs", FakeHub.Etag("config.json", files["config.json"])));
        var e = Assert.Throws<HubException>(() => EncoderModel.Load("org/mlm", HubLayout.Options(dir, "http://127.0.0.1:9", offline: true)));
        Assert.Contains("config.json is not in the hub cache", e.Message);
    }

    [Fact]
    public void Load_NoExistMarksSettleOptionalFiles_NoRequest()
    {
        // A Python download of a plain BERT leaves modules.json absent and marked in .no_exist: nothing to ask the hub.
        using var temp = new TempFolder();
        string dir = temp.File("hub");
        HubLayout.Build(dir, "org/mlm", HubLayout.FilesOf("bert-mlm-random", "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"));
        HubLayout.MarkMissing(dir, "org/mlm", "special_tokens_map.json");
        HubLayout.MarkMissing(dir, "org/mlm", "modules.json");
        using var hub = new FakeHub();
        using var model = EncoderModel.Load("org/mlm", HubLayout.Options(dir, hub.Endpoint));
        Assert.Null(model.Pooling);
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public void Load_OptionalFileUnsettledAndHubUnreachable_FallsBackToTheCache()
    {
        // modules.json neither cached nor marked: the hub is asked, cannot be reached (nothing listens on port 9), and
        // the cache is used as it is, as huggingface_hub does when its HEAD request fails.
        using var temp = new TempFolder();
        string dir = temp.File("hub");
        HubLayout.Build(dir, "org/mlm", HubLayout.FilesOf("bert-mlm-random", HubLayout.MlmFiles));
        using var model = EncoderModel.Load("org/mlm", HubLayout.Options(dir, "http://127.0.0.1:9"));
        Assert.Equal("org/mlm", model.Name);
    }

    [Fact]
    public void Load_RequiredFileMissingAndHubUnreachable_ErrorSaysBoth()
    {
        using var temp = new TempFolder();
        string dir = temp.File("hub");
        HubLayout.Build(dir, "org/mlm", HubLayout.FilesOf("bert-mlm-random", "config.json", "tokenizer.json"));
        var e = Assert.Throws<HubException>(() => EncoderModel.Load("org/mlm", HubLayout.Options(dir, "http://127.0.0.1:9")));
        Assert.StartsWith("org/mlm: model.safetensors is not in the hub cache", e.Message);
        Assert.Contains("the hub could not be reached: cannot reach http://127.0.0.1:9", e.Message);
    }

    [Fact]
    public void Load_ExistingDirectoryNamedLikeARepo_DirectoryWins()
    {
        // "hubtest-…/mlm" is a valid repository id and, relative to the current directory, an existing folder: the folder wins.
        string org = $"hubtest-{Guid.NewGuid():N}";
        string folder = Path.Combine(Environment.CurrentDirectory, org, "mlm");
        Directory.CreateDirectory(folder);
        try
        {
            foreach (var (file, content) in HubLayout.FilesOf("bert-mlm-random", HubLayout.MlmFiles)) File.WriteAllBytes(Path.Combine(folder, file), content);
            using var temp = new TempFolder();
            using var model = EncoderModel.Load($"{org}/mlm", HubLayout.Options(temp.File("hub"), "http://127.0.0.1:9", offline: true));
            Assert.Equal("mlm", model.Name);
            Assert.False(Directory.Exists(temp.File("hub")));
        }
        finally
        {
            Directory.Delete(Path.Combine(Environment.CurrentDirectory, org), recursive: true);
        }
    }

    [Fact]
    [Trait("Category", "ChildProcess")]
    public void MixlensProcess_HfHubCacheAndOfflineVariables_ResolvesFromTheCache()
    {
        var env = new Dictionary<string, string> { ["HF_HUB_CACHE"] = cache.Directory, ["HF_HUB_OFFLINE"] = "1", ["HF_ENDPOINT"] = "http://127.0.0.1:9" };
        var fromHub = CliProcessTests.RunMixlens(env, "embed", "--model", HubLayout.MiniLmRepo, "--text", Text);
        Assert.True(fromHub.ExitCode == 0 && fromHub.Stderr.Length == 0, fromHub.ToString());
        var fromFolder = CliHarness.RunOk("embed", "--model", SharedData.Models(HubLayout.MiniLm), "--text", Text);
        Assert.Equal(fromFolder.Stdout.ReplaceLineEndings(), fromHub.Stdout.ReplaceLineEndings());

        var missing = CliProcessTests.RunMixlens(env, "embed", "--model", "org/absent", "--text", Text);
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal([$"mixlens: error: 'org/absent' is neither a model directory nor in the hub cache {cache.Directory}; HF_HUB_OFFLINE is set, so nothing is downloaded"], missing.StderrLines);
    }
}
