namespace MixLens.Engine.Hub;

/// <summary>
/// A model could not be found or fetched from the HuggingFace hub: a repository, revision or required file that does
/// not exist, a gated or private repository without a usable token, a file missing from the cache while offline, a
/// download that failed or did not match its checksum. The message is one line naming the repository and file.
/// </summary>
public class HubException : Exception
{
    public HubException(string message) : base(message) { }
    public HubException(string message, Exception? inner) : base(message, inner) { }

    /// <summary>True when the hub said the repository itself does not exist (or is private and the token cannot see
    /// it), as opposed to a file, a revision or access.</summary>
    public bool RepositoryNotFound { get; init; }
}

/// <summary>The hub could not be reached (connection refused, name not resolved, timeout, a 5xx or 429 answer):
/// like huggingface_hub, the resolver then falls back to what the cache holds.</summary>
public sealed class HubUnreachableException : HubException
{
    public HubUnreachableException(string message, Exception? inner = null) : base(message, inner) { }
}
