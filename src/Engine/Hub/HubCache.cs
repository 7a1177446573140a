namespace MixLens.Engine.Hub;

/// <summary>
/// One model repository's folder in the HuggingFace hub cache, read and written exactly as huggingface_hub lays it out,
/// so that MixLens finds what Python downloaded and Python finds what MixLens downloaded:
/// <code>
/// {cache}/models--{org}--{name}/
///     refs/{revision}              the commit the branch or tag named when last resolved (40 hex digits, no newline)
///     blobs/{etag}                 file contents, named by the server's ETag: the git SHA-1 of an ordinary file,
///                                  the SHA-256 of an LFS file (X-Linked-Etag)
///     blobs/{etag}.incomplete      a download in progress; a later download resumes from its length
///     snapshots/{commit}/{path}    relative symbolic links to ../../blobs/{etag} (one more ../ per folder in path);
///                                  copies where symbolic links cannot be made
///     .no_exist/{commit}/{path}    empty files: the path is known to be absent from that commit
/// {cache}/.locks/models--{org}--{name}/{etag}.lock   held while a blob downloads
/// </code>
/// </summary>
/// <remarks>Source: huggingface_hub <c>file_download.py</c> (<c>_hf_hub_download_to_cache_dir</c>,
/// <c>_create_symlink</c>, <c>_cache_commit_hash_for_specific_revision</c>, <c>try_to_load_from_cache</c>) and the
/// cache guide (docs <c>guides/manage-cache</c>).</remarks>
public sealed class HubCache
{
    /// <param name="cacheDirectory">the hub cache (<see cref="HubOptions.CacheDirectory"/>).</param>
    /// <param name="id">the repository (its revision is not used here).</param>
    public HubCache(string cacheDirectory, HubModelId id)
    {
        CacheDirectory = Path.GetFullPath(cacheDirectory);
        RepoId = id.RepoId;
        RepoFolder = Path.Combine(CacheDirectory, id.CacheFolderName);
        _locks = Path.Combine(CacheDirectory, ".locks", id.CacheFolderName);
    }

    readonly string _locks;

    /// <summary>The whole cache (the folder holding every <c>models--…</c> folder).</summary>
    public string CacheDirectory { get; }
    /// <summary><c>org/name</c>.</summary>
    public string RepoId { get; }
    /// <summary><c>{cache}/models--{org}--{name}</c>.</summary>
    public string RepoFolder { get; }

    /// <summary>The commit a revision names in the cache: the revision itself when it is a commit hash, else the
    /// content of <c>refs/{revision}</c>; null when the cache has no such ref.</summary>
    public string? CommitOf(string revision)
    {
        if (HubModelId.IsCommitHash(revision)) return revision;
        string path = RefPath(revision);
        if (!File.Exists(path)) return null;
        string commit = File.ReadAllText(path).Trim();
        return HubModelId.IsCommitHash(commit) ? commit : null;
    }

    /// <summary>Writes <c>refs/{revision}</c> = <paramref name="commit"/> (no newline) unless it already says so.
    /// Nothing is written for a revision that is itself a commit hash.</summary>
    public void WriteRef(string revision, string commit)
    {
        if (HubModelId.IsCommitHash(revision) || CommitOf(revision) == commit) return;
        string path = RefPath(revision);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        WriteAtomically(path, commit);
    }

    /// <summary><c>snapshots/{commit}</c>: the folder that looks like a model folder.</summary>
    public string SnapshotFolder(string commit) => Path.Combine(RepoFolder, "snapshots", commit);

    /// <summary><c>snapshots/{commit}/{file}</c> (<paramref name="file"/> is a repository path, <c>/</c>-separated).</summary>
    public string SnapshotFile(string commit, string file) => Path.Combine([SnapshotFolder(commit), .. Segments(file)]);

    /// <summary>True when the snapshot holds <paramref name="file"/> and, for a link, the blob it points to exists.</summary>
    public bool HasFile(string commit, string file) => IsUsableFile(SnapshotFile(commit, file));

    /// <summary>True when <c>.no_exist/{commit}/{file}</c> marks the file as absent from that commit.</summary>
    public bool IsKnownMissing(string commit, string file) => File.Exists(NoExistPath(commit, file));

    /// <summary>Marks <paramref name="file"/> as absent from <paramref name="commit"/> (<c>.no_exist/{commit}/{file}</c>).
    /// A cache that cannot be written is left as it is: the mark only saves a request next time.</summary>
    public void MarkMissing(string commit, string file)
    {
        string path = NoExistPath(commit, file);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (File.Open(path, FileMode.OpenOrCreate, FileAccess.Write)) { }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary><c>blobs/{etag}</c>.</summary>
    public string BlobPath(string etag) => Path.Combine(RepoFolder, "blobs", etag);

    /// <summary><c>.locks/models--{org}--{name}/{etag}.lock</c> (the lock huggingface_hub takes around a download).</summary>
    public string LockPath(string etag) => Path.Combine(_locks, etag + ".lock");

    /// <summary>Makes <c>snapshots/{commit}/{file}</c> point at <c>blobs/{etag}</c>: a relative symbolic link, or a
    /// copy of the blob where links cannot be made (<paramref name="useSymlinks"/> null: try a link first; false:
    /// copy). An existing entry is replaced.</summary>
    public void Link(string commit, string file, string etag, bool? useSymlinks)
    {
        string pointer = SnapshotFile(commit, file);
        string blob = BlobPath(etag);
        string folder = Path.GetDirectoryName(pointer)!;
        Directory.CreateDirectory(folder);
        if (File.Exists(pointer) || new FileInfo(pointer).LinkTarget is not null) File.Delete(pointer);
        if (useSymlinks != false)
        {
            try
            {
                File.CreateSymbolicLink(pointer, Path.GetRelativePath(folder, blob));
                return;
            }
            catch (Exception e) when (useSymlinks is null && e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                if (HasFile(commit, file)) return;   // another process linked it meanwhile
            }
        }
        string temp = pointer + $".{Guid.NewGuid():N}.tmp";
        try
        {
            File.Copy(blob, temp);
            File.Move(temp, pointer, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>True when <paramref name="path"/> is a file or a link whose final target is an existing file.</summary>
    internal static bool IsUsableFile(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is null) return info.Exists;
        try { return info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo { Exists: true }; }
        catch (IOException) { return false; }   // a link loop
    }

    /// <summary>Writes <paramref name="text"/> to a temporary file beside <paramref name="path"/>, then renames it over
    /// <paramref name="path"/>, so that a reader sees the old content or the new, never a part.</summary>
    internal static void WriteAtomically(string path, string text)
    {
        string temp = path + $".{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllText(temp, text);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    string RefPath(string revision) => Path.Combine([RepoFolder, "refs", .. Segments(revision)]);

    string NoExistPath(string commit, string file) => Path.Combine([RepoFolder, ".no_exist", commit, .. Segments(file)]);

    /// <summary>A repository path's segments; a path that would leave its folder (empty, <c>.</c> or <c>..</c>
    /// segments, a backslash, a rooted path) is refused.</summary>
    /// <exception cref="HubException">the path is not a plain relative repository path.</exception>
    internal static string[] Segments(string repositoryPath)
    {
        var segments = repositoryPath.Split('/');
        if (repositoryPath.Contains('\\') || segments.Any(s => s.Length == 0 || s is "." or ".." || s.Contains(':')))
            throw new HubException($"'{repositoryPath}' is not a plain file path inside a repository");
        return segments;
    }
}
