using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace MixLens.Engine.Hub;

/// <summary>What the hub says about one file of a repository at one revision (a <c>HEAD</c> request).</summary>
/// <param name="Commit">the commit the revision resolved to (<c>X-Repo-Commit</c>).</param>
/// <param name="Etag">the blob name: <c>X-Linked-Etag</c> for an LFS file (its SHA-256), else <c>ETag</c> (the git
/// SHA-1), without <c>W/</c> and quotes.</param>
/// <param name="Size">bytes (<c>X-Linked-Size</c>, else <c>Content-Length</c>).</param>
/// <param name="DownloadUrl">where the content is: the redirect's <c>Location</c> (an LFS file's CDN address), else
/// the file's own URL.</param>
/// <param name="IsLfs">true when the hub named the blob with <c>X-Linked-Etag</c>: the name is a SHA-256 to verify.</param>
public sealed record HubFileMetadata(string Commit, string Etag, long Size, Uri DownloadUrl, bool IsLfs);

/// <summary>
/// Talks to the hub as huggingface_hub does: <c>HEAD {endpoint}/{repo}/resolve/{revision}/{file}</c> for a file's
/// commit, ETag, size and location (following only relative redirects, which a renamed repository answers with;
/// an LFS file answers with a redirect to its CDN address, whose headers are the metadata), then <c>GET</c> of the
/// content into <c>blobs/{etag}.incomplete</c> (resumed with <c>Range: bytes=N-</c> when a previous download broke
/// off), checked against the size and, for LFS files, the SHA-256, and renamed to <c>blobs/{etag}</c>.
/// <c>Authorization: Bearer</c> goes to the endpoint's own host only, never to a CDN it redirects to.
/// </summary>
/// <remarks>Source: huggingface_hub <c>file_download.py</c> (<c>hf_hub_url</c>, <c>get_hf_file_metadata</c>,
/// <c>_get_metadata_or_catch_error</c>, <c>http_get</c>, <c>_normalize_etag</c>) and <c>utils/_http.py</c>
/// (<c>hf_raise_for_status</c>: the <c>X-Error-Code</c> values RepoNotFound, GatedRepo, RevisionNotFound,
/// EntryNotFound, DisabledRepo).</remarks>
public sealed class HubDownloader : IDisposable
{
    const int MaxRedirects = 10;
    const int BufferSize = 1 << 20;
    static readonly TimeSpan LockWait = TimeSpan.FromMinutes(10);

    readonly HubOptions _options;
    readonly HttpClient _http;
    readonly Uri _endpoint;

