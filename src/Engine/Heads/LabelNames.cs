using MixLens.Engine.Model;

namespace MixLens.Engine.Heads;

/// <summary>The class names of a classification head.</summary>
internal static class LabelNames
{
    /// <summary>
    /// config.json's <c>id2label</c> when it has one, else "LABEL_0".."LABEL_{k-1}" as HF names them. As in HF's
    /// <c>PretrainedConfig</c>, <c>label2id</c> alone does not name the labels (HF rebuilds it from the default
    /// id2label), and <c>num_labels</c> counts only when there is no id2label.
    /// </summary>
    /// <param name="config">the model's config.</param>
    /// <param name="labels">k, the rows of the head's output weight.</param>
    /// <param name="weight">the output weight's name, for the message.</param>
    /// <exception cref="ModelFormatException">id2label (or, without it, num_labels) has a different number of labels
    /// than the weight has rows (HF's from_pretrained refuses the same checkpoint with a size mismatch).</exception>
    public static IReadOnlyList<string> Of(EncoderConfig config, int labels, string weight)
    {
        if (config.Id2Label.Count != 0 && config.Id2Label.Count != labels)
            throw new ModelFormatException($"config.json id2label has {config.Id2Label.Count} labels but {weight} has {labels} rows");
        if (config.Id2Label.Count == 0 && config.NumLabels is int stated && stated != labels)
            throw new ModelFormatException($"config.json num_labels is {stated} but {weight} has {labels} rows");
        return config.Id2Label.Count != 0 ? config.Id2Label : Enumerable.Range(0, labels).Select(k => $"LABEL_{k}").ToArray();
    }
}
