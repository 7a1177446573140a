using MixLens.Engine;
using MixLens.Engine.Hub;
using MixLens.Tests.Cli;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Hub;

/// <summary>
/// Downloads from a local server that answers like the hub (<see cref="FakeHub"/>) into an empty or partial cache:
/// the cache afterwards is what huggingface_hub would have left (refs without a newline, blobs named by ETag or
/// SHA-256, relative links, <c>.no_exist</c> marks); LFS redirects, tokens (never sent to the CDN), a gated, missing
/// or renamed repository, a missing revision or file, PyTorch-only and sharded repositories, a dropped connection
/// resumed with <c>Range</c>, a partial file from an earlier run resumed, a corrupt one refused.
/// </summary>
public sealed class HubDownloadTests : IDisposable
{
    const string Commit = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
    const string Text = "The quick brown fox jumps over the lazy dog.";
    readonly FakeHub _hub = new();
    readonly TempFolder _temp = new();

    string Cache => _temp.File("hub");
    string RepoFolder(string repo) => Path.Combine(Cache, HubModelId.Parse(repo).CacheFolderName);
    HubOptions Options(string? token = null) => HubLayout.Options(Cache, _hub.Endpoint, token);
    FakeHubRequest[] Requests => _hub.Requests.ToArray();

    Dictionary<string, byte[]> AddMlm(string repo = "org/mlm", string? token = null)
    {
        var files = HubLayout.FilesOf("bert-mlm-random", HubLayout.MlmFiles);
        _hub.AddRepo(repo, Commit, files, token);
        return files;
    }

    [Fact]
    public void Load_EmptyCache_DownloadsIntoHuggingfaceHubLayoutAndMatchesTheFolder()
    {
        // the MiniLM files a hub repository has, less special_tokens_map.json (to see its .no_exist mark)
        var files = HubLayout.FilesOf(HubLayout.MiniLm, HubLayout.MiniLmFiles.Where(f => f != "special_tokens_map.json").ToArray());
        _hub.AddRepo(HubLayout.MiniLmRepo, Commit, files);

        using (var model = EncoderModel.Load(HubLayout.MiniLmRepo, Options()))
        using (var folder = EncoderModel.Load(SharedData.Models(HubLayout.MiniLm)))
        {
            Assert.Equal(folder.Embed([folder.Tokenize(Text)])[0], model.Embed([model.Tokenize(Text)])[0]);
            Assert.Equal(Path.Combine(RepoFolder(HubLayout.MiniLmRepo), "snapshots", Commit), model.Directory);
        }

        string repo = RepoFolder(HubLayout.MiniLmRepo);
        Assert.Equal(Commit, File.ReadAllText(Path.Combine(repo, "refs", "main")));   // no newline
        var downloaded = new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "modules.json", "1_Pooling/config.json" };
        foreach (var file in downloaded)
        {
            string etag = FakeHub.Etag(file, files[file]);
            var pointer = new FileInfo(Path.Combine([repo, "snapshots", Commit, .. file.Split('/')]));
            string up = file.Contains('/') ? "../../../" : "../../";
            Assert.Equal($"{up}blobs/{etag}", pointer.LinkTarget);
            Assert.Equal(files[file], File.ReadAllBytes(Path.Combine(repo, "blobs", etag)));
        }
        Assert.Equal(FakeHub.Sha256(files["model.safetensors"]), FakeHub.Etag("model.safetensors", files["model.safetensors"]));
        Assert.True(File.Exists(Path.Combine(repo, ".no_exist", Commit, "special_tokens_map.json")));
        Assert.False(File.Exists(Path.Combine(repo, "snapshots", Commit, "vocab.txt")));   // tokenizer.json is there: not fetched
        Assert.Empty(Directory.GetFiles(Path.Combine(repo, "blobs"), "*.incomplete"));
        Assert.Equal(downloaded.Length, Directory.GetFiles(Path.Combine(repo, "blobs")).Length);

        // one HEAD per file asked for; GET only for content: the LFS file from the CDN address, the others from resolve/
        var requests = Requests;
        Assert.Equal(["/cdn/" + FakeHub.Sha256(files["model.safetensors"])], requests.Where(r => r.Path.StartsWith("/cdn/")).Select(r => r.Path));
        Assert.All(requests.Where(r => r.Method == "HEAD"), r => Assert.Contains("/resolve/", r.Path));
        Assert.Equal($"/{HubLayout.MiniLmRepo}/resolve/main/config.json", requests[0].Path);   // the first names the branch...
        Assert.All(requests.Skip(1).Where(r => r.Path.Contains("/resolve/")), r => Assert.Contains($"/resolve/{Commit}/", r.Path));   // ...then its commit

