namespace MixLens.Engine.Hub;

/// <summary>
/// The files of one repository revision, found in the hub cache's snapshot and, in <see cref="Mode.Online"/>,
/// downloaded into it when missing. Every file of one resolution comes from one commit: the first answer of the hub
/// pins the revision's commit (and writes <c>refs/{revision}</c>), and later requests name that commit.
/// </summary>
internal sealed class HubSnapshot
{
    internal enum Mode
    {
        /// <summary>Only what the cache says for sure: a file in the snapshot, or marked absent in <c>.no_exist</c>;
        /// anything else throws <see cref="CacheMissException"/> (the resolver then goes online, or offline).</summary>
        CacheOnly,
        /// <summary>The cache only: a file not in the snapshot counts as absent, and a required one is an error.</summary>
        Offline,
        /// <summary>The cache, then the hub for whatever the cache does not settle.</summary>
        Online,
    }

    readonly HubCache _cache;
    readonly HubModelId _id;
    readonly Mode _mode;
    readonly HubOptions _options;
    readonly HubDownloader? _downloader;
    readonly string _offlineReason;
    string? _commit;

    /// <param name="offlineReason">(offline only) why nothing is downloaded, for the error messages.</param>
    /// <exception cref="CacheMissException">(cache only) the cache has no ref for the revision.</exception>
    /// <exception cref="HubException">(offline) the cache has no ref for the revision.</exception>
    public HubSnapshot(HubCache cache, HubModelId id, Mode mode, HubOptions options, HubDownloader? downloader = null, string offlineReason = "")
    {
        _cache = cache;
        _id = id;
        _mode = mode;
        _options = options;
        _downloader = downloader;
        _offlineReason = offlineReason;
        // Online, a branch or tag is resolved by the hub (its first answer), not by the cached ref, which may be old.
        _commit = mode == Mode.Online && !id.RevisionIsCommit ? null : cache.CommitOf(id.Revision);
        if (_commit is null && mode == Mode.CacheOnly) throw new CacheMissException();
        if (_commit is null && mode == Mode.Offline)
            throw Directory.Exists(cache.RepoFolder)
                ? new HubException($"{id} is not in the hub cache: {cache.RepoFolder} has no refs/{id.Revision}; {offlineReason}")
                : HubException.NotFound(id.ToString(), $"in the hub cache {cache.CacheDirectory}; {offlineReason}");
    }

    public HubModelId Id => _id;

    /// <summary><c>snapshots/{commit}</c>.</summary>
    /// <exception cref="HubException">no answer named a commit (every file was missing).</exception>
    public string Folder => _cache.SnapshotFolder(_commit
        ?? throw new HubException($"{_id}: the hub did not say which commit the revision is (none of the files asked for exist)"));

    /// <summary>The path of <paramref name="file"/> in the snapshot, downloading it when the mode allows, or null when
    /// the repository lacks it.</summary>
    /// <exception cref="HubException">a <paramref name="required"/> file is absent (or, offline, not in the cache).</exception>
    /// <exception cref="CacheMissException">(cache only) the cache cannot tell.</exception>
    public string? Get(string file, bool required)
    {
        if (_commit is not null)
        {
            if (_cache.HasFile(_commit, file)) return _cache.SnapshotFile(_commit, file);
            if (_cache.IsKnownMissing(_commit, file)) return Absent(file, required);
        }
        switch (_mode)
        {
            case Mode.CacheOnly:
                throw new CacheMissException();
            case Mode.Offline:
                return required ? throw NotCached(file) : null;
        }
        var metadata = Metadata(file);
        if (metadata is null) return Absent(file, required);
        string path = _cache.SnapshotFile(_commit!, file);
        if (_cache.HasFile(_commit!, file)) return path;
        if (!HubCache.IsUsableFile(_cache.BlobPath(metadata.Etag)))
            _downloader!.Download(_id, metadata, file, _cache);
        _cache.Link(_commit!, file, metadata.Etag, _options.UseSymlinks);
        return path;
    }

    /// <summary>True when the repository has <paramref name="file"/>; nothing is downloaded (online: a HEAD request).</summary>
    public bool Exists(string file)
    {
        if (_commit is not null)
        {
            if (_cache.HasFile(_commit, file)) return true;
            if (_cache.IsKnownMissing(_commit, file)) return false;
        }
        return _mode switch
        {
            Mode.CacheOnly => throw new CacheMissException(),
            Mode.Offline => false,
            _ => Metadata(file) is not null,
        };
    }

    /// <summary>HEAD for <paramref name="file"/>: pins the commit from the answer, marks a missing file in
    /// <c>.no_exist</c>; null when the file does not exist.</summary>
    HubFileMetadata? Metadata(string file)
    {
        var metadata = _downloader!.GetMetadata(_id, _commit ?? _id.Revision, file, out string? missingAt);
        if (metadata is null)
        {
            if (missingAt is not null) Pin(missingAt);
            if (_commit is not null) _cache.MarkMissing(_commit, file);
            return null;
        }
        Pin(metadata.Commit);
        return metadata;
    }

    void Pin(string commit)
    {
        if (_commit is not null) return;
        _commit = commit;
        _cache.WriteRef(_id.Revision, commit);
    }

    /// <summary>True when nothing is downloaded and files the cache lacks count as absent.</summary>
    public bool IsOffline => _mode == Mode.Offline;

    /// <summary>(offline) The error for a needed file the cache lacks.</summary>
    public HubException NotCached(string file) =>
        new($"{_id}: {file} is not in the hub cache ({_cache.SnapshotFolder(_commit!)}); {_offlineReason}");

    string? Absent(string file, bool required) => required
        ? throw new HubException($"{_id}: the repository has no {file}{(_commit is null ? "" : $" (commit {_commit})")}")
        : null;

    /// <summary>The cache alone cannot settle a file (cache-only mode).</summary>
    internal sealed class CacheMissException : Exception;
}
