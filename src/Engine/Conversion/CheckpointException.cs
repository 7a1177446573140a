namespace MixLens.Engine.Conversion;

/// <summary>
/// Thrown for a PyTorch checkpoint that cannot be converted: not a checkpoint, truncated, malformed pickle, missing or
/// short storage, unsupported content. The message names the file and, where one is involved, the tensor, storage or
/// byte offset.
/// </summary>
public class CheckpointException : Exception
{
    public CheckpointException(string message) : base(message) { }
    public CheckpointException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// Thrown when a checkpoint's pickle names a global that is not on the allow-list (for example <c>os.system</c> or
/// <c>builtins.eval</c>). It is raised at the opcode that names the global, before anything else is read; the
/// restricted unpickler never imports, calls or executes anything, so nothing has run when this is thrown.
/// </summary>
public sealed class UnsafeCheckpointException(string message, string globalName) : CheckpointException(message)
{
    /// <summary>The refused global as <c>module.name</c> (after the Python 2 → 3 renaming pickle applies).</summary>
    public string GlobalName { get; } = globalName;
}
