namespace MixLens.Engine.SafeTensors;

/// <summary>
/// Thrown for any malformed, truncated or inconsistent safetensors file, or for a request the file cannot satisfy
/// (missing tensor, wrong dtype). The message always names the file and, where one is involved, the tensor.
/// </summary>
public sealed class SafeTensorsException : Exception
{
    public SafeTensorsException(string message) : base(message) { }
    public SafeTensorsException(string message, Exception inner) : base(message, inner) { }
}
