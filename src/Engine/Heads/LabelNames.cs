using MixLens.Engine.Model;

namespace MixLens.Engine.Heads;

/// <summary>The class names of a classification head.</summary>
internal static class LabelNames
{
    /// <summary>
    /// config.json's <c>id2label</c> when it has one, else "LABEL_0".."LABEL_{k-1}" as HF names them.
    /// </summary>
    /// <param name="config">the model's config.</param>
    /// <param name="labels">k, the rows of the head's output weight.</param>
    /// <param name="weight">the output weight's name, for the message.</param>
    /// <exception cref="ModelFormatException">id2label has a different number of labels than the weight has rows.</exception>
    public static IReadOnlyList<string> Of(EncoderConfig config, int labels, string weight)
    {
        if (config.Id2Label.Count != 0 && config.Id2Label.Count != labels)
            throw new ModelFormatException($"config.json id2label has {config.Id2Label.Count} labels but {weight} has {labels} rows");
        return config.Id2Label.Count != 0 ? config.Id2Label : Enumerable.Range(0, labels).Select(k => $"LABEL_{k}").ToArray();
    }
}