        // everything is cached now: no request at all
        int before = _hub.Requests.Count;
        using (EncoderModel.Load(HubLayout.MiniLmRepo, Options())) { }
        Assert.Equal(before, _hub.Requests.Count);
    }

    [Fact]
    public void Load_GatedRepoWithToken_BearerToTheHubOnlyNotTheCdn()
    {
        AddMlm(token: "hf_secret");
        using var model = EncoderModel.Load("org/mlm", Options("hf_secret"));
        var requests = Requests;
        Assert.All(requests.Where(r => r.Path.Contains("/resolve/")), r => Assert.Equal("Bearer hf_secret", r.Authorization));
        var cdn = Assert.Single(requests, r => r.Path.StartsWith("/cdn/"));
        Assert.Null(cdn.Authorization);
    }

    [Fact]
    public void AnyCommand_GatedRepoWithoutToken_OneLineErrorSayingHowToGetAccess()
    {
        AddMlm(token: "hf_secret");
        using (HubLayout.CliScope(Options()))
        {
            string line = CliHarness.RunUserError("org/mlm is a gated repository", "embed", "--model", "org/mlm", "--text", "x");
            Assert.Contains($"accept its conditions at {_hub.Endpoint}/org/mlm", line);
            Assert.Contains("HF_TOKEN", line);
        }
        using (HubLayout.CliScope(Options("hf_other")))
            CliHarness.RunUserError("the token in use has no access", "embed", "--model", "org/mlm", "--text", "x");
        Assert.False(Directory.Exists(Path.Combine(RepoFolder("org/mlm"), "snapshots")));
    }

    [Fact]
    public void AnyCommand_MissingRepo_OneLineError()
    {
        using (HubLayout.CliScope(Options()))
        {
            string line = CliHarness.RunUserError("is neither a model directory nor a repository", "analyze", "--model", "org/nothing-here", "--text", "x");
            Assert.Equal($"mixlens: error: 'org/nothing-here' is neither a model directory nor a repository on {_hub.Endpoint} " +
                "(if it is private, set HF_TOKEN to an access token, or run `huggingface-cli login`)", line);
        }
    }

    [Fact]
    public void Load_MissingRevision_ErrorNamesIt()
    {
        AddMlm();
        var e = Assert.Throws<HubException>(() => EncoderModel.Load("org/mlm@v9", Options()));
        Assert.Equal("org/mlm has no revision 'v9'", e.Message);
    }

    [Fact]
    public void Load_RepoWithoutConfig_ErrorNamesTheFileAndMarksItMissing()
    {
        var files = HubLayout.FilesOf("bert-mlm-random", HubLayout.MlmFiles);
        files.Remove("config.json");
        _hub.AddRepo("org/mlm", Commit, files);
        var e = Assert.Throws<HubException>(() => EncoderModel.Load("org/mlm", Options()));
        Assert.Equal($"org/mlm: the repository has no config.json (commit {Commit})", e.Message);
        Assert.True(File.Exists(Path.Combine(RepoFolder("org/mlm"), ".no_exist", Commit, "config.json")));
        Assert.Equal(Commit, File.ReadAllText(Path.Combine(RepoFolder("org/mlm"), "refs", "main")));

        // the mark settles it next time, without a request
        int before = _hub.Requests.Count;
        Assert.Throws<HubException>(() => EncoderModel.Load("org/mlm", Options()));
        Assert.Equal(before, _hub.Requests.Count);
    }

    [Fact]
    public void AnyCommand_PyTorchOnlyRepo_SuggestsConvertWithoutDownloadingTheBin()
    {
        var files = HubLayout.FilesOf("bert-mlm-random", "config.json", "tokenizer.json");
        files["pytorch_model.bin"] = File.ReadAllBytes(SharedData.Fixtures("convert", "pytorch_model.bin"));
        _hub.AddRepo("org/old", Commit, files);
        using (HubLayout.CliScope(Options()))
        {
            string line = CliHarness.RunUserError("has PyTorch weights only (pytorch_model.bin", "embed", "--model", "org/old", "--text", "x");
            Assert.Contains("mixlens convert", line);
        }
        Assert.DoesNotContain(Requests, r => r.Method == "GET" && (r.Path.EndsWith("pytorch_model.bin") || r.Path.StartsWith("/cdn/")));
    }

    [Fact]
    public void Load_ShardedRepo_DownloadsIndexAndEveryShardAndLoads()
    {
        string folder = _temp.File("sharded");
        Model.ShardedCheckpointTests.WriteSharded("bert-mlm-random", folder, "config.json", "tokenizer.json");
        var files = Directory.GetFiles(folder).ToDictionary(Path.GetFileName, File.ReadAllBytes, StringComparer.Ordinal);
        _hub.AddRepo("org/sharded", Commit, files!);

        using var model = EncoderModel.Load("org/sharded", Options());
        using var single = EncoderModel.Load(SharedData.Models("bert-mlm-random"));

        Assert.Equal(single.Embed([single.Tokenize(Text)])[0], model.Embed([model.Tokenize(Text)])[0]);
        foreach (var shard in new[] { "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors" })
            Assert.Equal(files[shard], File.ReadAllBytes(Path.Combine(model.Directory, shard)));
        Assert.True(File.Exists(Path.Combine(RepoFolder("org/sharded"), ".no_exist", Commit, "model.safetensors")));
    }

    [Fact]
    public void Load_ConnectionDroppedMidFile_ResumedWithRange()
    {
        var files = AddMlm();
        string sha = FakeHub.Sha256(files["model.safetensors"]);
        _hub.DropOnce[sha] = true;

        using var model = EncoderModel.Load("org/mlm", Options());

        var cdn = Requests.Where(r => r.Path == "/cdn/" + sha).ToArray();
        Assert.Equal(2, cdn.Length);
        Assert.Null(cdn[0].Range);
        Assert.Equal($"bytes={files["model.safetensors"].Length / 2}-", cdn[1].Range);
        Assert.Equal(files["model.safetensors"], File.ReadAllBytes(Path.Combine(model.Directory, "model.safetensors")));
    }

    [Fact]
    public void Load_ConnectionStallsMidFile_BrokenOffAfterTheTimeoutAndResumed()
    {
        var files = AddMlm();
        string sha = FakeHub.Sha256(files["model.safetensors"]);
        _hub.StallOnce[sha] = true;

        using var model = EncoderModel.Load("org/mlm", Options() with { DownloadTimeout = TimeSpan.FromMilliseconds(500) });

        var cdn = Requests.Where(r => r.Path == "/cdn/" + sha).ToArray();
        Assert.Equal(2, cdn.Length);
        Assert.Equal($"bytes={files["model.safetensors"].Length / 2}-", cdn[1].Range);
        Assert.Equal(files["model.safetensors"], File.ReadAllBytes(Path.Combine(model.Directory, "model.safetensors")));
    }

    [Fact]
    public void Load_DroppedMoreOftenThanRetried_KeepsThePartForTheNextRun()
    {
        var files = AddMlm();
        string sha = FakeHub.Sha256(files["model.safetensors"]);
        _hub.DropOnce[sha] = true;
        string incomplete = Path.Combine(RepoFolder("org/mlm"), "blobs", sha + ".incomplete");

        var e = Assert.Throws<HubException>(() => EncoderModel.Load("org/mlm", Options() with { DownloadRetries = 0 }));
        Assert.Contains("the download of model.safetensors broke off", e.Message);
        Assert.Contains("run again to resume", e.Message);
        Assert.Equal(files["model.safetensors"].Length / 2, new FileInfo(incomplete).Length);

        using var model = EncoderModel.Load("org/mlm", Options());
        Assert.Equal($"bytes={files["model.safetensors"].Length / 2}-", Requests.Last(r => r.Path == "/cdn/" + sha).Range);
        Assert.False(File.Exists(incomplete));
    }

    [Fact]
    public void Load_PartialDownloadFromAnEarlierRun_ResumedFromItsLength()
    {
        var files = AddMlm();
        byte[] weights = files["model.safetensors"];
        string sha = FakeHub.Sha256(weights);
        string blobs = Path.Combine(RepoFolder("org/mlm"), "blobs");
        Directory.CreateDirectory(blobs);
        File.WriteAllBytes(Path.Combine(blobs, sha + ".incomplete"), weights[..1000]);

        using var model = EncoderModel.Load("org/mlm", Options());

        Assert.Equal("bytes=1000-", Assert.Single(Requests, r => r.Path == "/cdn/" + sha).Range);
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(blobs, sha)));
    }

    [Fact]
    public void Load_CorruptPartialDownload_RefusedBySha256AndDeleted()
    {
        var files = AddMlm();
        string sha = FakeHub.Sha256(files["model.safetensors"]);
        string incomplete = Path.Combine(RepoFolder("org/mlm"), "blobs", sha + ".incomplete");
        Directory.CreateDirectory(Path.GetDirectoryName(incomplete)!);
        File.WriteAllBytes(incomplete, new byte[1000]);   // zeros where the header should be

        var e = Assert.Throws<HubException>(() => EncoderModel.Load("org/mlm", Options()));
        Assert.StartsWith("org/mlm: the download of model.safetensors is corrupt (its SHA-256 is ", e.Message);
        Assert.Contains($"the hub said {sha}", e.Message);
        Assert.False(File.Exists(incomplete));
        Assert.False(File.Exists(Path.Combine(RepoFolder("org/mlm"), "blobs", sha)));

        using var model = EncoderModel.Load("org/mlm", Options());   // downloaded anew
    }

    [Fact]
    public void Load_RenamedRepo_FollowsTheRelativeRedirect()
    {
        AddMlm("new-org/mlm");
        _hub.Rename("old-org/mlm", "new-org/mlm");
        using var model = EncoderModel.Load("old-org/mlm", Options());
        Assert.StartsWith(RepoFolder("old-org/mlm"), model.Directory);   // cached under the name asked for, as huggingface_hub does
    }

    [Fact]
    public void Load_SymlinksOff_SnapshotHoldsCopies()
    {
        var files = AddMlm();
        using var model = EncoderModel.Load("org/mlm", Options() with { UseSymlinks = false });
        var config = new FileInfo(Path.Combine(model.Directory, "config.json"));
        Assert.Null(config.LinkTarget);
        Assert.Equal(files["config.json"], File.ReadAllBytes(config.FullName));
        Assert.True(File.Exists(Path.Combine(RepoFolder("org/mlm"), "blobs", FakeHub.Etag("config.json", files["config.json"]))));
    }

    [Fact]
    public void Load_NewCommitOnTheHub_RefMovesAndUnchangedBlobsAreNotDownloadedAgain()
    {
        var files = HubLayout.FilesOf("bert-mlm-random", HubLayout.MlmFiles);
        const string oldCommit = "1111111111111111111111111111111111111111";
        HubLayout.Build(Cache, "org/mlm", files.Where(f => f.Key != "tokenizer_config.json").ToDictionary(), oldCommit);
        _hub.AddRepo("org/mlm", Commit, files);   // the hub's main has moved on, with the same files

        using var model = EncoderModel.Load("org/mlm", Options());   // tokenizer_config.json is unsettled: online

        Assert.Equal(Commit, File.ReadAllText(Path.Combine(RepoFolder("org/mlm"), "refs", "main")));
        Assert.Equal(Path.Combine(RepoFolder("org/mlm"), "snapshots", Commit), model.Directory);
        Assert.DoesNotContain(Requests, r => r.Path.StartsWith("/cdn/"));   // model.safetensors' blob was there already
        Assert.Single(Requests, r => r.Method == "GET");   // tokenizer_config.json only
    }

    [Fact]
    public void Load_Progress_ToldAboutEachDownload()
    {
        var files = AddMlm();
        var progress = new RecordingProgress();
        using var model = EncoderModel.Load("org/mlm", Options() with { Progress = progress });
        Assert.Equal(HubLayout.MlmFiles.Where(f => f != "vocab.txt").Order(), progress.Started.Select(s => s.File).Order());
        var weights = Assert.Single(progress.Started, s => s.File == "model.safetensors");
        Assert.Equal(files["model.safetensors"].Length, weights.Total);
        Assert.Equal(files["model.safetensors"].Length, progress.LastBytes["model.safetensors"]);
        Assert.All(progress.Finished, Assert.True);
    }

    [Fact]
    public void TokenizeCommand_TokenizerOnlyRepo_FetchesNoWeights()
    {
        var files = new[] { "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json" }
            .ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(SharedData.Root, "tokenizers", "roberta-base", f)));
        _hub.AddRepo("org/roberta-tokenizer", Commit, files);
        using (HubLayout.CliScope(Options()))
        {
            string line = CliHarness.RunOk("tokenize", "--model", "org/roberta-tokenizer", "--text", "Hello world").Stdout.Trim();
            Assert.StartsWith("""{"ids":[0,31414,232,2],"tokens":["<s>","Hello","Ġworld","</s>"]""", line);
        }
        Assert.DoesNotContain(Requests, r => r.Path.Contains("safetensors") || r.Path.Contains("pytorch"));
        Assert.DoesNotContain(Requests, r => r.Path.EndsWith("vocab.json"));   // tokenizer.json is enough
    }

    sealed class RecordingProgress : IDownloadProgress
    {
        string _file = "";
        public List<(string File, long? Total)> Started { get; } = [];
        public Dictionary<string, long> LastBytes { get; } = [];
        public List<bool> Finished { get; } = [];
        void IDownloadProgress.Started(string file, long? totalBytes, long resumedAt) { _file = file; Started.Add((file, totalBytes)); }
        void IDownloadProgress.Advanced(long bytesOnDisk) => LastBytes[_file] = bytesOnDisk;
        void IDownloadProgress.Finished(bool completed) => Finished.Add(completed);
    }

    public void Dispose()
    {
        _hub.Dispose();
        _temp.Dispose();
    }
}
