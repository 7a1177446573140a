using System.Diagnostics.CodeAnalysis;

namespace MixLens.Engine.Hub;

/// <summary>
/// A model repository of the HuggingFace hub as a user types it: <c>org/name</c> (or a bare <c>name</c>, as the old
/// canonical repositories such as <c>bert-base-uncased</c> are called), optionally followed by <c>@revision</c>: a
/// branch, a tag or a 40-character commit hash (default <c>main</c>).
/// </summary>
/// <remarks>Source: huggingface_hub <c>utils/_validators.py</c> (<c>validate_repo_id</c>: letters, digits, <c>_</c>,
/// <c>-</c> and <c>.</c>, at most one <c>/</c>, no <c>--</c> or <c>..</c>, not ending in <c>.git</c>, at most 96
/// characters, first and last character a letter, digit or <c>_</c>), <c>file_download.py</c> (<c>REGEX_COMMIT_HASH</c>
/// = <c>^[0-9a-f]{40}$</c>).</remarks>
public sealed record HubModelId(string RepoId, string Revision)
{
    /// <summary>The revision used when none is given.</summary>
    public const string DefaultRevision = "main";

    /// <summary>True when <see cref="Revision"/> is a full commit hash (40 lower-case hex digits), which needs no ref.</summary>
    public bool RevisionIsCommit => IsCommitHash(Revision);

    /// <summary><c>models--{org}--{name}</c>: the repository's folder in the hub cache (huggingface_hub
    /// <c>repo_folder_name</c>: the type's plural, then the id with every <c>/</c> as <c>--</c>).</summary>
    public string CacheFolderName => "models--" + RepoId.Replace("/", "--", StringComparison.Ordinal);

    /// <summary>The id as typed: <c>org/name</c>, with <c>@revision</c> unless it is <c>main</c>.</summary>
    public override string ToString() => Revision == DefaultRevision ? RepoId : $"{RepoId}@{Revision}";

    /// <summary>True for a full commit hash: 40 lower-case hexadecimal digits.</summary>
    public static bool IsCommitHash(string text) => text.Length == 40 && text.All(char.IsAsciiHexDigitLower);

    /// <summary>Parses <c>org/name[@revision]</c>; false for anything that is not a valid repository id (a path with
    /// more than one <c>/</c>, a backslash, a drive letter, <c>./</c>, an empty or unsafe revision).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out HubModelId? id)
    {
        id = null;
        if (string.IsNullOrEmpty(text)) return false;
        int at = text.IndexOf('@');
        string repo = at < 0 ? text : text[..at];
        string revision = at < 0 ? DefaultRevision : text[(at + 1)..];
        if (!IsValidRepoId(repo) || !IsValidRevision(revision)) return false;
        id = new HubModelId(repo, revision);
        return true;
    }

    /// <summary>Parses <c>org/name[@revision]</c>.</summary>
    /// <exception cref="ArgumentException">not a valid repository id (see <see cref="TryParse"/>).</exception>
    public static HubModelId Parse(string text) => TryParse(text, out var id) ? id
        : throw new ArgumentException($"'{text}' is not a hub repository id (org/name or org/name@revision)", nameof(text));

    /// <summary>huggingface_hub's rule for repository ids (see the remarks).</summary>
    public static bool IsValidRepoId(string repo)
    {
        if (repo.Length is 0 or > 96 || repo.Contains("--", StringComparison.Ordinal) || repo.Contains("..", StringComparison.Ordinal)
            || repo.EndsWith(".git", StringComparison.Ordinal))
            return false;
        var parts = repo.Split('/');
        return parts.Length <= 2 && parts.All(IsValidName);

        static bool IsValidName(string part) =>
            part.Length > 0 && IsWordChar(part[0]) && IsWordChar(part[^1])
            && part.All(c => IsWordChar(c) || c is '-' or '.');
        static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
    }

    /// <summary>A branch, tag or commit that can name a file under <c>refs/</c>: non-empty segments separated by
    /// <c>/</c> (as in <c>refs/pr/1</c>), none of them <c>.</c> or <c>..</c>, no backslash, colon or control character.</summary>
    public static bool IsValidRevision(string revision) =>
        revision.Length is > 0 and <= 256
        && revision.Split('/').All(s => s.Length > 0 && s is not ("." or ".."))
        && !revision.Any(c => char.IsControl(c) || c is '\\' or ':' or '@' or '*' or '?' or '"' or '<' or '>' or '|');
}
