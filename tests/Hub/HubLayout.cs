using MixLens.Engine.Hub;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Hub;

/// <summary>Builds hub caches in test folders exactly as huggingface_hub leaves a download, and reads files to serve.</summary>
public static class HubLayout
{
    public const string MiniLm = "all-MiniLM-L6-v2";
    public const string MiniLmRepo = "sentence-transformers/all-MiniLM-L6-v2";
    public const string Commit = "5f2b8e2c0e3d4a1b9c8d7e6f5a4b3c2d1e0f9a8b";

    /// <summary>The files of all-MiniLM-L6-v2 that a Python download of it for sentence-transformers leaves.</summary>
    public static readonly string[] MiniLmFiles =
        ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json", "modules.json", "1_Pooling/config.json"];

    /// <summary>The small BERT with a tokenizer (2 MB of weights) used where the download itself is under test.</summary>
    public static readonly string[] MlmFiles = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"];

    /// <summary>Files of a shared model (paths relative to its folder, <c>/</c>-separated) by path.</summary>
    public static Dictionary<string, byte[]> FilesOf(string model, params string[] files) =>
        files.ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine([SharedData.Models(model), .. f.Split('/')])), StringComparer.Ordinal);

    /// <summary>Lays out <paramref name="files"/> in <paramref name="cacheDirectory"/> as huggingface_hub does:
    /// <c>blobs/{etag}</c> (SHA-256 for LFS files, git SHA-1 otherwise), <c>snapshots/{commit}/{path}</c> relative
    /// symbolic links, and <c>refs/{revision}</c> holding the commit without a newline (none when
    /// <paramref name="revision"/> is null).</summary>
    /// <returns>the snapshot folder.</returns>
    public static string Build(string cacheDirectory, string repoId, IReadOnlyDictionary<string, byte[]> files,
        string commit = Commit, string? revision = "main")
    {
        string repo = Path.Combine(cacheDirectory, HubModelId.Parse(repoId).CacheFolderName);
        string snapshot = Path.Combine(repo, "snapshots", commit);
        foreach (var (file, content) in files)
        {
            string blob = Path.Combine(repo, "blobs", FakeHub.Etag(file, content));
            Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
            if (!File.Exists(blob)) File.WriteAllBytes(blob, content);
            string pointer = Path.Combine([snapshot, .. file.Split('/')]);
            Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
            File.CreateSymbolicLink(pointer, Path.GetRelativePath(Path.GetDirectoryName(pointer)!, blob));
        }
        if (revision is not null)
        {
            Directory.CreateDirectory(Path.Combine(repo, "refs"));
            File.WriteAllText(Path.Combine(repo, "refs", revision), commit);
        }
        return snapshot;
    }

    /// <summary>Marks <paramref name="file"/> as absent from <paramref name="commit"/> (<c>.no_exist</c>).</summary>
    public static void MarkMissing(string cacheDirectory, string repoId, string file, string commit = Commit)
    {
        string path = Path.Combine([cacheDirectory, HubModelId.Parse(repoId).CacheFolderName, ".no_exist", commit, .. file.Split('/')]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);
    }

    /// <summary>Options for a test: its own cache and server, short timeouts.</summary>
    public static HubOptions Options(string cacheDirectory, string endpoint, string? token = null, bool offline = false) => new()
    {
        CacheDirectory = cacheDirectory,
        Endpoint = endpoint,
        Token = token,
        Offline = offline,
        MetadataTimeout = TimeSpan.FromSeconds(5),
        DownloadTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>Makes the in-process CLI use <paramref name="options"/> for hub models until disposed.</summary>
    public static IDisposable CliScope(HubOptions options)
    {
        MixLens.Cli.CommonOptions.HubOverride.Value = options;
        return new Reset();
    }

    sealed class Reset : IDisposable
    {
        public void Dispose() => MixLens.Cli.CommonOptions.HubOverride.Value = null;
    }
}
