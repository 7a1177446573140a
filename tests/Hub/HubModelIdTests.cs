using MixLens.Engine.Hub;

namespace MixLens.Tests.Hub;

/// <summary>Repository ids as users type them, and the environment variables huggingface_hub reads.</summary>
public class HubModelIdTests
{
    [Theory]
    [InlineData("sentence-transformers/all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "main")]
    [InlineData("bert-base-uncased", "bert-base-uncased", "main")]
    [InlineData("org/name@v1.0", "org/name", "v1.0")]
    [InlineData("org/name@refs/pr/1", "org/name", "refs/pr/1")]
    [InlineData("BAAI/bge-small-en-v1.5@5c38ec7c405ec4b44b94cc5a9bb96e735b38267a", "BAAI/bge-small-en-v1.5", "5c38ec7c405ec4b44b94cc5a9bb96e735b38267a")]
    public void TryParse_RepoIds_SplitsRepoAndRevision(string text, string repo, string revision)
    {
        Assert.True(HubModelId.TryParse(text, out var id));
        Assert.Equal(repo, id.RepoId);
        Assert.Equal(revision, id.Revision);
        Assert.Equal(revision.Length == 40, id.RevisionIsCommit);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/abs/path/model")]
    [InlineData("./model")]
    [InlineData("../shared/models/x")]
    [InlineData("a/b/c")]
    [InlineData("C:\\models\\x")]
    [InlineData("org--x/name")]
    [InlineData("org/name.git")]
    [InlineData("-org/name")]
    [InlineData("org/name-")]
    [InlineData("org/name@")]
    [InlineData("org/name@../../etc")]
    [InlineData("org/name@a//b")]
    [InlineData("org/na me")]
    public void TryParse_PathsAndInvalidIds_False(string text) => Assert.False(HubModelId.TryParse(text, out _));

    [Fact]
    public void CacheFolderName_OrgAndName_ModelsPrefixAndDoubleDashes()
    {
        Assert.Equal("models--sentence-transformers--all-MiniLM-L6-v2", HubModelId.Parse("sentence-transformers/all-MiniLM-L6-v2@dev").CacheFolderName);
        Assert.Equal("models--gpt2", HubModelId.Parse("gpt2").CacheFolderName);
    }

    [Fact]
    public void FromEnvironment_NothingSet_HomeCacheAndPublicHub()
    {
        var options = HubOptions.FromEnvironment(Env());
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(Path.Combine(home, ".cache", "huggingface", "hub"), options.CacheDirectory);
        Assert.Equal("https://huggingface.co", options.Endpoint);
        Assert.False(options.Offline);
        Assert.Equal(TimeSpan.FromSeconds(10), options.MetadataTimeout);
    }

    [Fact]
    public void FromEnvironment_CacheVariables_HubCacheThenHfHomeThenXdg()
    {
        Assert.Equal("/x/hub-cache", HubOptions.FromEnvironment(Env(("HF_HUB_CACHE", "/x/hub-cache"), ("HF_HOME", "/x/home"))).CacheDirectory);
        Assert.Equal("/x/legacy", HubOptions.FromEnvironment(Env(("HUGGINGFACE_HUB_CACHE", "/x/legacy"), ("HF_HOME", "/x/home"))).CacheDirectory);
        Assert.Equal(Path.Combine("/x/home", "hub"), HubOptions.FromEnvironment(Env(("HF_HOME", "/x/home"), ("XDG_CACHE_HOME", "/x/xdg"))).CacheDirectory);
        Assert.Equal(Path.Combine("/x/xdg", "huggingface", "hub"), HubOptions.FromEnvironment(Env(("XDG_CACHE_HOME", "/x/xdg"))).CacheDirectory);
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(Path.Combine(home, "hf"), HubOptions.FromEnvironment(Env(("HF_HUB_CACHE", "~/hf"))).CacheDirectory);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("ON", true)]
    [InlineData("yes", true)]
    [InlineData("True", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("", false)]
    public void FromEnvironment_HfHubOffline_TrueValuesAsHuggingfaceHub(string value, bool offline)
    {
        Assert.Equal(offline, HubOptions.FromEnvironment(Env(("HF_HUB_OFFLINE", value))).Offline);
        Assert.Equal(offline, HubOptions.FromEnvironment(Env(("TRANSFORMERS_OFFLINE", value))).Offline);
    }

    [Fact]
    public void FromEnvironment_Token_VariableThenTokenFile()
    {
        using var temp = new Cli.TempFolder();
        File.WriteAllText(temp.File("token"), "hf_fromfile\n");
        Assert.Equal("hf_fromfile", HubOptions.FromEnvironment(Env(("HF_HOME", temp.Path))).Token);
        Assert.Equal("hf_env", HubOptions.FromEnvironment(Env(("HF_HOME", temp.Path), ("HF_TOKEN", " hf_env\r\n"))).Token);
        Assert.Equal("hf_fromfile", HubOptions.FromEnvironment(Env(("HF_TOKEN_PATH", temp.File("token")))).Token);
        Assert.Null(HubOptions.FromEnvironment(Env(("HF_HOME", Path.Combine(temp.Path, "none")))).Token);
    }

    [Fact]
    public void FromEnvironment_EndpointAndTimeouts_Read()
    {
        var options = HubOptions.FromEnvironment(Env(("HF_ENDPOINT", "https://hf-mirror.example/"), ("HF_HUB_ETAG_TIMEOUT", "3"), ("HF_HUB_DOWNLOAD_TIMEOUT", "60")));
        Assert.Equal("https://hf-mirror.example", options.Endpoint);
        Assert.Equal(TimeSpan.FromSeconds(3), options.MetadataTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), options.DownloadTimeout);
    }

    /// <summary>An environment holding only <paramref name="variables"/> (HOME etc. are not needed: the home folder
    /// comes from the OS).</summary>
    static Func<string, string?> Env(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value);
        return name => map.GetValueOrDefault(name);
    }
}
