// The MixLens packages as a user sees them (tests/consumer, built by .ci/run from a local package feed).
// Usage: consumer MODEL_DIR FIXTURE.safetensors
// Loads the model, embeds the fixture's text three ways (EncoderModel.Embed, the IEmbeddingGenerator of
// MixLens.Extensions.AI) against the fixture's float64-reference sentence_embedding, and runs Value Zeroing
// (MixLens.Analysis). Prints one line; exits 1 when an embedding is off.
using Microsoft.Extensions.AI;
using MixLens.Analysis;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Engine.Tracing;
using MixLens.Extensions.AI;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: consumer MODEL_DIR FIXTURE.safetensors");
    return 2;
}
const string text = "The quick brown fox jumps over the lazy dog.";
const double tolerance = 1e-5;   // the embed command's tests

using var model = EncoderModel.Load(args[0]);
var encoding = model.Tokenize(text);
float[] embedding = model.Embed([encoding])[0];

using var fixture = SafeTensorsFile.Open(args[1]);
float[] expected = fixture.GetFloat32("sentence_embedding").ToArray();
double MaxAbsDiff(ReadOnlySpan<float> a)
{
    if (a.Length != expected.Length) return double.PositiveInfinity;
    double max = 0;
    for (int k = 0; k < a.Length; k++) max = Math.Max(max, Math.Abs((double)a[k] - expected[k]));
    return max;
}
double engineDiff = MaxAbsDiff(embedding);

using IEmbeddingGenerator<string, Embedding<float>> generator = new MixLensEmbeddingGenerator(model);
var generated = await generator.GenerateVectorAsync(text);
double generatorDiff = MaxAbsDiff(generated.Span);

var input = EncoderInput.From(encoding);
var (_, trace) = model.Encoder.Forward(input, TraceRequest.All);
Tensor vz = MixingMethods.Compute(MixingMethod.ValueZeroing, model.Encoder, input, trace);   // [L, n, n]
int last = model.Config.NumHiddenLayers - 1;

bool ok = engineDiff <= tolerance && generatorDiff <= tolerance;
Console.WriteLine($"consumer: {model.Name}, {encoding.Length} tokens; sentence embedding [{embedding.Length}] max |diff| to the fixture " +
    $"{engineDiff:G3} (EncoderModel.Embed), {generatorDiff:G3} (IEmbeddingGenerator); value zeroing, layer {last}: " +
    $"'{encoding.Tokens[4]}' draws {vz[last, 4, 3]:F2} on '{encoding.Tokens[3]}'; {(ok ? "ok" : $"FAILED (tolerance {tolerance})")}");
return ok ? 0 : 1;