    public HubDownloader(HubOptions options)
    {
        _options = options;
        if (!Uri.TryCreate(options.Endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new HubException($"HF_ENDPOINT '{options.Endpoint}' is not an http(s) URL");
        _endpoint = endpoint;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,                       // redirects are followed here, to read the hub's headers
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.MetadataTimeout,
            UseCookies = false,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("mixlens", "1.0"));
    }

    /// <summary><c>{endpoint}/{repo}/resolve/{revision}/{file}</c>, the revision escaped whole (<c>refs/pr/1</c> →
    /// <c>refs%2Fpr%2F1</c>), each path segment escaped (huggingface_hub <c>hf_hub_url</c>).</summary>
    public Uri ResolveUrl(string repoId, string revision, string file) =>
        new(_endpoint, $"{repoId}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");

    /// <summary>The metadata of <paramref name="file"/> at <paramref name="revision"/>, or null when the repository
    /// exists but lacks the file (<paramref name="missingAtCommit"/>: the commit the 404 named, if any).</summary>
    /// <exception cref="HubException">the repository or revision does not exist, is gated or private, or the answer
    /// lacks the hub's headers.</exception>
    /// <exception cref="HubUnreachableException">no answer (connection, DNS, timeout) or a 5xx/429 answer.</exception>
    public HubFileMetadata? GetMetadata(HubModelId id, string revision, string file, out string? missingAtCommit)
    {
        missingAtCommit = null;
        Uri url = ResolveUrl(id.RepoId, revision, file);
        for (int hop = 0; ; hop++)
        {
            using var response = Send(HttpMethod.Head, url, rangeFrom: null, _options.MetadataTimeout, id, file);
            int status = (int)response.StatusCode;
            string? location = Header(response, "Location");
            if (status is >= 300 and < 400 && location is not null && IsRelative(location))
            {
                if (hop == MaxRedirects) throw new HubException($"{id.RepoId}: more than {MaxRedirects} redirects for {file} ({url})");
                url = Combine(url, location);   // a renamed or moved repository
                continue;
            }
            string? commit = Header(response, "X-Repo-Commit");
            if (status >= 400)
            {
                if (IsMissingEntry(response))
                {
                    missingAtCommit = commit is not null && HubModelId.IsCommitHash(commit) ? commit : null;
                    return null;
                }
                throw Failure(response, id, revision, file, url);
            }
            if (commit is null || !HubModelId.IsCommitHash(commit))
                throw new HubException($"{url} answered without the hub's X-Repo-Commit header: is HF_ENDPOINT ({_options.Endpoint}) a HuggingFace hub? (a proxy or firewall may be answering instead)");
            string? linked = NormalizeEtag(Header(response, "X-Linked-Etag"));
            string? etag = linked ?? NormalizeEtag(Header(response, "ETag"));
            if (etag is null || !IsSafeBlobName(etag))
                throw new HubException($"{url} answered without a usable ETag ('{etag}'), so the file cannot be named in the cache");
            long? size = ParseLong(Header(response, "X-Linked-Size")) ?? response.Content.Headers.ContentLength;
            if (size is not long bytes)
                throw new HubException($"{url} answered without the file's size (X-Linked-Size or Content-Length)");
            // An LFS file's content is at the redirect's Location; any other file's at its URL, pinned to the commit
            // (so that a branch moving on between this request and the download cannot change the content).
            Uri download = location is not null && status is >= 300 and < 400 ? Combine(url, location)
                : revision == commit ? url : ResolveUrl(id.RepoId, commit, file);
            return new HubFileMetadata(commit, etag, bytes, download, IsLfs: linked is not null);
        }
    }

    /// <summary>
    /// Downloads a file into <c>blobs/{etag}</c> of <paramref name="cache"/> (nothing when the blob is there): under the
    /// blob's lock, into <c>blobs/{etag}.incomplete</c>, resuming from its length with <c>Range</c>, again after each
    /// broken-off connection (up to <see cref="HubOptions.DownloadRetries"/> times), then checks the size and, for an
    /// LFS file, the SHA-256, and renames it into place.
    /// </summary>
    /// <exception cref="HubException">the download failed for good, or its content does not match (the partial file is
    /// then deleted); a download that kept breaking off keeps its partial file for the next attempt.</exception>
    public void Download(HubModelId id, HubFileMetadata file, string path, HubCache cache)
    {
        string blob = cache.BlobPath(file.Etag);
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        using var fileLock = AcquireLock(cache.LockPath(file.Etag), id, path);
        if (HubCache.IsUsableFile(blob)) return;   // another process finished it while we waited
        string incomplete = blob + ".incomplete";
        for (int breaks = 0; ; breaks++)
        {
            try
            {
                Fetch(id, file, path, incomplete);
                break;
            }
            catch (BrokenDownloadException e)
            {
                if (breaks >= _options.DownloadRetries)
                    throw new HubException(
                        $"{id.RepoId}: the download of {path} broke off {(breaks == 0 ? "once" : $"{breaks + 1} times")} ({e.Message}); " +
                        $"run again to resume it from the {SizeOnDisk(incomplete)} bytes already in {incomplete}", e);
                Thread.Sleep(TimeSpan.FromSeconds(Math.Min(breaks, 4)));   // at once the first time, then back off: 1, 2, 3, 4 s
            }
        }
        Verify(id, file, path, incomplete);
        File.Move(incomplete, blob, overwrite: true);
    }

    /// <summary>One GET of the rest of the file, appended to <paramref name="incomplete"/>.</summary>
    void Fetch(HubModelId id, HubFileMetadata file, string path, string incomplete)
    {
        long have = SizeOnDisk(incomplete);
        if (have > file.Size) { File.Delete(incomplete); have = 0; }
        if (have == file.Size)
        {
            using (File.Open(incomplete, FileMode.OpenOrCreate)) { }   // complete already (an empty file, or a run stopped before the rename)
            return;
        }
        var progress = _options.Progress;
        bool started = false, completed = false;
        try
        {
            using var response = SendFollowingRedirects(file.DownloadUrl, have > 0 ? have : null, id, path);
            int status = (int)response.StatusCode;
            if (status == 416)
            {
                File.Delete(incomplete);
                throw new BrokenDownloadException($"the server refused the range from byte {have}; starting again");
            }
            if (status is >= 500 or 429) throw new BrokenDownloadException($"HTTP {status} from {response.RequestMessage?.RequestUri?.Host}");
            if (status >= 400) throw Failure(response, id, file.Commit, path, file.DownloadUrl);
            if (status == 206)
            {
                long? start = response.Content.Headers.ContentRange?.From;
                if (start != have)
                {
                    File.Delete(incomplete);
                    throw new BrokenDownloadException($"the server sent bytes from {start} when asked for {have}; starting again");
                }
            }
            else have = 0;   // 200: the whole file (the server ignored Range)
            long? length = response.Content.Headers.ContentLength;
            progress?.Started(path, file.Size, have);
            started = true;
            using var output = new FileStream(incomplete, have > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize);
            using var body = response.Content.ReadAsStream();
            var buffer = new byte[BufferSize];
            using var stall = new CancellationTokenSource();
            long received = 0;
            while (true)
            {
                stall.CancelAfter(_options.DownloadTimeout);   // restarted before every read: a stall, not a slow download, breaks off
                int n = body.ReadAsync(buffer, stall.Token).AsTask().GetAwaiter().GetResult();
                if (n == 0) break;
                output.Write(buffer, 0, n);
                received += n;
                progress?.Advanced(have + received);
            }
            output.Flush();
            if (length is long expected && received < expected)
                throw new BrokenDownloadException($"the connection closed after {received} of {expected} bytes");
            completed = true;
        }
        catch (HubUnreachableException e)
        {
            throw new BrokenDownloadException(e.Message, e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            throw new BrokenDownloadException(e is OperationCanceledException
                ? $"no data for {_options.DownloadTimeout.TotalSeconds:0} s" : e.Message, e);
        }
        finally
        {
            if (started) progress?.Finished(completed);
        }
    }

    /// <summary>The size the hub gave and, for an LFS file, the SHA-256 it is named by; a mismatch deletes the file.</summary>
    static void Verify(HubModelId id, HubFileMetadata file, string path, string incomplete)
    {
        long length = SizeOnDisk(incomplete);
        string? problem = null;
        if (length != file.Size) problem = $"{length} bytes arrived, the hub said {file.Size}";
        else if (file.IsLfs && file.Etag.Length == 64 && file.Etag.All(char.IsAsciiHexDigit))
        {
            string actual;
            using (var stream = new FileStream(incomplete, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize))
                actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (!actual.Equals(file.Etag, StringComparison.OrdinalIgnoreCase))
                problem = $"its SHA-256 is {actual}, the hub said {file.Etag}";
        }
        if (problem is null) return;
        File.Delete(incomplete);
        throw new HubException($"{id.RepoId}: the download of {path} is corrupt ({problem}); it was deleted: run again to download it anew");
    }

    /// <summary>A GET that follows every redirect (a CDN may redirect again), with <c>Range: bytes=N-</c> when resuming.</summary>
    HttpResponseMessage SendFollowingRedirects(Uri url, long? rangeFrom, HubModelId id, string file)
    {
        for (int hop = 0; ; hop++)
        {
            var response = Send(HttpMethod.Get, url, rangeFrom, _options.MetadataTimeout, id, file);
            int status = (int)response.StatusCode;
            if (status is >= 300 and < 400 && Header(response, "Location") is { } location)
            {
                response.Dispose();
                if (hop == MaxRedirects) throw new HubException($"{id.RepoId}: more than {MaxRedirects} redirects for {file} ({url})");
                url = Combine(url, location);
                continue;
            }
            return response;
        }
    }

    /// <summary>Sends one request; <c>Authorization</c> only to the endpoint's own scheme, host and port.</summary>
    HttpResponseMessage Send(HttpMethod method, Uri url, long? rangeFrom, TimeSpan headersTimeout, HubModelId id, string file)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
        if (rangeFrom is long from) request.Headers.Range = new RangeHeaderValue(from, null);
        if (_options.Token is { } token && Uri.Compare(url, _endpoint, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var timeout = new CancellationTokenSource(headersTimeout);
        try
        {
            return _http.Send(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            string why = e is OperationCanceledException ? $"no answer within {headersTimeout.TotalSeconds:0} s" : Innermost(e).Message;
            throw new HubUnreachableException($"cannot reach {url.GetLeftPart(UriPartial.Authority)} for {file} of {id.RepoId} ({why})", e);
        }
    }

    /// <summary>The one-line error for an error answer, by the hub's <c>X-Error-Code</c> (huggingface_hub
    /// <c>hf_raise_for_status</c>).</summary>
    Exception Failure(HttpResponseMessage response, HubModelId id, string revision, string file, Uri url)
    {
        int status = (int)response.StatusCode;
        string? code = Header(response, "X-Error-Code");
        string? detail = Header(response, "X-Error-Message");
        string page = $"{_options.Endpoint.TrimEnd('/')}/{id.RepoId}";
        string login = "set HF_TOKEN to an access token, or run `huggingface-cli login`";
        return (code, status) switch
        {
            ("GatedRepo", _) => new HubException(_options.Token is null
                ? $"{id.RepoId} is a gated repository: accept its conditions at {page}, then {login}"
                : $"{id.RepoId} is a gated repository and the token in use has no access to it: accept its conditions at {page} with that account"),
            ("RepoNotFound", _) or (_, 401) => HubException.NotFound(id.RepoId, _options.Token is null
                ? $"a repository on {_options.Endpoint} (if it is private, {login})"
                : $"a repository on {_options.Endpoint} that the token in use can see (HTTP {status})"),
            ("RevisionNotFound", _) => new HubException($"{id.RepoId} has no revision '{revision}'"),
            ("DisabledRepo", _) => new HubException($"{id.RepoId} has been disabled on {_options.Endpoint}"),
            (_, 403) => new HubException($"access to {file} of {id.RepoId} is forbidden (HTTP 403{(detail is null ? "" : ": " + detail)})"),
            (_, 429) or (_, >= 500) => new HubUnreachableException($"{url.GetLeftPart(UriPartial.Authority)} answered HTTP {status} for {file} of {id.RepoId}"),
            _ => new HubException($"HTTP {status} for {url}{(detail is null ? "" : ": " + detail)}"),
        };
    }

    /// <summary>A 404 for a file of an existing repository (EntryNotFound, or a plain 404 from a server that sends no
    /// error code).</summary>
    static bool IsMissingEntry(HttpResponseMessage response) =>
        (int)response.StatusCode == 404 && Header(response, "X-Error-Code") is null or "EntryNotFound";

    static FileStream AcquireLock(string path, HubModelId id, string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < LockWait)
            {
                Thread.Sleep(200);   // another process (MixLens or Python) is downloading this blob
            }
            catch (IOException e)
            {
                throw new HubException($"{id.RepoId}: {file} has been locked by another download for {LockWait.TotalMinutes:0} minutes ({path})", e);
            }
        }
    }

    static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? values.FirstOrDefault() : null;

    /// <summary>huggingface_hub <c>_normalize_etag</c>: without a leading <c>W/</c> and the quotes.</summary>
    internal static string? NormalizeEtag(string? etag)
    {
        if (etag is null) return null;
        if (etag.StartsWith("W/", StringComparison.Ordinal)) etag = etag[2..];
        etag = etag.Trim('"');
        return etag.Length == 0 ? null : etag;
    }

    /// <summary>An ETag that can be a file name in <c>blobs/</c>.</summary>
    static bool IsSafeBlobName(string etag) =>
        etag.Length <= 200 && etag is not ("." or "..") && etag.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>A relative <c>Location</c> (no scheme and host): huggingface_hub follows only these for metadata.</summary>
    static bool IsRelative(string location) =>
        !location.StartsWith("//", StringComparison.Ordinal) && !Uri.TryCreate(location, UriKind.Absolute, out var absolute)
        || location.StartsWith('/') && !location.StartsWith("//", StringComparison.Ordinal);

    /// <summary>A <c>Location</c> against the URL that answered it (a leading <c>/</c> is a path on the same server,
    /// not a Unix file name).</summary>
    static Uri Combine(Uri url, string location) =>
        location.StartsWith('/') && !location.StartsWith("//", StringComparison.Ordinal)
            ? new Uri(url.GetLeftPart(UriPartial.Authority) + location)
            : new Uri(url, location);

    static long? ParseLong(string? value) =>
        long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v) ? v : null;

    static long SizeOnDisk(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The connection broke off (or the server would not resume): the download is retried from what arrived.</summary>
    sealed class BrokenDownloadException(string message, Exception? inner = null) : Exception(message, inner);
}
