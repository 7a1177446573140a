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

    /// <summary>Set when the repository itself was not found (as opposed to a file, a revision or access): where it
    /// was looked for, as a phrase that follows "is not" ("in the hub cache /x; HF_HUB_OFFLINE is set, …", "a
    /// repository on https://huggingface.co (if it is private, …)"), so that a caller can say more about the name.</summary>
    public string? NotFoundWhere { get; init; }

    /// <summary>True when the repository itself was not found (<see cref="NotFoundWhere"/>).</summary>
    public bool RepositoryNotFound => NotFoundWhere is not null;

    /// <summary>"{repository} is not {where}", marked as a repository not found.</summary>
    public static HubException NotFound(string repository, string where) => new($"{repository} is not {where}") { NotFoundWhere = where };
}

/// <summary>The hub could not be reached (connection refused, name not resolved, timeout, a 5xx or 429 answer):
/// like huggingface_hub, the resolver then falls back to what the cache holds.</summary>
public sealed class HubUnreachableException : HubException
{
    public HubUnreachableException(string message, Exception? inner = null) : base(message, inner) { }
}
