namespace MixLens.Engine.Hub;

/// <summary>
/// Where the HuggingFace hub cache is, which server to download from, with which token, and whether the network may be
/// used at all. <see cref="FromEnvironment"/> reads the environment variables huggingface_hub reads, with its defaults,
/// so MixLens and Python share one cache.
/// </summary>
/// <remarks>Source: huggingface_hub <c>constants.py</c> (<c>HF_HOME</c>, <c>HF_HUB_CACHE</c>, <c>HF_HUB_OFFLINE</c>,
/// <c>HF_ENDPOINT</c>, <c>HF_TOKEN_PATH</c>, <c>HF_HUB_ETAG_TIMEOUT</c>, <c>HF_HUB_DOWNLOAD_TIMEOUT</c>) and
/// <c>utils/_auth.py</c> (<c>get_token</c>).</remarks>
public sealed record HubOptions
{
    /// <summary>The public hub.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>The cache folder holding <c>models--{org}--{name}</c> folders.</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>The hub's base URL, without a trailing slash.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>The access token sent as <c>Authorization: Bearer</c> to <see cref="Endpoint"/> (never to the
    /// servers it redirects to), or null.</summary>
    public string? Token { get; init; }

    /// <summary>When true nothing is downloaded: only what the cache holds is used, and a missing file is an error that
    /// names it.</summary>
    public bool Offline { get; init; }

    /// <summary>How long to wait for the server to answer a metadata request (and for a connection).</summary>
    public TimeSpan MetadataTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a download may go without receiving a byte before it is treated as broken off (and resumed).</summary>
    public TimeSpan DownloadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a broken-off download is resumed (with a <c>Range</c> request) before giving up.</summary>
    public int DownloadRetries { get; init; } = 5;

    /// <summary>Whether snapshot files are symbolic links into <c>blobs/</c> (null: try, and copy where the file system
    /// or the platform refuses, as huggingface_hub does on Windows without developer mode).</summary>
    public bool? UseSymlinks { get; init; }

    /// <summary>Told about each file download (a progress bar); null for none.</summary>
    public IDownloadProgress? Progress { get; init; }

    /// <summary>The options the environment gives, as huggingface_hub reads them:
    /// <list type="bullet">
    /// <item>cache: <c>HF_HUB_CACHE</c> (or the older <c>HUGGINGFACE_HUB_CACHE</c>), else <c>$HF_HOME/hub</c>, where
    /// <c>HF_HOME</c> defaults to <c>$XDG_CACHE_HOME/huggingface</c>, i.e. <c>~/.cache/huggingface</c>;</item>
    /// <item><c>HF_HUB_OFFLINE</c> (or <c>TRANSFORMERS_OFFLINE</c>) = 1, ON, YES or TRUE (any case): offline;</item>
    /// <item><c>HF_ENDPOINT</c>: the server (default <see cref="DefaultEndpoint"/>);</item>
    /// <item>token: <c>HF_TOKEN</c> (or <c>HUGGING_FACE_HUB_TOKEN</c>), else the file <c>HF_TOKEN_PATH</c>, default
    /// <c>$HF_HOME/token</c> (what <c>huggingface-cli login</c> writes); line breaks and surrounding spaces removed;</item>
    /// <item><c>HF_HUB_ETAG_TIMEOUT</c>, <c>HF_HUB_DOWNLOAD_TIMEOUT</c>: seconds (default 10 each).</item>
    /// </list></summary>
    /// <param name="getVariable">reads a variable (default: the process environment); tests pass their own.</param>
    public static HubOptions FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        string? Get(string name) => getVariable(name) is { Length: > 0 } value ? value : null;

        string hfHome = ExpandUser(Get("HF_HOME") ?? Path.Combine(Get("XDG_CACHE_HOME") ?? Path.Combine(Home(), ".cache"), "huggingface"));
        string cache = ExpandUser(Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(hfHome, "hub"));
        string tokenPath = ExpandUser(Get("HF_TOKEN_PATH") ?? Path.Combine(hfHome, "token"));
        string? token = CleanToken(Get("HF_TOKEN") ?? Get("HUGGING_FACE_HUB_TOKEN")) ?? ReadTokenFile(tokenPath);
        return new HubOptions
        {
            CacheDirectory = cache,
            Endpoint = (Get("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/'),
            Token = token,
            Offline = IsTrue(Get("HF_HUB_OFFLINE") ?? Get("TRANSFORMERS_OFFLINE")),
            MetadataTimeout = Seconds(Get("HF_HUB_ETAG_TIMEOUT")) ?? TimeSpan.FromSeconds(10),
            DownloadTimeout = Seconds(Get("HF_HUB_DOWNLOAD_TIMEOUT")) ?? TimeSpan.FromSeconds(10),
        };
    }

    /// <summary>huggingface_hub's <c>_is_true</c>: 1, ON, YES or TRUE in any case.</summary>
    internal static bool IsTrue(string? value) =>
        value is not null && value.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    static TimeSpan? Seconds(string? value) =>
        int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int s) && s > 0
            ? TimeSpan.FromSeconds(s) : null;

    static string? CleanToken(string? token) =>
        token?.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal).Trim() is { Length: > 0 } t ? t : null;

    static string? ReadTokenFile(string path)
    {
        try { return File.Exists(path) ? CleanToken(File.ReadAllText(path)) : null; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    static string Home() => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    /// <summary>Python's <c>os.path.expanduser</c> for the current user: a leading <c>~</c> becomes the home folder.</summary>
    static string ExpandUser(string path) =>
        path == "~" ? Home()
        : path.StartsWith("~/", StringComparison.Ordinal) || path.StartsWith("~\\", StringComparison.Ordinal) ? Path.Combine(Home(), path[2..])
        : path;
}

/// <summary>Told about file downloads, e.g. to draw a progress bar. Calls come from the downloading thread.</summary>
public interface IDownloadProgress
{
    /// <summary>A download of <paramref name="file"/> starts (or resumes at <paramref name="resumedAt"/> bytes);
    /// <paramref name="totalBytes"/> is its size when the server said.</summary>
    void Started(string file, long? totalBytes, long resumedAt);

    /// <summary><paramref name="bytesOnDisk"/> of the file have arrived.</summary>
    void Advanced(long bytesOnDisk);

    /// <summary>The download ended: complete, or broken off (<paramref name="completed"/> false; it may be resumed).</summary>
    void Finished(bool completed);
}
