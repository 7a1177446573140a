using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace MixLens.Tests.Hub;

/// <summary>One request the fake hub received.</summary>
public sealed record FakeHubRequest(string Method, string Path, string? Range, string? Authorization);

/// <summary>
/// A local HTTP/1.1 server (a bare <see cref="TcpListener"/>, one request per connection) that answers like the
/// HuggingFace hub, as huggingface_hub expects it to:
/// <list type="bullet">
/// <item><c>HEAD|GET /{repo}/resolve/{revision}/{path}</c>: an ordinary file answers 200 with <c>ETag: "{git sha1}"</c>,
/// <c>X-Repo-Commit</c> and the content; an LFS file (<c>*.safetensors</c>, <c>*.bin</c>) answers 302 to
/// <c>{cdn}/cdn/{sha256}</c> (absolute) with <c>X-Linked-Etag: "{sha256}"</c>, <c>X-Linked-Size</c> and
/// <c>X-Repo-Commit</c>;</item>
/// <item>errors as the hub sends them: unknown repository 401 <c>X-Error-Code: RepoNotFound</c>; gated repository
/// 401 (no token) or 403 (another token) <c>GatedRepo</c>; unknown revision 404 <c>RevisionNotFound</c>; missing file
/// 404 <c>EntryNotFound</c> with <c>X-Repo-Commit</c>;</item>
/// <item>a renamed repository: 307 to the new name's path (a relative <c>Location</c>);</item>
/// <item><c>GET /cdn/{sha256}</c> (the CDN, addressed as <see cref="CdnEndpoint"/>): honours <c>Range: bytes=N-</c> (206 + <c>Content-Range</c>), and can drop
/// the connection half-way through a blob's first download (<see cref="DropOnce"/>), or stall there with the
/// connection open (<see cref="StallOnce"/>).</item>
/// </list>
/// Every request is logged (<see cref="Requests"/>).
/// </summary>
public sealed class FakeHub : IDisposable
{
    sealed record Repo(string Commit, Dictionary<string, byte[]> Files, string? Token);

    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly ConcurrentDictionary<string, Repo> _repos = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, string> _renamed = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);
    readonly CancellationTokenSource _stop = new();

    public FakeHub()
    {
        _listener.Start();
        Endpoint = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _ = Task.Run(AcceptLoop);
    }

    /// <summary><c>http://127.0.0.1:{port}</c>.</summary>
    public string Endpoint { get; }

    /// <summary>The same server under another host name, <c>http://localhost:{port}</c>, standing for the CDN that LFS
    /// files redirect to (a token must not be sent there).</summary>
    public string CdnEndpoint => Endpoint.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);

    public ConcurrentQueue<FakeHubRequest> Requests { get; } = new();

    /// <summary>SHA-256s of blobs whose next CDN download sends half the bytes, then closes the connection.</summary>
    public ConcurrentDictionary<string, bool> DropOnce { get; } = new();

    /// <summary>SHA-256s of blobs whose next CDN download sends half the bytes, then nothing, keeping the connection open.</summary>
    public ConcurrentDictionary<string, bool> StallOnce { get; } = new();

    /// <summary>Adds a repository at <paramref name="commit"/>; with a <paramref name="token"/> it is gated.</summary>
    public void AddRepo(string repoId, string commit, IReadOnlyDictionary<string, byte[]> files, string? token = null)
    {
        _repos[repoId] = new Repo(commit, new Dictionary<string, byte[]>(files, StringComparer.Ordinal), token);
        foreach (var (name, content) in files)
            if (IsLfs(name)) _blobs[Sha256(content)] = content;
    }

    /// <summary>Makes <paramref name="oldId"/> redirect to <paramref name="newId"/>, as the hub does for a renamed repository.</summary>
    public void Rename(string oldId, string newId) => _renamed[oldId] = newId;

    public static bool IsLfs(string path) => path.EndsWith(".safetensors", StringComparison.Ordinal) || path.EndsWith(".bin", StringComparison.Ordinal);

    public static string Sha256(byte[] content) => System.Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>The git blob id of a file: SHA-1 of <c>"blob {length}\0"</c> + content (the hub's ETag of an ordinary file).</summary>
    public static string GitBlobSha1(byte[] content) =>
        System.Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]));

    /// <summary>The blob name huggingface_hub gives a file: SHA-256 for LFS files, git SHA-1 otherwise.</summary>
    public static string Etag(string path, byte[] content) => IsLfs(path) ? Sha256(content) : GitBlobSha1(content);

    async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    async Task Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var (method, target, headers) = await ReadRequest(stream);
                headers.TryGetValue("range", out var range);
                headers.TryGetValue("authorization", out var authorization);
                Requests.Enqueue(new FakeHubRequest(method, target, range, authorization));
                await Answer(stream, method, target, range, authorization);
            }
            catch (IOException) { }
            catch (SocketException) { }
        }
    }

    async Task Answer(NetworkStream stream, string method, string target, string? range, string? authorization)
    {
        string path = target.Split('?')[0];
        if (path.StartsWith("/cdn/", StringComparison.Ordinal))
        {
            await ServeBlob(stream, method, path["/cdn/".Length..], range);
            return;
        }
        int resolve = path.IndexOf("/resolve/", StringComparison.Ordinal);
        if (resolve < 0) { await Write(stream, 404, [], null, method); return; }
        string repoId = path[1..resolve];
        string[] rest = path[(resolve + "/resolve/".Length)..].Split('/', 2);
        string revision = Uri.UnescapeDataString(rest[0]);
        string file = rest.Length > 1 ? string.Join('/', rest[1].Split('/').Select(Uri.UnescapeDataString)) : "";

        if (_renamed.TryGetValue(repoId, out var newId))
        {
            await Write(stream, 307, [("Location", $"/{newId}/resolve/{rest[0]}/{(rest.Length > 1 ? rest[1] : "")}")], null, method);
            return;
        }
        if (!_repos.TryGetValue(repoId, out var repo))
        {
            await Write(stream, 401, [("X-Error-Code", "RepoNotFound"), ("X-Error-Message", "Repository not found")], null, method);
            return;
        }
        if (repo.Token is { } token && authorization != $"Bearer {token}")
        {
            await Write(stream, authorization is null ? 401 : 403,
                [("X-Error-Code", "GatedRepo"), ("X-Error-Message", $"Access to model {repoId} is restricted.")], null, method);
            return;
        }
        if (revision != "main" && revision != repo.Commit)
        {
            await Write(stream, 404, [("X-Error-Code", "RevisionNotFound"), ("X-Error-Message", "Invalid rev id: " + revision)], null, method);
            return;
        }
        if (!repo.Files.TryGetValue(file, out var content))
        {
            await Write(stream, 404, [("X-Error-Code", "EntryNotFound"), ("X-Repo-Commit", repo.Commit), ("X-Error-Message", "Entry not found")], null, method);
            return;
        }
        if (IsLfs(file))
        {
            string sha = Sha256(content);
            await Write(stream, 302,
            [
                ("Location", $"{CdnEndpoint}/cdn/{sha}"), ("X-Repo-Commit", repo.Commit), ("X-Linked-Etag", $"\"{sha}\""),
                ("X-Linked-Size", content.Length.ToString()), ("ETag", $"\"{GitBlobSha1(Encoding.ASCII.GetBytes("lfs pointer " + sha))}\""),
            ], null, method);
            return;
        }
        await Write(stream, 200, [("X-Repo-Commit", repo.Commit), ("ETag", $"\"{GitBlobSha1(content)}\"")], content, method);
    }

    async Task ServeBlob(NetworkStream stream, string method, string sha, string? range)
    {
        if (!_blobs.TryGetValue(sha, out var content)) { await Write(stream, 404, [], null, method); return; }
        long from = 0;
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
            from = long.Parse(range["bytes=".Length..^1]);
        if (from > content.Length)
        {
            await Write(stream, 416, [("Content-Range", $"bytes */{content.Length}")], null, method);
            return;
        }
        byte[] body = content[(int)from..];
        (string, string)[] headers = range is null ? [("ETag", $"\"{sha}\"")]
            : [("ETag", $"\"{sha}\""), ("Content-Range", $"bytes {from}-{content.Length - 1}/{content.Length}")];
        if (method == "GET" && DropOnce.TryRemove(sha, out _))
        {
            await Write(stream, range is null ? 200 : 206, headers, body, method, stopAfter: body.Length / 2);
            return;
        }
        if (method == "GET" && StallOnce.TryRemove(sha, out _))
        {
            await Write(stream, range is null ? 200 : 206, headers, body, method, stopAfter: body.Length / 2);
            try { await Task.Delay(Timeout.Infinite, _stop.Token); }
            catch (OperationCanceledException) { }
            return;
        }
        await Write(stream, range is null ? 200 : 206, headers, body, method);
    }

    static async Task Write(NetworkStream stream, int status, (string Name, string Value)[] headers, byte[]? body, string method, int? stopAfter = null)
    {
        var head = new StringBuilder($"HTTP/1.1 {status} {Reason(status)}\r\n");
        foreach (var (name, value) in headers) head.Append($"{name}: {value}\r\n");
        head.Append($"Content-Length: {body?.Length ?? 0}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        if (body is not null && method == "GET")
        {
            int n = stopAfter ?? body.Length;
            await stream.WriteAsync(body.AsMemory(0, n));
            await stream.FlushAsync();
        }
    }

    static string Reason(int status) => status switch
    {
        200 => "OK", 206 => "Partial Content", 302 => "Found", 307 => "Temporary Redirect", 401 => "Unauthorized",
        403 => "Forbidden", 404 => "Not Found", 416 => "Range Not Satisfiable", _ => "Status",
    };

    static async Task<(string Method, string Target, Dictionary<string, string> Headers)> ReadRequest(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var buffer = new byte[1];
        while (!(bytes.Count >= 4 && bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n'))
        {
            if (await stream.ReadAsync(buffer) == 0) throw new IOException("connection closed before the request ended");
            bytes.Add(buffer[0]);
        }
        var lines = Encoding.ASCII.GetString(bytes.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var parts = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0) headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
        }
        return (parts[0], parts[1], headers);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
