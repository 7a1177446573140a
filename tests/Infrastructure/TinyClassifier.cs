using System.Text.Json.Nodes;
using MixLens.Tests.Heads;

namespace MixLens.Tests.Infrastructure;

/// <summary>
/// A small sequence classifier for the gradient methods' plumbing tests: roberta-random's encoder (2 layers, d = 32,
/// 4 heads) plus a seeded random RobertaForSequenceClassification head with two labels, id2label
/// {0: "negative", 1: "positive"}; cheap enough for every method, hta included. Written once per test process
/// (<see cref="Directory"/>), deleted at exit.
/// </summary>
public static class TinyClassifier
{
    static readonly Lazy<SyntheticCheckpoint> Checkpoint = new(() =>
    {
        var checkpoint = SyntheticCheckpoint.RobertaClassifier(2, seed: 71);
        checkpoint.Write("roberta.", c =>
        {
            c["architectures"] = new JsonArray("RobertaForSequenceClassification");
            c["id2label"] = new JsonObject { ["0"] = "negative", ["1"] = "positive" };
            c["label2id"] = new JsonObject { ["negative"] = 0, ["positive"] = 1 };
        });
        AppDomain.CurrentDomain.ProcessExit += (_, _) => checkpoint.Dispose();
        return checkpoint;
    });

    /// <summary>The model directory.</summary>
    public static string Directory => Checkpoint.Value.Directory;
}
