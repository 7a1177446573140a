using MixLens.Engine.Heads;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;

namespace MixLens.Fuzz;

/// <summary>
/// <c>config.json</c> of every family: the input is the file. It is parsed (<see cref="EncoderConfig.Load"/>), and a
/// config that parses is then checked against a real small checkpoint of its family from the shared folder
/// (bert-mlm-random, roberta-random, distilbert-random, electra-random): the encoder weights and every head are
/// resolved and shape-checked, and the encoder is built — so that no number in the config sizes an allocation
/// before the weights have confirmed it. Documented outcome: <see cref="ModelFormatException"/> naming config.json or
/// the weights file. The second stage is skipped when the shared folder is absent.
/// </summary>
public static class ConfigTarget
{
    public static FuzzTarget Target { get; } = new("config",
        "EncoderConfig.Load, then BertWeights.Load, the heads and BertEncoder against the family's shared checkpoint", Run);

    static readonly Dictionary<ModelFamily, SafeTensorsFile?> Checkpoints = [];

    static void Run(byte[] data)
    {
        string path = FuzzScratch.Write(FuzzScratch.Folder("config"), "config.json", data);
        FuzzRule.WithinAllocationBudget(data.Length, () =>
        {
            EncoderConfig? config = null;
            if (!FuzzRule.Expect(() => config = EncoderConfig.Load(path), ["config.json"], typeof(ModelFormatException)))
                return;
            var file = Checkpoint(config!.Family);
            if (file is null) return;
            FuzzRule.Expect(() =>
            {
                var names = new WeightNames(file, CheckpointLayout.For(config.Family));
                var weights = BertWeights.Load(names, config);
                _ = new BertEncoder(config, weights);
                Head(() => SequenceClassifier.TryLoad(names, config));
                Head(() => TokenClassifier.TryLoad(names, config));
                Head(() => MaskedLanguageModelHead.TryLoad(names, config, weights));
                Head(() => ReplacedTokenDetector.TryLoad(names, config));
            }, ["config.json", "model.safetensors"], typeof(ModelFormatException));
        });
    }

    /// <summary>A head that is present but malformed is refused with ModelFormatException (EncoderModel keeps the error).</summary>
    static void Head(Func<object?> load) =>
        FuzzRule.Expect(() => load(), ["config.json", "model.safetensors"], typeof(ModelFormatException));

    static SafeTensorsFile? Checkpoint(ModelFamily family)
    {
        lock (Checkpoints)
        {
            if (Checkpoints.TryGetValue(family, out var file)) return file;
            string model = family switch
            {
                ModelFamily.Roberta => "roberta-random",
                ModelFamily.DistilBert => "distilbert-random",
                ModelFamily.Electra => "electra-random",
                _ => "bert-mlm-random",
            };
            string path = Path.Combine(SharedFolder.Root, "models", model, "model.safetensors");
            return Checkpoints[family] = File.Exists(path) ? SafeTensorsFile.Open(path) : null;
        }
    }
}
