namespace MixLens.Engine.Model;

/// <summary>
/// Thrown when a model directory cannot be loaded: a missing or malformed <c>config.json</c>, an unsupported
/// <c>model_type</c> or activation, or a missing or mis-shaped weight. The message names the file and the field
/// or tensor at fault (for weights: the expected and the actual shape).
/// </summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string message) : base(message) { }
    public ModelFormatException(string message, Exception inner) : base(message, inner) { }
}
